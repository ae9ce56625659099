from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from sop_shared.repository import Page
from sop_shared.types import Month


class CycleCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    month: Month


class CycleRead(CycleCreate):
    model_config = ConfigDict(from_attributes=True)

    status: str
    created_by: str
    version: int


class CyclePage(Page[CycleRead]):
    pass
