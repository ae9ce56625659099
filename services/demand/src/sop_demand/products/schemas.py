from __future__ import annotations

import json
import re
from datetime import date
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from sop_demand.products.models import Lifecycle
from sop_shared.repository import Page
from sop_shared.types import CODE_PATTERN, Factor, Money

MAX_CURVE = 36


def _curve(value: Any) -> Any:
    """A launch curve from JSON, or from CSV as ``0.2|0.5|0.8`` (also ``;``, ``,`` or spaces)."""
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        if text.startswith("["):
            return json.loads(text)
        return [part for part in re.split(r"[|;,\s]+", text) if part]
    return value


LaunchCurve = Annotated[
    Annotated[list[Annotated[float, Field(ge=0, le=10)]], Field(max_length=MAX_CURVE)] | None,
    BeforeValidator(_curve),
    Field(
        description="Share of the analog's mature volume in each month from launch "
        "(month 0 first); 1.0 after the curve ends. CSV: 0.2|0.5|0.8",
        examples=[[0.2, 0.5, 0.8]],
    ),
]


class LifecycleFields(BaseModel):
    """NPI and end-of-life attributes, the same on create, change and bulk upsert."""

    analog_code: str | None = Field(
        default=None, pattern=CODE_PATTERN, description="Like-for-like product an NPI follows"
    )
    scaling_factor: Factor = Field(default=1.0, description="NPI volume vs the analog")
    launch_curve: LaunchCurve = None
    launch_probability: float = Field(
        default=1.0, ge=0, le=1, description="Chance the launch happens (NPI funnel)"
    )
    successor_code: str | None = Field(
        default=None, pattern=CODE_PATTERN, description="Product that inherits this history"
    )
    rundown_months: int = Field(
        default=0, ge=0, le=36, description="Months of linear decline before the EOL date"
    )


class ProductBase(LifecycleFields):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    name: str = Field(min_length=1, max_length=200)
    family: str = Field(min_length=1, max_length=100)
    category: str = Field(min_length=1, max_length=100)
    unit: str = Field(default="EA", min_length=1, max_length=20)
    price: Money = 0.0
    cost: Money = 0.0
    lifecycle: Lifecycle = Lifecycle.active
    launch_date: date | None = None
    eol_date: date | None = None

    @model_validator(mode="after")
    def _dates_in_order(self) -> ProductBase:
        if self.launch_date and self.eol_date and self.eol_date < self.launch_date:
            raise ValueError("eol_date must not be before launch_date")
        return self


class ProductCreate(ProductBase):
    code: str = Field(pattern=CODE_PATTERN, examples=["SKU-1001"])


class ProductUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    name: str | None = Field(default=None, min_length=1, max_length=200)
    family: str | None = Field(default=None, min_length=1, max_length=100)
    category: str | None = Field(default=None, min_length=1, max_length=100)
    unit: str | None = Field(default=None, min_length=1, max_length=20)
    price: Money | None = None
    cost: Money | None = None
    lifecycle: Lifecycle | None = None
    launch_date: date | None = None
    eol_date: date | None = None
    analog_code: str | None = Field(default=None, pattern=CODE_PATTERN)
    scaling_factor: Factor | None = None
    launch_curve: LaunchCurve = None
    launch_probability: float | None = Field(default=None, ge=0, le=1)
    successor_code: str | None = Field(default=None, pattern=CODE_PATTERN)
    rundown_months: int | None = Field(default=None, ge=0, le=36)


class ProductUpsert(ProductUpdate):
    """One row of an ERP product feed: the code plus the fields it carries.

    Fields absent from a row keep their stored value; a new product needs name, family
    and category.
    """

    code: str = Field(pattern=CODE_PATTERN, examples=["SKU-1001"])

    @model_validator(mode="after")
    def _dates_in_order(self) -> ProductUpsert:
        if self.launch_date and self.eol_date and self.eol_date < self.launch_date:
            raise ValueError("eol_date must not be before launch_date")
        return self


class ProductRead(ProductCreate):
    model_config = ConfigDict(extra="ignore", from_attributes=True)

    version: int


class ProductPage(Page[ProductRead]):
    pass


class ProductBulkResult(BaseModel):
    rows: int
    created: int
    updated: int
    unchanged: int
    changed_codes: list[str] = Field(
        default_factory=list, description="Products created or changed (first 1,000)"
    )
