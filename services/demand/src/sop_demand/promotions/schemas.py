from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sop_shared.repository import Page
from sop_shared.types import Month, SignedQuantity


class PromotionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    name: str = Field(min_length=1, max_length=200, examples=["Summer BBQ"])
    level: Literal["product", "family"] = "product"
    node: str = Field(min_length=1, max_length=100, description="Product code or family")
    month_from: Month
    month_to: Month
    uplift_pct: float | None = Field(
        default=None, ge=-100, le=1000, description="Volume change in percent of the baseline"
    )
    uplift_quantity: SignedQuantity | None = Field(
        default=None, description="Extra volume per month (a family's is split by quantity)"
    )
    price_change_pct: float | None = Field(
        default=None, gt=-100, le=1000, description="Price change in percent (price plan)"
    )

    @model_validator(mode="after")
    def _meaningful(self) -> PromotionCreate:
        if self.month_to < self.month_from:
            raise ValueError("month_to must not be before month_from")
        if (
            self.uplift_pct is None
            and self.uplift_quantity is None
            and self.price_change_pct is None
        ):
            raise ValueError("give uplift_pct, uplift_quantity or price_change_pct")
        return self


class PromotionRead(PromotionCreate):
    model_config = ConfigDict(from_attributes=True, extra="ignore")

    id: int
    created_by: str
    created_at: datetime


class PromotionPage(Page[PromotionRead]):
    pass
