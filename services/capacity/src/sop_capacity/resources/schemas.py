from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from sop_shared.repository import Page


class ResourceCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$", examples=["LINE-1"])
    name: str = Field(min_length=1, max_length=200)
    site: str = Field(min_length=1, max_length=64)
    kind: Literal["line", "work_centre", "labour_pool", "copacker"] = "line"
    labour_pool: str | None = Field(default=None, max_length=64)


class ResourceRead(ResourceCreate):
    model_config = ConfigDict(from_attributes=True)

    version: int


class ResourcePage(Page[ResourceRead]):
    pass
