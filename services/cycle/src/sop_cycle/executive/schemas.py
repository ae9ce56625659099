from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sop_cycle.cycles.schemas import StepName
from sop_shared.events.catalog import PlanLink
from sop_shared.repository import Page
from sop_shared.types import ScenarioCode

Option = str


class DecisionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    topic: str = Field(min_length=1, max_length=300)
    options: list[Option] = Field(min_length=1, max_length=20)
    chosen_option: str | None = Field(default=None, max_length=300)
    owner: str | None = Field(default=None, max_length=200)
    due_date: date | None = None
    issue_id: str | None = Field(default=None, max_length=200, description="The issue decided on")
    notes: str | None = Field(default=None, max_length=4000)

    @model_validator(mode="after")
    def _chosen_is_an_option(self) -> DecisionCreate:
        if any(not o.strip() or len(o) > 300 for o in self.options):
            raise ValueError("options must be non-empty texts of at most 300 characters")
        if len(set(self.options)) != len(self.options):
            raise ValueError("options must be distinct")
        if self.chosen_option is not None and self.chosen_option not in self.options:
            raise ValueError("chosen_option must be one of the options")
        return self


class DecisionUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    topic: str | None = Field(default=None, min_length=1, max_length=300)
    options: list[Option] | None = Field(default=None, min_length=1, max_length=20)
    chosen_option: str | None = Field(default=None, max_length=300)
    owner: str | None = Field(default=None, max_length=200)
    due_date: date | None = None
    status: Literal["open", "decided", "deferred", "cancelled"] | None = None
    deferred_reason: str | None = Field(
        default=None,
        min_length=1,
        max_length=2000,
        description="Why the decision waits (required with status deferred)",
    )
    notes: str | None = Field(default=None, max_length=4000)


class DecisionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    topic: str
    options: list[str]
    chosen_option: str | None
    owner: str | None
    due_date: date | None
    status: str
    deferred_reason: str | None = None
    issue_id: str | None
    notes: str | None
    created_by: str
    decided_by: str | None
    version: int
    created_at: datetime
    updated_at: datetime


class DecisionPage(Page[DecisionRead]):
    pass


class ApproveRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    scenario: ScenarioCode = Field(
        default="base", description="The scenario whose plans are approved"
    )
    comment: str | None = Field(default=None, max_length=2000)


class SendBackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    step: StepName = Field(description="The step that reopens (not executive_sop itself)")
    comment: str = Field(min_length=1, max_length=2000)


class KpiPoint(BaseModel):
    """One cycle's KPIs (of its approved plan)."""

    month: str
    scenario: str
    computed_at: datetime
    fill_rate: float | None
    unmet_demand: float | None
    forecast_accuracy: float | None = Field(
        description="1 − WAPE of the plan made at `lag` for this month, vs actuals (lag 1: "
        "the plan of this month's own cycle; lag 2: the cycle before)"
    )
    forecast_bias: float | None = Field(description="Σ(forecast − actual) / Σactual")
    inventory_days: float | None
    inventory_value: float | None
    utilisation: float | None
    revenue: float | None
    gross_margin: float | None
    revenue_vs_budget: float | None = Field(description="Plan vs budget: revenue / budget − 1")
    quantity_vs_budget: float | None


class KpiSeries(BaseModel):
    lag: int
    points: list[KpiPoint]


class FinancialSummary(BaseModel):
    """The approved plans' totals, each the sum of one column of the lines the links serve."""

    demand_quantity: float | None = Field(description="Σ quantity of the demand plan's lines")
    planned_revenue: float | None = Field(description="Σ revenue of the demand plan's lines")
    production_quantity: float | None = Field(
        description="Σ quantity of the production plan's lines"
    )
    production_cost: float | None = Field(description="Σ cost of the production plan's lines")
    ending_inventory_value: float | None = Field(
        description="Σ inventory_value of the supply plan's lines in its last month"
    )
    average_inventory_value: float | None = Field(
        description="Σ inventory_value of the supply plan's lines / its number of months"
    )


class ApprovedPlanPart(PlanLink):
    kind: str = Field(description="demand, supply or production")
    status: str | None = Field(default=None, description="The plan's status when approved")


class ApprovedPlan(BaseModel):
    """The cycle's approved plan, in one place for an ERP: who, when, which three plan
    versions, where their lines are (paths under each service's base URL) and the money."""

    cycle: str
    scenario: str
    approved_by: str
    approved_at: datetime
    comment: str | None
    plans: dict[str, ApprovedPlanPart] = Field(description="demand, supply and production")
    financial: FinancialSummary
