from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel


class Lifecycle(StrEnum):
    npi = "npi"
    active = "active"
    phase_out = "phase_out"
    eol = "eol"


def utcnow() -> datetime:
    return datetime.now(UTC)


class Product(SQLModel, table=True):
    """A sellable item (SKU) with its place in the hierarchy and its lifecycle."""

    __tablename__ = "product"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=200)
    family: str = Field(max_length=100, index=True)
    category: str = Field(max_length=100, index=True)
    unit: str = Field(default="EA", max_length=20)
    price: float = Field(default=0.0)
    cost: float = Field(default=0.0)
    lifecycle: str = Field(default=Lifecycle.active, max_length=20)
    launch_date: date | None = None
    eol_date: date | None = None
    version: int = Field(default=1)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
