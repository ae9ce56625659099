from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Field, SQLModel


class DemandBudget(SQLModel, table=True):
    """The year's budget per product or per family and month (what LE is compared with)."""

    __tablename__ = "demand_budget"

    level: str = Field(primary_key=True, max_length=10)  # "product" | "family"
    node: str = Field(primary_key=True, max_length=100)
    month: str = Field(primary_key=True, max_length=7, index=True)
    quantity: float = 0.0
    revenue: float = 0.0
    updated_by: str = Field(default="system", max_length=200)
    updated_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
