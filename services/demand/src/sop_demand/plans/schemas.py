from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field, model_validator

from sop_shared.repository import Page
from sop_shared.types import Code, Month, Quantity, ScenarioCode


class PlanCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    cycle: Month
    scenario: ScenarioCode = "base"
    forecast_run_id: uuid.UUID | None = Field(
        default=None, description="Default: the cycle's frozen or latest succeeded run"
    )
    based_on: uuid.UUID | None = Field(
        default=None, description="Copy the lines of this version (a change of a submitted plan)"
    )
    note: str | None = Field(default=None, max_length=1000)


class PlanRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    cycle: str
    scenario: str
    version_no: int
    status: str
    forecast_run_id: uuid.UUID | None
    based_on_id: uuid.UUID | None
    parameters: dict[str, Any]
    note: str | None
    version: int = Field(description="Also the ETag; send it back in If-Match")
    lines: int
    total_quantity: float
    total_revenue: float
    created_by: str
    created_at: datetime
    submitted_by: str | None
    submitted_at: datetime | None
    approved_by: str | None
    approved_at: datetime | None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def lines_url(self) -> str:
        return f"/api/v1/demand-plans/{self.id}/lines"


class PlanPage(Page[PlanRead]):
    pass


class OverrideItem(BaseModel):
    """A new value for a product (optionally one site) or a whole family in one month."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    level: Literal["product", "family"] = "product"
    node: str = Field(min_length=1, max_length=100, description="Product code or family")
    site: Code | None = Field(default=None, description="Product level only; default all sites")
    month: Month
    quantity: Quantity | None = Field(default=None, description="The new total")
    change_pct: float | None = Field(default=None, ge=-100, le=1000, description="Or a change")

    @model_validator(mode="after")
    def _one_value(self) -> OverrideItem:
        if (self.quantity is None) == (self.change_pct is None):
            raise ValueError("give either quantity or change_pct")
        if self.site is not None and self.level != "product":
            raise ValueError("site applies to product overrides only")
        return self


class OverrideRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    reason: str = Field(min_length=3, max_length=1000, examples=["Tender won with ACME"])
    items: list[OverrideItem] = Field(min_length=1, max_length=2000)


class OverrideRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    plan_id: uuid.UUID
    plan_version: int
    level: str
    node: str
    site: str | None
    month: str
    old_quantity: float
    new_quantity: float
    reason: str
    created_by: str
    created_at: datetime


class OverridePage(Page[OverrideRead]):
    pass


class PlanLineRead(BaseModel):
    product: str
    family: str
    site: str
    month: str
    quantity: float
    revenue: float
    baseline: float
    adjusted: float
    price: float
    forecast_sigma: float | None = Field(
        description="Standard deviation of the monthly forecast error of the line (units): "
        "(hi_80 − lo_80) / (2 × 1.2815516) of the statistical forecast, split to the site "
        "like the quantity; null where no statistical forecast is behind the line (an NPI "
        "planned from its analog). Supply's statistical safety stock uses it."
    )


class PlanLinePage(Page[PlanLineRead]):
    pass


class SummaryRow(BaseModel):
    family: str
    month: str
    quantity: float
    revenue: float
    baseline: float
    budget_quantity: float | None
    budget_revenue: float | None


class Totals(BaseModel):
    quantity: float
    revenue: float
    budget_quantity: float | None = None
    budget_revenue: float | None = None


class PlanSummary(BaseModel):
    plan_id: uuid.UUID
    cycle: str
    scenario: str
    version_no: int
    status: str
    items: list[SummaryRow] = Field(description="Family × month")
    totals: Totals


class LatestEstimateRow(BaseModel):
    family: str
    month: str
    source: Literal["actual", "plan"]
    quantity: float
    revenue: float
    budget_quantity: float | None = Field(description="Null: the family has no budget this month")
    budget_revenue: float | None
    variance_quantity: float | None = Field(description="LE minus budget; null without budget")
    variance_revenue: float | None


class LatestEstimateTotal(BaseModel):
    family: str = Field(description="A family, or TOTAL")
    actual_quantity: float
    actual_revenue: float
    plan_quantity: float
    plan_revenue: float
    le_quantity: float = Field(description="Actuals year-to-date plus plan for the rest")
    le_revenue: float
    budget_coverage: float = Field(
        description="Share of the year's family × month cells that have a budget (1 = all; "
        "1/12 = one month of one family); only those cells are compared"
    )
    budget_months: int = Field(description="Months of the year with a budget")
    compared_quantity: float = Field(
        description="LE over the family × month cells that have a budget (the like-for-like "
        "figure the variance uses)"
    )
    compared_revenue: float
    budget_quantity: float | None = Field(description="Null when nothing is budgeted")
    budget_revenue: float | None
    variance_quantity: float | None = Field(description="compared_quantity − budget_quantity")
    variance_revenue: float | None
    variance_quantity_pct: float | None
    variance_revenue_pct: float | None


class LatestEstimate(BaseModel):
    plan_id: uuid.UUID
    year: int
    actuals_through: str | None = Field(description="Last month taken from actuals")
    items: list[LatestEstimateRow]
    families: list[LatestEstimateTotal]
    total: LatestEstimateTotal
