from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sop_shared.repository import Page
from sop_shared.types import Code, Money, Month, Quantity


class BudgetRow(BaseModel):
    """One budget cell: for a product or for a whole family (exactly one of the two)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    product: Code | None = None
    family: str | None = Field(default=None, min_length=1, max_length=100)
    month: Month
    quantity: Quantity
    revenue: Money = 0.0

    @model_validator(mode="after")
    def _one_node(self) -> BudgetRow:
        if (self.product is None) == (self.family is None):
            raise ValueError("give either product or family")
        return self

    @property
    def key(self) -> tuple[str, str, str]:
        if self.product is not None:
            return ("product", self.product, self.month)
        assert self.family is not None
        return ("family", self.family, self.month)


class BudgetRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    level: Literal["product", "family"]
    node: str
    month: str
    quantity: float
    revenue: float
    updated_by: str
    updated_at: datetime


class BudgetPage(Page[BudgetRead]):
    pass


class BudgetLoadResult(BaseModel):
    rows: int
    created: int
    updated: int
