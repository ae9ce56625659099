"""Supply master data and positions: what the ERP feeds in before a plan can be computed.

Item codes (``product`` columns) name either a product of the read model (owned by demand)
or a purchased material (owned here, ``Material``). Months are ``YYYY-MM``.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


class Material(SQLModel, table=True):
    """A purchased material or component (not a product sold, so not in demand's catalogue)."""

    __tablename__ = "material"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=200)
    unit: str = Field(default="EA", max_length=20)
    family: str = Field(default="MATERIALS", max_length=100)
    unit_cost: float = 0.0
    updated_at: datetime = Field(default_factory=utcnow)


class Supplier(SQLModel, table=True):
    __tablename__ = "supplier"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=200)
    country: str | None = Field(default=None, max_length=2)
    updated_at: datetime = Field(default_factory=utcnow)


class ItemSite(SQLModel, table=True):
    """Supply parameters of one item at one site."""

    __tablename__ = "item_site"
    __table_args__ = (UniqueConstraint("product", "site"),)

    id: int | None = Field(default=None, primary_key=True)
    product: str = Field(max_length=64)
    site: str = Field(max_length=64)
    make_or_buy: str = Field(max_length=4)
    lead_time_months: int = 0
    lead_time_std_months: float | None = None
    moq: float = 0.0
    lot_multiple: float = 0.0
    ss_policy: str = Field(default="fixed", max_length=20)
    ss_value: float = 0.0
    review_period_months: float = 1.0
    service_level: float = 0.95
    max_stock: float | None = None
    unit_cost: float | None = None
    holding_cost_rate: float = 0.2
    shelf_life_months: int | None = None
    updated_at: datetime = Field(default_factory=utcnow)


class InventorySnapshot(SQLModel, table=True):
    """Stock of an item-site at the end of ``month`` (on hand includes quality hold)."""

    __tablename__ = "inventory_snapshot"
    __table_args__ = (UniqueConstraint("product", "site", "month"),)

    id: int | None = Field(default=None, primary_key=True)
    product: str = Field(max_length=64)
    site: str = Field(max_length=64)
    month: str = Field(max_length=7, index=True)
    on_hand: float = 0.0
    in_transit: float = 0.0
    quality_hold: float = 0.0
    updated_at: datetime = Field(default_factory=utcnow)


class OpenSupply(SQLModel, table=True):
    """An open purchase or production order, received in ``due_month``."""

    __tablename__ = "open_supply"

    id: int | None = Field(default=None, primary_key=True)
    order_ref: str = Field(max_length=64, unique=True)
    kind: str = Field(max_length=12)
    product: str = Field(max_length=64, index=True)
    site: str = Field(max_length=64)
    due_month: str = Field(max_length=7)
    quantity: float
    supplier: str | None = Field(default=None, max_length=64)
    updated_at: datetime = Field(default_factory=utcnow)


class BomLine(SQLModel, table=True):
    """One unit of ``product`` consumes ``qty_per`` of ``material`` (scrap included)."""

    __tablename__ = "bom_line"
    __table_args__ = (UniqueConstraint("product", "material"),)

    id: int | None = Field(default=None, primary_key=True)
    product: str = Field(max_length=64)
    material: str = Field(max_length=64, index=True)
    qty_per: float
    updated_at: datetime = Field(default_factory=utcnow)


class Contract(SQLModel, table=True):
    """A supplier's volume commitment on a material over a period of months."""

    __tablename__ = "contract"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=64, unique=True)
    supplier: str = Field(max_length=64, index=True)
    material: str = Field(max_length=64, index=True)
    period_start: str = Field(max_length=7)
    period_end: str = Field(max_length=7)
    min_volume: float = 0.0
    max_volume: float
    price: float = 0.0
    updated_at: datetime = Field(default_factory=utcnow)


class SupplyBudget(SQLModel, table=True):
    """The supply budget of one product or one family in one month: volume and value."""

    __tablename__ = "supply_budget"
    __table_args__ = (UniqueConstraint("level", "code", "month"),)

    id: int | None = Field(default=None, primary_key=True)
    level: str = Field(max_length=10)
    code: str = Field(max_length=100)
    month: str = Field(max_length=7)
    volume: float = 0.0
    value: float = 0.0
    updated_at: datetime = Field(default_factory=utcnow)
