from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from sop_shared.repository import Page


class SiteCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    code: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$", examples=["PLANT-1"])
    name: str = Field(min_length=1, max_length=200)
    kind: Literal["plant", "dc", "warehouse", "copacker"] = "plant"
    country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")


class SiteRead(SiteCreate):
    model_config = ConfigDict(from_attributes=True)

    version: int


class SitePage(Page[SiteRead]):
    pass
