from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from sop_shared.jsontype import JsonColumnType


class Lifecycle(StrEnum):
    npi = "npi"
    active = "active"
    phase_out = "phase_out"
    eol = "eol"


def utcnow() -> datetime:
    return datetime.now(UTC)


class Product(SQLModel, table=True):
    """A sellable item (SKU) with its place in the hierarchy and its lifecycle.

    NPI products take their forecast from ``analog_code`` (× ``scaling_factor`` × the
    ``launch_curve`` from ``launch_date``, weighted by ``launch_probability``); products
    running out stop at ``eol_date`` after ``rundown_months`` of linear decline, and their
    history counts for ``successor_code``.
    """

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
    analog_code: str | None = Field(default=None, max_length=64)
    scaling_factor: float = Field(default=1.0)
    launch_curve: list[float] | None = Field(
        default=None, sa_column=Column(JsonColumnType, nullable=True)
    )
    launch_probability: float = Field(default=1.0)
    successor_code: str | None = Field(default=None, max_length=64)
    rundown_months: int = Field(default=0)
    version: int = Field(default=1)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
