"""Requests and answers of the supply-plan endpoints, and the job's parameters."""

from __future__ import annotations

import math
import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from sop_shared.repository import Page
from sop_shared.types import Month, ScenarioCode


def finite_or_none(value: float | None) -> float | None:
    """Infinity (no maximum, stock without forward demand) is null in JSON."""
    return None if value is None or math.isinf(value) or math.isnan(value) else value


class PlanRunRequest(BaseModel):
    """Compute a supply plan for a demand plan now (the demand event does it by itself)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    demand_plan_id: str = Field(min_length=1, max_length=64)
    cycle: Month
    scenario: ScenarioCode = "base"


class PlanJobParams(BaseModel):
    """What a ``supply-plan`` job computes (stored as the job's params)."""

    mode: Literal["unconstrained", "constrained"] = "unconstrained"
    cycle: str
    scenario: str = "base"
    demand_plan_id: str
    demand_plan_version: int | None = None
    demand_lines_url: str | None = None
    base_supply_plan_id: str | None = None
    production_plan_id: str | None = None


class SupplyPlanRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    cycle: str
    scenario: str
    version: int
    demand_plan_id: str
    demand_plan_version: int | None
    status: str = Field(description="unconstrained | constrained")
    based_on_production_plan_id: str | None
    base_supply_plan_id: uuid.UUID | None
    horizon_start: str
    horizon_end: str
    months: int
    service_level_override: float | None
    totals: dict[str, float]
    counts: dict[str, int]
    approved: bool
    approved_at: datetime | None
    approved_by: str | None
    created_by: str
    created_at: datetime


class SupplyPlanPage(Page[SupplyPlanRead]):
    pass


class PlanLineRead(BaseModel):
    """One item-site × month of the plan (see the contract in docs/CONTRACTS.md)."""

    product: str
    site: str
    month: str
    kind: str = Field(description="product | material")
    make_or_buy: str
    family: str
    demand: float = Field(description="Gross requirement: independent + dependent demand")
    dependent_demand: float
    opening: float
    scheduled: float = Field(description="Open orders due in the month")
    receipts: float = Field(description="Scheduled + planned receipts")
    planned: float = Field(description="Planned receipts (same as planned_receipts)")
    planned_receipts: float
    planned_releases: float = Field(description="Orders to release in the month")
    closing: float
    safety_stock: float
    max_stock: float | None
    shortage: float
    excess: float
    days_of_supply: float | None
    inventory_value: float

    @field_validator("max_stock", "days_of_supply", mode="before")
    @classmethod
    def _finite(cls, value: Any) -> Any:
        return finite_or_none(value)


class PlanLinePage(Page[PlanLineRead]):
    pass


# The item-site's lot rule, sent with every requirement so the receiver rounds to it.
LotMinimum = Annotated[
    float, Field(description="The item-site's minimum order: every quantity is 0 or at least this")
]
LotMultiple = Annotated[
    float,
    Field(
        description="The item-site's lot multiple: every quantity is a whole number of it "
        "(0: of whole units)"
    ),
]


class ProductionRequirementRead(BaseModel):
    """What capacity needs per make item-site × month."""

    product: str
    site: str
    month: str
    family: str
    quantity: float = Field(description="Production to complete in the month (planned receipts)")
    release_quantity: float = Field(description="Production to start in the month")
    demand: float
    scheduled: float = Field(description="Open production orders due in the month")
    safety_stock: float
    opening_stock: float
    closing_stock: float
    moq: LotMinimum = 0.0
    lot_multiple: LotMultiple = 0.0


class ProductionRequirementPage(Page[ProductionRequirementRead]):
    pass


class PurchaseRequirementRead(BaseModel):
    """What purchasing needs per buy item-site × month: traded products and materials."""

    product: str = Field(description="The item bought: a product or a material")
    kind: str = Field(description="product | material")
    site: str
    month: str
    family: str
    quantity: float = Field(description="Purchases to receive in the month (planned receipts)")
    order_quantity: float = Field(
        description="Purchase orders to place in the month (planned receipts offset by the "
        "lead time)"
    )
    value: float = Field(description="quantity × unit cost")
    demand: float = Field(description="Gross requirement: independent + dependent demand")
    scheduled: float = Field(description="Open purchase orders due in the month")
    safety_stock: float
    opening_stock: float
    closing_stock: float
    shortage: float
    moq: LotMinimum = 0.0
    lot_multiple: LotMultiple = 0.0


class PurchaseRequirementPage(Page[PurchaseRequirementRead]):
    pass


class MaterialRequirementRead(BaseModel):
    """Gross and net requirements of a material at a site in a month."""

    material: str
    site: str
    month: str
    family: str
    gross_requirement: float = Field(description="Dependent (+ any independent) demand")
    dependent_demand: float
    scheduled: float = Field(description="Open purchase orders due")
    planned_receipts: float
    planned_orders: float = Field(description="Purchase orders to release in the month")
    opening: float
    closing: float
    shortage: float


class MaterialRequirementPage(Page[MaterialRequirementRead]):
    pass


ExceptionKind = Literal[
    "stockout",
    "below_safety_stock",
    "above_max",
    "shelf_life_at_risk",
    "release_past_due",
    "contract_under_use",
    "contract_over_use",
]


class ExceptionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    kind: str
    product: str
    site: str | None = Field(description="Null for a contract exception (all sites)")
    scope: Literal["item_site", "all_sites"] = Field(
        description="item_site: about one item-site; all_sites: a contract, which pools the "
        "material's purchases at every site"
    )
    sites: list[str] = Field(
        description="item_site: [site]; all_sites: the sites buying the material in the "
        "contract's period (none: no site buys it). CSV: space-separated"
    )
    family: str
    month: str
    size: float = Field(
        description="Units: backlog, gap to safety stock, excess, surplus at risk, the receipt "
        "whose release is past due (release_past_due: month = the receipt's month), the "
        "contract's shortfall or excess"
    )
    value: float = Field(description="Size at unit cost (contracts: at the contract price)")
    reference: str | None = Field(description="The contract, for contract exceptions")


class ExceptionPage(Page[ExceptionRead]):
    pass


class ContractReviewRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    contract: str
    supplier: str
    material: str
    family: str
    period_start: str
    period_end: str
    months_in_period: int
    months_in_horizon: int
    min_volume: float
    max_volume: float
    price: float
    planned_volume: float = Field(description="Purchases of the material in the period")
    allocated_volume: float = Field(description="Of which under this contract")
    shortfall: float = Field(
        description="Committed minimum not used (status under); partial: minimum not yet "
        "covered inside the horizon; no_buy_item: the whole unused minimum"
    )
    excess: float = Field(description="Volume over the maximum")
    shortfall_value: float
    excess_value: float
    status: Literal["ok", "under", "over", "partial", "no_buy_item"] = Field(
        description="ok | under (minimum not met) | over (maximum exceeded) | partial (period "
        "beyond the horizon: the shortfall is not judged) | no_buy_item (no buy item-site of "
        "the material in the plan, e.g. a product made in house: nothing can be bought under "
        "the contract; a master-data gap, its shortfall is not judged)"
    )


class ContractReview(BaseModel):
    plan_id: uuid.UUID
    items: list[ContractReviewRead]
    shortfall_value: float = Field(
        description="Shortfall value of the judged contracts only (status under)"
    )
    excess_value: float
    partial_count: int = Field(description="Contracts whose period runs beyond the horizon")
    partial_shortfall_value: float = Field(
        description="Minimum of the partial contracts not yet covered inside the horizon (not "
        "a judged shortfall: the rest of the period may still meet it)"
    )
    no_buy_item_count: int = Field(
        description="Contracts on a material with no buy item-site in the plan"
    )


class SummaryRow(BaseModel):
    family: str
    month: str
    demand: float
    supply: float = Field(description="Scheduled + planned receipts")
    production: float
    purchases: float
    shortage: float
    closing_stock: float
    safety_stock: float
    excess: float
    inventory_value: float
    exceptions: dict[str, int]
    contract_issues: int


class PlanSummary(BaseModel):
    plan: SupplyPlanRead
    rows: list[SummaryRow]


class BudgetRow(BaseModel):
    key: str = Field(description="Product or family")
    month: str
    le_volume: float = Field(description="Latest estimate: scheduled + planned receipts")
    le_value: float = Field(description="LE volume at unit cost")
    budget_volume: float | None
    budget_value: float | None
    variance_volume: float | None = Field(description="LE − budget")
    variance_value: float | None
    inventory_value: float = Field(description="Projected closing inventory value")


class BudgetComparison(BaseModel):
    plan_id: uuid.UUID
    level: Literal["family", "product"]
    budget_coverage: float = Field(
        description="Share of the keys × plan months with a budget (only those are compared)"
    )
    budget_months: list[str] = Field(description="The plan's months with any budget")
    rows: list[BudgetRow]
    total: int
    limit: int
    offset: int


class ScenarioRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    cycle: str
    scenario: str
    name: str
    status: str
    service_level: float | None = Field(description="Overrides every item-site's target CSL")
    parameters: dict[str, Any]
    updated_at: datetime


class ScenarioPage(Page[ScenarioRead]):
    pass


class MaterialPosition(BaseModel):
    material: str
    site: str
    lead_time_months: int = Field(description="Purchase lead time: a new order arrives no sooner")
    opening_stock: float = Field(description="Stock available at the start of the first month")
    scheduled_receipts: list[float] = Field(
        description="Open purchase orders due per month of ``months`` (overdue ones in the first)"
    )


class MaterialBomLine(BaseModel):
    product: str
    material: str
    qty_per: float


class ProductLeadTime(BaseModel):
    product: str
    site: str
    lead_time_months: int = Field(
        description="Months between the release of the product's order (when its materials "
        "are used) and its completion"
    )


class MaterialContract(BaseModel):
    contract: str
    material: str
    period_start: str
    period_end: str
    max_volume: float = Field(description="Most units purchasable in the period (every site)")


class MaterialConstraints(BaseModel):
    """What limits production on the material side, for the capacity plan: the purchased
    materials of the plan's bills of material, their stock, open orders and lead times, and
    the contract maxima on them."""

    plan_id: uuid.UUID
    months: list[str]
    materials: list[MaterialPosition]
    bom: list[MaterialBomLine]
    product_lead_times: list[ProductLeadTime]
    contracts: list[MaterialContract]
