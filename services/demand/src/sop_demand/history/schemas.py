from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from sop_shared.repository import Page
from sop_shared.types import Code, Money, Month, Quantity

COLUMNS = ("product", "site", "channel", "month", "quantity", "revenue")


#: replace: the batch's months are replaced whole; merge: only the batch's keys.
LoadMode = Literal["replace", "merge"]


class SalesRow(BaseModel):
    """One row of a sales-history feed (documents the bulk body; parsing is vectorised)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    product: Code
    site: Code
    channel: Code | Literal[""] | None = Field(
        default=None, description="Optional sales channel; blank or null: none"
    )
    month: Month
    quantity: Quantity
    revenue: Money | None = Field(
        default=None, description="Blank: quantity × the product's list price"
    )


class SalesRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    product: str
    site: str
    channel: str | None
    month: str
    quantity: float
    revenue: float


class SalesPage(Page[SalesRead]):
    pass


class SalesLoadRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    mode: LoadMode
    rows: int = Field(description="Rows written by this batch")
    months: list[str] = Field(description="Months the batch touched")
    replaced_rows: int = Field(description="Stored rows the batch replaced")
    created_by: str
    created_at: datetime


class SalesLoadPage(Page[SalesLoadRead]):
    pass
