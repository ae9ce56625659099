from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Field, SQLModel


class Promotion(SQLModel, table=True):
    """A promotion or price plan for a product or a family over a month range.

    A price plan is a row with only ``price_change_pct``; a promotion carries an uplift in
    percent and/or in volume per month (and may change the price too).
    """

    __tablename__ = "promotion"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    level: str = Field(max_length=10)  # "product" | "family"
    node: str = Field(max_length=100, index=True)
    month_from: str = Field(max_length=7)
    month_to: str = Field(max_length=7)
    uplift_pct: float | None = None
    uplift_quantity: float | None = None
    price_change_pct: float | None = None
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
