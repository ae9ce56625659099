"""Supply plan versions and what they are computed from.

A plan has one header row and, per item-site × month, one line (products and the materials
their bills of material call for, told apart by ``kind``). Production requirements are the
lines of ``make`` item-sites, material requirements the lines of kind ``material``.
Exceptions and the contract volume review are written with the plan, in one transaction.
"""

from __future__ import annotations

import secrets
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, ForeignKey, Index, Text, Uuid
from sqlmodel import Field, SQLModel

from sop_shared.jsontype import BigIntId, JsonColumnType


def utcnow() -> datetime:
    return datetime.now(UTC)


def uuid7() -> uuid.UUID:
    """A time-ordered UUID (RFC 9562 version 7: 48-bit Unix milliseconds, then random bits).

    Plan ids lead the primary key of the line table, so a new plan's 2.4 M lines go to the
    right edge of the index (PostgreSQL's fast path for rightmost inserts) instead of the
    middle, where random version-4 ids put them (bench/supply_service_bench.py: WAL per plan
    stayed flat over successive versions with these ids, it grew with version-4 ones).
    """
    millis = time.time_ns() // 1_000_000
    value = (millis & (2**48 - 1)) << 80 | secrets.randbits(80)
    value = (value & ~(0xF << 76)) | (0x7 << 76)  # version 7
    value = (value & ~(0x3 << 62)) | (0x2 << 62)  # RFC 9562 variant
    return uuid.UUID(int=value)


class SupplyPlan(SQLModel, table=True):
    """One version of the supply plan of a (cycle, scenario)."""

    __tablename__ = "supply_plan"
    __table_args__ = (
        Index("ix_supply_plan_cycle_scenario_version", "cycle", "scenario", "version", unique=True),
    )

    id: uuid.UUID = Field(default_factory=uuid7, primary_key=True)
    cycle: str = Field(max_length=7)
    scenario: str = Field(default="base", max_length=40)
    version: int
    demand_plan_id: str = Field(max_length=64, index=True)
    demand_plan_version: int | None = None
    status: str = Field(max_length=20, description="unconstrained | constrained")
    based_on_production_plan_id: str | None = Field(default=None, max_length=64)
    base_supply_plan_id: uuid.UUID | None = Field(
        default=None, description="For a constrained plan: the unconstrained plan it revises"
    )
    horizon_start: str = Field(max_length=7)
    horizon_end: str = Field(max_length=7)
    months: int
    service_level_override: float | None = None
    totals: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JsonColumnType, nullable=False)
    )
    counts: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JsonColumnType, nullable=False)
    )
    approved: bool = False
    approved_at: datetime | None = None
    approved_by: str | None = Field(default=None, max_length=200)
    job_id: uuid.UUID | None = None
    created_by: str = Field(default="system", max_length=200)
    created_at: datetime = Field(default_factory=utcnow)


def _plan_key(*, foreign_key: bool = True) -> Any:
    """The plan id as the first primary-key column.

    The 2.4 M-row line table has no foreign key: PostgreSQL checks one with a trigger per
    row, which doubles the COPY of a large plan; lines are only ever written with their
    header, in its transaction, and plans are never deleted.
    """
    if not foreign_key:
        return Column(Uuid(), primary_key=True, nullable=False)
    fk = ForeignKey("supply_plan.id", ondelete="CASCADE")
    return Column(Uuid(), fk, primary_key=True, nullable=False)


class SupplyPlanLine(SQLModel, table=True):
    """Projected inventory and requirements of one item-site in one month.

    ``demand`` is the gross requirement: independent demand (the demand plan) plus
    ``dependent_demand`` (exploded from the planned production of parents). Infinite
    ``days_of_supply`` (stock, no forward demand) and ``max_stock`` (no maximum) are stored
    as IEEE infinity and read as null.
    """

    __tablename__ = "supply_plan_line"

    plan_id: uuid.UUID = Field(sa_column=_plan_key(foreign_key=False))
    product: str = Field(max_length=64, primary_key=True)
    site: str = Field(max_length=64, primary_key=True)
    month: str = Field(max_length=7, primary_key=True)
    kind: str = Field(max_length=10, description="product | material")
    make_or_buy: str = Field(max_length=4)
    family: str = Field(max_length=100)
    demand: float
    dependent_demand: float
    opening: float
    scheduled: float
    planned_receipts: float
    planned_releases: float
    closing: float
    safety_stock: float
    max_stock: float
    shortage: float
    excess: float
    days_of_supply: float
    inventory_value: float
    unit_cost: float
    moq: float = Field(default=0.0, description="The item-site's minimum order when planned")
    lot_multiple: float = Field(
        default=0.0, description="The item-site's lot multiple when planned (0: whole units)"
    )


