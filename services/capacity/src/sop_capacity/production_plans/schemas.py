from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from sop_capacity.production_plans.models import Strategy
from sop_shared.repository import Page
from sop_shared.types import Factor, Int32, Money, Month, Quantity, ScenarioCode


class RunParams(BaseModel):
    """What a production-plan job computes (stored as the job's params)."""

    supply_plan_id: str = Field(min_length=1, max_length=64)
    supply_plan_version: Int32 | None = None
    cycle: Month
    scenario: ScenarioCode = "base"
    strategy: Strategy = Strategy.optimal
    overtime_allowed: bool | None = Field(
        default=None, description="False forbids overtime for this run; None follows the scenario"
    )
    holding_rate_per_month: Factor | None = Field(
        default=None, description="Holding cost per unit-month as a share of product cost"
    )
    backorder_rate_per_month: Factor | None = Field(
        default=None, description="Backorder cost per unit-month as a share of product price"
    )
    holding_cost: dict[str, Money] = Field(
        default_factory=dict,
        description="Holding cost in money per unit and month, by product code or family "
        "(a product's own entry wins over its family's; others: the rate above)",
    )
    backorder_cost: dict[str, Money] = Field(
        default_factory=dict,
        description="Backorder cost in money per unit and month, by product code or family",
    )
    ending_inventory: dict[str, Quantity] = Field(
        default_factory=dict,
        description="Stock required at the end of the horizon, per product-site, by product "
        "code or family (optimal plan)",
    )
    ending_backorder_max: dict[str, Quantity] = Field(
        default_factory=dict,
        description="Most backlog left at the end of the horizon, per product-site, by "
        "product code or family (0: every unit made by then; optimal plan)",
    )
    integer_workforce: bool = Field(
        default=False,
        description="Hire, release and keep whole people (the optimal plan is then a MIP, "
        "solved within the service's time limit; model_size.mip_gap reports its gap)",
    )


class ProductionPlanRequest(RunParams):
    """A manual run: plan the supply plan's requirements with the chosen strategy."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class ProductionPlanRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    cycle: str
    scenario: str
    version: int
    supply_plan_id: str
    supply_plan_version: int | None
    strategy: str
    status: str
    solve_status: str
    solve_message: str | None
    first_month: str
    last_month: str
    costs: dict[str, float] = Field(description="Cost breakdown of this plan (total included)")
    comparison: dict[str, Any] = Field(
        description="Per strategy computed on the same inputs: costs and headline figures"
    )
    totals: dict[str, Any]
    warnings: list[str]
    model_size: dict[str, Any]
    overtime_allowed: bool
    build_seconds: float
    solve_seconds: float
    write_seconds: float
    trigger: str
    job_id: uuid.UUID | None
    created_by: str
    created_at: datetime
    frozen_at: datetime | None
    frozen_by: str | None


class ProductionPlanPage(Page[ProductionPlanRead]):
    pass


class PlanLineRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    product: str
    site: str
    month: str
    resource: str = Field(description="The resource of the production method")
    quantity: float
    hours: float
    cost: float


class PlanLinePage(Page[PlanLineRead]):
    pass


class PositionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    product: str
    site: str
    month: str
    requirement: float
    production: float
    inventory: float = Field(description="Stock built ahead of supply's plan, month end")
    backorder: float = Field(description="Demand not yet made, month end")
    safety_stock: float = Field(description="Supply's safety-stock target")
    safety_stock_shortfall: float = Field(
        description="Safety stock not rebuilt: the soft part of the requirement that gave way"
    )
    short_of: str | None = Field(
        default=None,
        description="Materials (material@site, space-separated) whose supply limits the "
        "product: it is backordered for lack of them",
    )


class PositionPage(Page[PositionRead]):
    pass


class MaterialRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    material: str
    site: str
    month: str
    opening: float
    receipts: float = Field(description="Open purchase orders due this month")
    purchases: float = Field(
        description="New purchases arriving this month (lead time and contract maxima respected)"
    )
    used: float = Field(description="Used by the production released this month")
    closing: float = Field(description="Month-end stock, never negative")
    value: float = Field(description="Shadow price: plan cost saved per unit more available")
    binding: bool = Field(description="The material limits the plan this month")


class MaterialPage(Page[MaterialRead]):
    pass


class LoadRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    resource: str
    month: str
    available_hours: float | None
    capacity_hours: float | None = Field(description="Regular plus allowed overtime hours")
    rccp_load_hours: float = Field(description="Before: rough-cut load on preferred methods")
    rccp_utilisation: float | None
    hours_used: float = Field(description="After: hours the plan uses")
    regular_hours: float
    overtime_hours: float
    utilisation: float | None
    binding: bool = Field(description="At its limit in this plan (machine or crew)")
    overloaded: bool = Field(description="Above what it can give (heuristic plans only)")
    unavailable: bool
    crew_hours: float | None
    crew_hours_used: float | None
    headcount: float | None
    hires: float | None
    fires: float | None


class LoadPage(Page[LoadRead]):
    pass


class UtilisationCell(BaseModel):
    """A resource-month before (rough-cut on preferred methods) and after the plan."""

    resource: str
    month: str
    available_hours: float | None
    capacity_hours: float | None
    before_load_hours: float
    before_utilisation: float | None
    hours_used: float
    regular_hours: float
    overtime_hours: float
    utilisation: float | None
    binding: bool
    overloaded: bool
    unavailable: bool


class Bottleneck(BaseModel):
    resource: str
    month: str
    limit: str = Field(description="machine (hours + overtime) or crew (headcount x hours)")
    hours_used: float
    capacity_hours: float | None
    utilisation: float | None


class CrewMonth(BaseModel):
    pool: str
    month: str
    headcount: float
    hires: float
    fires: float
    crew_hours: float | None
    crew_hours_used: float | None


class CrewChange(BaseModel):
    """How a labour pool's headcount moves over the plan."""

    pool: str
    start_headcount: float
    end_headcount: float
    peak_headcount: float
    hires: float
    fires: float
    months: list[CrewMonth]


