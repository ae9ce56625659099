from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Field, SQLModel

ALL_PRODUCTS = ""
"""``product`` of a row that reports a resource-month as a whole."""


class ProductionHistory(SQLModel, table=True):
    """What a resource actually made and worked in a month (from the ERP's confirmations).

    ``product`` is empty for a resource-month total; per-product rows let the service
    compare output against routing hours (efficiency).
    """

    __tablename__ = "production_history"

    resource: str = Field(primary_key=True, max_length=64, foreign_key="resource.code")
    month: str = Field(primary_key=True, max_length=7, index=True)
    product: str = Field(primary_key=True, max_length=64, default=ALL_PRODUCTS)
    output_quantity: float
    hours_worked: float
    updated_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
