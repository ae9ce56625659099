from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from sop_shared.repository import Page
from sop_shared.types import Month


class UnavailableResource(BaseModel):
    """A resource switched off by a scenario; no months means the whole horizon."""

    model_config = ConfigDict(extra="ignore")

    resource: str = Field(min_length=1, max_length=64)
    months: list[Month] = Field(default_factory=list)


class CapacityParameters(BaseModel):
    """The part of a scenario's parameters that capacity acts on (the rest is ignored)."""

    model_config = ConfigDict(extra="ignore")

    unavailable_resources: list[UnavailableResource] = Field(default_factory=list)
    overtime_allowed: bool | None = None


class ScenarioSettingRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    cycle: str
    scenario: str
    name: str
    status: str
    overtime_allowed: bool | None
    unavailable_resources: list[dict[str, Any]]
    parameters: dict[str, Any]
    event_time: datetime


class ScenarioSettingPage(Page[ScenarioSettingRead]):
    pass
