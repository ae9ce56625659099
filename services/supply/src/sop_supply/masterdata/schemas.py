"""Rows accepted by the bulk feeds and what the list endpoints return."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from sop_shared.bulk import BulkRow
from sop_shared.repository import Page
from sop_shared.types import Code, Money, Month, Quantity

MAX_LEAD_TIME_MONTHS = 120
"""Longer than any plan horizon by far; beyond it a lead time is a unit or keying error."""

SafetyStockPolicy = Literal["fixed", "months_of_cover", "days_of_cover", "statistical"]


class BulkResult(BaseModel):
    """What a bulk feed applied (replayed as is for a retried Idempotency-Key)."""

    resource: str
    received: int = Field(description="Rows in the batch")
    created: int
    updated: int
    deleted: int = Field(default=0, description="Rows removed by a replacing feed")


# --- materials and suppliers -------------------------------------------------------------


class MaterialRow(BulkRow):
    code: Code
    name: str = Field(min_length=1, max_length=200)
    unit: str = Field(default="EA", min_length=1, max_length=20)
    family: str = Field(default="MATERIALS", min_length=1, max_length=100)
    unit_cost: Money = 0.0


class MaterialRead(MaterialRow):
    model_config = ConfigDict(from_attributes=True, extra="ignore")


class MaterialPage(Page[MaterialRead]):
    pass


class SupplierRow(BulkRow):
    code: Code
    name: str = Field(min_length=1, max_length=200)
    country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")


class SupplierRead(SupplierRow):
    model_config = ConfigDict(from_attributes=True, extra="ignore")


class SupplierPage(Page[SupplierRead]):
    pass


# --- item-site parameters ----------------------------------------------------------------


class ItemSiteRow(BulkRow):
    """Supply parameters of one item (product or material) at one site."""

    product: Code = Field(description="Product (read model) or material code")
    site: Code
    make_or_buy: Literal["make", "buy"]
    lead_time_months: int = Field(
        ge=0,
        le=MAX_LEAD_TIME_MONTHS,
        description="Whole months from release to receipt, at most 120 (10 years): a longer "
        "one is a unit mistake (days or weeks sent as months)",
    )
    lead_time_std_months: float | None = Field(
        default=None,
        ge=0,
        le=MAX_LEAD_TIME_MONTHS,
        description="Lead-time standard deviation (statistical policy)",
    )
    moq: Quantity = Field(default=0.0, description="Minimum order quantity")
    lot_multiple: Quantity = Field(default=0.0, description="Orders are multiples; 0 = none")
    ss_policy: SafetyStockPolicy = "fixed"
    ss_value: Quantity = Field(
        default=0.0,
        description="fixed: units; months_of_cover: months; days_of_cover: days; "
        "statistical: standard deviation of the monthly forecast error (units). For the "
        "statistical policy a value > 0 is the planner's σ and wins; 0 (the default) takes σ "
        "from the demand plan: the forecast_sigma of the item-site's first plan month",
    )
    review_period_months: float = Field(
        default=1.0,
        ge=0,
        le=MAX_LEAD_TIME_MONTHS,
        description="Months between two reviews of the item's orders, protected by the "
        "statistical safety stock on top of the lead time: 1 for a monthly plan (the "
        "default), 0 for an item reviewed continuously, 3 for one ordered quarterly",
    )
    service_level: float = Field(
        default=0.95, gt=0, lt=1, description="Target cycle service level (statistical policy)"
    )
    max_stock: Quantity | None = Field(
        default=None, description="Maximum stock; default safety stock + one month's lot"
    )
    unit_cost: Money | None = Field(
        default=None, description="Default: the product's or material's cost"
    )
    holding_cost_rate: float = Field(default=0.2, ge=0, le=5, description="Per year")
    shelf_life_months: int | None = Field(default=None, ge=1, le=1200)


class ItemSiteRead(ItemSiteRow):
    model_config = ConfigDict(from_attributes=True, extra="ignore")


class ItemSitePage(Page[ItemSiteRead]):
    pass


# --- positions ---------------------------------------------------------------------------


class InventoryRow(BulkRow):
    """Stock at the end of ``month``; ``on_hand`` includes the quantity on quality hold."""

    product: Code
    site: Code
    month: Month
    on_hand: Quantity
    in_transit: Quantity = 0.0
    quality_hold: Quantity = 0.0


class InventoryRead(InventoryRow):
    model_config = ConfigDict(from_attributes=True, extra="ignore")


class InventoryPage(Page[InventoryRead]):
    pass


class OpenSupplyRow(BulkRow):
    order_ref: Code
    kind: Literal["purchase", "production"]
    product: Code
    site: Code
    due_month: Month
    quantity: Quantity
    supplier: Code | None = None


class OpenSupplyRead(OpenSupplyRow):
    model_config = ConfigDict(from_attributes=True, extra="ignore")


class OpenSupplyPage(Page[OpenSupplyRead]):
    pass


# --- bills of material, contracts, budget --------------------------------------------------


class BomRow(BulkRow):
    product: Code = Field(description="The item made (a product, or a material made in house)")
    material: Code = Field(description="The component consumed")
    qty_per: Quantity = Field(gt=0, description="Component quantity per unit, scrap included")


class BomRead(BomRow):
    model_config = ConfigDict(from_attributes=True, extra="ignore")


class BomPage(Page[BomRead]):
    pass


class ContractRow(BulkRow):
    code: Code
    supplier: Code
    material: Code
    period_start: Month
    period_end: Month
    min_volume: Quantity = Field(default=0.0, description="Committed minimum over the period")
    max_volume: Quantity = Field(description="Committed maximum over the period")
    price: Money = 0.0


class ContractRead(ContractRow):
    model_config = ConfigDict(from_attributes=True, extra="ignore")


class ContractPage(Page[ContractRead]):
    pass


class SupplyBudgetRow(BulkRow):
    """A budget line for one product or one family (exactly one of them) in one month."""

    product: Code | None = None
    family: str | None = Field(default=None, min_length=1, max_length=100)
    month: Month
    volume: Quantity
    value: Money


class SupplyBudgetRead(BaseModel):
    product: str | None
    family: str | None
    month: str
    volume: float
    value: float


class SupplyBudgetPage(Page[SupplyBudgetRead]):
    pass
