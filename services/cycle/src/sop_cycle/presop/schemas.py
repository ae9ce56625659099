from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from sop_cycle.cycles.schemas import PlanRefRead

Num = float | None


class FamilyMonth(BaseModel):
    """Demand against constrained supply for one family and month, with its money."""

    family: str
    month: str
    demand: Num
    supply: Num
    unmet: Num
    fill_rate: Num
    planned_revenue: Num
    revenue: Num = Field(description="Revenue the constrained supply can deliver")
    cogs: Num
    gross_margin: Num
    budget_quantity: Num
    budget_revenue: Num
    closing_stock: Num
    safety_stock: Num = Field(description="Inventory target")
    inventory_value: Num


class MonthTotals(BaseModel):
    month: str
    demand: Num
    supply: Num
    unmet: Num
    fill_rate: Num
    planned_revenue: Num
    revenue: Num
    cogs: Num
    gross_margin: Num
    budget_quantity: Num
    budget_revenue: Num
    closing_stock: Num
    safety_stock: Num
    inventory_value: Num
    load_hours: Num
    available_hours: Num
    utilisation: Num


class ResourceMonth(BaseModel):
    resource: str
    month: str
    load_hours: Num
    available_hours: Num
    utilisation: Num
    overtime_hours: Num
    overloaded: bool


class Issue(BaseModel):
    id: str
    type: str = Field(
        description="shortage | bottleneck | inventory_below_target | contract | budget_gap"
    )
    subject: str
    severity: str
    months: list[str]
    value: float
    detail: str


class ProposedDecision(BaseModel):
    issue_id: str
    topic: str
    options: list[str]
    suggested_owner_role: str


class OpenDecision(BaseModel):
    id: int
    topic: str
    options: list[str]
    chosen_option: str | None
    owner: str | None
    due_date: str | None
    status: str


PlanState = Annotated[
    Literal["ready", "computing", "unavailable"],
    Field(
        description="ready: every plan known, settled and fetched; computing: the "
        "scenario's own plans are still being computed (a what-if scenario then shows no "
        "numbers); unavailable: a service did not answer"
    ),
]


class PreSopView(BaseModel):
    """Step 6: one scenario's plan reconciled across demand, supply and capacity."""

    cycle: str
    scenario: str
    status: PlanState
    ready: bool = Field(description="Every plan of the chain is known, settled and fetched")
    missing: list[str]
    warnings: list[str]
    generated_at: datetime
    plans: dict[str, PlanRefRead | None]
    kpis: dict[str, float | None]
    demand_vs_supply: list[FamilyMonth]
    months: list[MonthTotals]
    capacity: list[ResourceMonth]
    bottlenecks: list[dict[str, Any]]
    capacity_costs: dict[str, float]
    overtime: dict[str, float] = Field(description="Overtime hours and cost of the production plan")
    capacity_unmet: dict[str, Any] = Field(
        description="Demand the production plan cannot make: totals and products with reasons"
    )
    contract_issues: list[dict[str, Any]]
    exceptions: dict[str, Any]
    issues: list[Issue]
    proposed_decisions: list[ProposedDecision]
    open_decisions: list[OpenDecision]
