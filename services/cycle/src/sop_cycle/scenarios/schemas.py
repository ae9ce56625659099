from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from sop_cycle.cycles.schemas import PlanRefRead
from sop_cycle.presop.schemas import PlanState
from sop_shared.repository import Page
from sop_shared.types import Month, ScenarioCode

Pct = Annotated[float, Field(gt=-100, le=1000, description="Change in percent, e.g. -10")]


class UnavailableResource(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    resource: str = Field(min_length=1, max_length=64)
    months: list[Month] = Field(min_length=1)


class ScenarioParameters(BaseModel):
    """What-if parameters (CONTRACTS.md); each is optional and read by one service."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    demand_change_pct: dict[str, Pct] = Field(
        default_factory=dict, description="Demand change per family, in percent (demand)"
    )
    service_level: float | None = Field(
        default=None,
        gt=0,
        lt=1,
        description="Target cycle service level for every item-site (supply)",
    )
    unavailable_resources: list[UnavailableResource] = Field(
        default_factory=list, description="Resources down in some months (capacity)"
    )
    overtime_allowed: bool | None = Field(default=None, description="Overtime allowed (capacity)")

    def contract(self) -> dict[str, Any]:
        """The parameters as the event carries them: only those set."""
        return self.model_dump(mode="json", exclude_none=True)


class ScenarioCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    code: ScenarioCode
    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    parameters: ScenarioParameters = Field(default_factory=ScenarioParameters)


class ScenarioUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    parameters: ScenarioParameters | None = None
    status: Literal["active", "archived"] | None = None


class ScenarioRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    description: str | None
    parameters: dict[str, Any]
    status: str
    created_by: str
    version: int
    created_at: datetime
    updated_at: datetime


class ScenarioPage(Page[ScenarioRead]):
    pass


class ScenarioKpis(BaseModel):
    code: str
    name: str
    parameters: dict[str, Any]
    status: PlanState
    ready: bool = Field(description="Demand, supply and production plans are all known and fetched")
    missing: list[str]
    plans: dict[str, PlanRefRead | None]
    kpis: dict[str, float | None]
    delta_vs_base: dict[str, float | None]
    warnings: list[str]


class ScenarioComparison(BaseModel):
    cycle: str
    kpis: list[str] = Field(description="KPI names, in display order")
    scenarios: list[ScenarioKpis]