class SupplyPlanException(SQLModel, table=True):
    """A planner's exception: stock-out, below safety stock, above maximum, shelf life at risk,
    past-due release, contract under- or over-use; ``size`` in units, ``value`` at unit cost
    (contracts: price)."""

    __tablename__ = "supply_plan_exception"
    __table_args__ = (Index("ix_supply_plan_exception_plan_kind", "plan_id", "kind"),)

    id: int | None = Field(
        default=None, sa_column=Column(BigIntId, primary_key=True, autoincrement=True)
    )
    plan_id: uuid.UUID = Field(sa_column=Column(Uuid(), nullable=False))  # no FK: see the lines
    kind: str = Field(max_length=30)
    product: str = Field(max_length=64)
    site: str | None = Field(default=None, max_length=64)
    family: str = Field(max_length=100)
    month: str = Field(max_length=7)
    size: float
    value: float
    reference: str | None = Field(default=None, max_length=64, description="e.g. the contract")
    sites: str | None = Field(
        default=None,
        sa_column=Column(Text(), nullable=True),
        description="Contract exceptions (site-independent): the sites buying the material in "
        "the contract's period, space-separated; null for an item-site exception",
    )


class SupplyPlanContract(SQLModel, table=True):
    """Planned purchases of a contract's material in its period against the commitment."""

    __tablename__ = "supply_plan_contract"

    plan_id: uuid.UUID = Field(sa_column=_plan_key())
    contract: str = Field(max_length=64, primary_key=True)
    supplier: str = Field(max_length=64)
    material: str = Field(max_length=64)
    family: str = Field(max_length=100)
    period_start: str = Field(max_length=7)
    period_end: str = Field(max_length=7)
    months_in_period: int
    months_in_horizon: int
    min_volume: float
    max_volume: float
    price: float
    planned_volume: float
    allocated_volume: float
    shortfall: float
    excess: float
    shortfall_value: float
    excess_value: float
    status: str = Field(max_length=20, description="ok | under | over | partial | no_buy_item")


class SupplyPlanForecastError(SQLModel, table=True):
    """The demand plan's forecast error (σ of its first plan month) per item-site of a plan.

    Kept so that the constrained recompute, which nets the base plan's own demand instead of
    fetching the demand plan again, gives statistical item-sites the same safety stock.
    Only item-sites whose demand lines carried a σ have a row.
    """

    __tablename__ = "supply_plan_forecast_error"

    plan_id: uuid.UUID = Field(sa_column=_plan_key(foreign_key=False))
    product: str = Field(max_length=64, primary_key=True)
    site: str = Field(max_length=64, primary_key=True)
    forecast_sigma: float


class DemandPlanTrigger(SQLModel, table=True):
    """A demand plan version that already queued its supply plan (one plan per version).

    A ``demand.plan.changed`` for the same (cycle, scenario, plan, version) under a new event
    id (a republished event, a replayed outbox) queues nothing more, unless that run failed.
    """

    __tablename__ = "demand_plan_trigger"

    cycle: str = Field(primary_key=True, max_length=7)
    scenario: str = Field(primary_key=True, max_length=40)
    demand_plan_id: str = Field(primary_key=True, max_length=64)
    demand_plan_version: int = Field(primary_key=True)
    event_id: str = Field(max_length=64)
    job_id: uuid.UUID
    created_at: datetime = Field(default_factory=utcnow)


class DemandPlanRef(SQLModel, table=True):
    """A demand plan version announced by the demand service (from its plan.changed events)."""

    __tablename__ = "demand_plan_ref"

    plan_id: str = Field(primary_key=True, max_length=64)
    cycle: str = Field(max_length=7, index=True)
    scenario: str = Field(max_length=40)
    version: int
    status: str = Field(max_length=20)
    lines_url: str | None = Field(default=None, max_length=300)
    received_at: datetime = Field(default_factory=utcnow)


class ScenarioParameters(SQLModel, table=True):
    """The supply-side parameters of a cycle's scenario (from cycle's scenario.changed)."""

    __tablename__ = "scenario_parameters"

    cycle: str = Field(primary_key=True, max_length=7)
    scenario: str = Field(primary_key=True, max_length=40)
    name: str = Field(max_length=200)
    status: str = Field(default="active", max_length=20)
    service_level: float | None = None
    parameters: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JsonColumnType, nullable=False)
    )
    updated_at: datetime = Field(default_factory=utcnow)
