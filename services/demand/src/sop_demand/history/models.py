from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from sop_shared.jsontype import JsonColumnType


def utcnow() -> datetime:
    return datetime.now(UTC)


class SalesLoad(SQLModel, table=True):
    """One accepted history batch: who loaded which months, for audit and freshness."""

    __tablename__ = "sales_load"

    id: int | None = Field(default=None, primary_key=True)
    mode: str = Field(max_length=20)
    rows: int
    months: list[str] = Field(
        default_factory=list, sa_column=Column(JsonColumnType, nullable=False)
    )
    replaced_rows: int = 0
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow)


class SalesHistory(SQLModel, table=True):
    """Sales per product × site × channel × month (channel ``""`` when the feed has none).

    No surrogate key and no foreign key: 1,000,000-row batches are written with COPY, and
    the batch is validated against the product table before anything is written.
    """

    __tablename__ = "sales_history"

    product: str = Field(primary_key=True, max_length=64)
    site: str = Field(primary_key=True, max_length=64)
    channel: str = Field(default="", primary_key=True, max_length=64)
    month: str = Field(primary_key=True, max_length=7, index=True)
    quantity: float
    revenue: float
    load_id: int | None = None