class OvertimeByResource(BaseModel):
    resource: str
    hours: float


class Overtime(BaseModel):
    total_hours: float
    cost: float
    by_resource: list[OvertimeByResource]


class BindingResource(BaseModel):
    resource: str
    months: list[str]


class UnmetDemand(BaseModel):
    """A product-site whose requirement is (partly) late or never made, and why."""

    product: str
    site: str
    backordered_unit_months: float
    peak_backorder: float
    ending_backorder: float = Field(description="Still unmade at the end of the horizon")
    months: list[str] = Field(description="Months ending with a backlog")
    binding: list[BindingResource] = Field(
        description="Its resources (or their crews) at their limit up to its last late month"
    )
    unplannable: bool = Field(
        default=False,
        description="No usable production method (no routing at its site, or no hours on its "
        "resources in any month): every strategy backorders all of it",
    )
    reason: str


class UnmetSummary(BaseModel):
    ending_backorder: float
    backordered_unit_months: float
    products: int
    items: list[UnmetDemand]


class SafetyStockGap(BaseModel):
    """A product-site whose safety stock the plan does not (fully) rebuild."""

    product: str
    site: str
    shortfall_unit_months: float
    peak_shortfall: float
    ending_shortfall: float = Field(description="Safety stock still missing at the end")
    months: list[str] = Field(description="Months ending below supply's safety-stock level")


class SafetyStockSummary(BaseModel):
    """Where the soft safety-stock top-up gave way to capacity (before any backorder)."""

    shortfall_unit_months: float
    cost: float = Field(description="The plan's shortfall cost (cost breakdown 'shortfall')")
    products: int
    items: list[SafetyStockGap]


class StrategyFigures(BaseModel):
    strategy: str
    total_cost: float | None = None
    costs: dict[str, float] = Field(default_factory=dict)
    production: float | None = None
    backordered_unit_months: float | None = None
    ending_backorder: float | None = None
    safety_stock_shortfall_unit_months: float | None = None
    overtime_hours: float | None = None
    hires: float | None = None
    fires: float | None = None
    overloaded_cells: int | None = None
    overload_hours: float | None = Field(
        default=None, description="Hours planned beyond what the resources can give"
    )
    solve_status: str | None = None
    rounding: dict[str, float] | None = Field(
        default=None,
        description="Effect of rounding the plan to lots: units_added, hours_added, "
        "cost_added, overloaded_cells_added",
    )
    error: str | None = None


class ProductionPlanSummary(BaseModel):
    """What the cycle's pre-S&OP view needs from a production plan (CONTRACTS.md)."""

    plan_id: uuid.UUID
    cycle: str
    scenario: str
    version: int
    strategy: str
    status: str
    supply_plan_id: str
    costs: dict[str, float]
    utilisation: list[UtilisationCell]
    bottlenecks: list[Bottleneck]
    overtime: Overtime
    headcount: list[CrewMonth]
    unmet_demand: UnmetSummary
    safety_stock: SafetyStockSummary


class ProductionReview(BaseModel):
    """S&OP step 5 in one document: before/after, crews, overtime, cost, unmet demand, safety
    stock not rebuilt, options."""

    plan: ProductionPlanRead
    comparison: list[StrategyFigures]
    utilisation: list[UtilisationCell]
    bottlenecks: list[Bottleneck]
    workforce: list[CrewChange]
    overtime: Overtime
    unmet_demand: UnmetSummary
    safety_stock: SafetyStockSummary
