from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from sop_shared.jsontype import JsonColumnType


def utcnow() -> datetime:
    return datetime.now(UTC)


class Strategy(StrEnum):
    optimal = "optimal"
    chase = "chase"
    level = "level"


class PlanStatus(StrEnum):
    published = "published"
    frozen = "frozen"


class ProductionPlan(SQLModel, table=True):
    """One version of the capacity-constrained production plan of a (cycle, scenario).

    Computed from one supply plan by one strategy; immutable once written, except that the
    executive approval freezes it. ``costs`` is the plan's cost breakdown, ``comparison``
    the breakdowns of the other strategies on the same inputs.
    """

    __tablename__ = "production_plan"
    __table_args__ = (UniqueConstraint("cycle", "scenario", "version"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    cycle: str = Field(max_length=7, index=True)
    scenario: str = Field(default="base", max_length=40)
    version: int
    supply_plan_id: str = Field(max_length=64, index=True)
    supply_plan_version: int | None = None
    strategy: str = Field(max_length=20)
    status: str = Field(default=PlanStatus.published, max_length=20)
    solve_status: str = Field(max_length=40)
    solve_message: str | None = Field(default=None, max_length=500)
    first_month: str = Field(max_length=7)
    last_month: str = Field(max_length=7)
    costs: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JsonColumnType, nullable=False)
    )
    comparison: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JsonColumnType, nullable=False)
    )
    totals: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JsonColumnType, nullable=False)
    )
    warnings: list[str] = Field(
        default_factory=list, sa_column=Column(JsonColumnType, nullable=False)
    )
    model_size: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JsonColumnType, nullable=False)
    )
    overtime_allowed: bool = True
    build_seconds: float = 0.0
    solve_seconds: float = 0.0
    write_seconds: float = 0.0
    trigger: str = Field(default="manual", max_length=20)
    job_id: uuid.UUID | None = None
    created_by: str = Field(default="system", max_length=200)
    created_at: datetime = Field(default_factory=utcnow)
    frozen_at: datetime | None = None
    frozen_by: str | None = Field(default=None, max_length=200)


class ProductionPlanLine(SQLModel, table=True):
    """Quantity of a product made at a site in a month on one resource (method)."""

    __tablename__ = "production_plan_line"

    plan_id: uuid.UUID = Field(foreign_key="production_plan.id", primary_key=True)
    product: str = Field(max_length=64, primary_key=True)
    site: str = Field(max_length=64, primary_key=True)
    month: str = Field(max_length=7, primary_key=True)
    resource: str = Field(max_length=64, primary_key=True)
    quantity: float
    hours: float
    cost: float


class ProductionPlanPosition(SQLModel, table=True):
    """A product-site's month: what supply required, what the plan makes, stock and backlog."""

    __tablename__ = "production_plan_position"

    plan_id: uuid.UUID = Field(foreign_key="production_plan.id", primary_key=True)
    product: str = Field(max_length=64, primary_key=True)
    site: str = Field(max_length=64, primary_key=True)
    month: str = Field(max_length=7, primary_key=True)
    requirement: float
    production: float
    inventory: float = Field(description="Stock built ahead of requirement, month end")
    backorder: float = Field(
        description="Demand not yet made, month end (beyond the safety-stock top-up)"
    )
    safety_stock: float = Field(description="Supply's safety-stock target")
    safety_stock_shortfall: float = Field(
        default=0.0, description="Safety stock supply's plan holds that this plan does not"
    )
    short_of: str | None = Field(
        default=None,
        max_length=1000,
        description="Materials (material@site) whose supply limits the product this month",
    )


class ProductionPlanMaterial(SQLModel, table=True):
    """A purchased material at a site in a month, as the (optimal) plan uses and buys it:
    stock never negative, purchases within the lead time and contract maxima."""

    __tablename__ = "production_plan_material"

    plan_id: uuid.UUID = Field(foreign_key="production_plan.id", primary_key=True)
    material: str = Field(max_length=64, primary_key=True)
    site: str = Field(max_length=64, primary_key=True)
    month: str = Field(max_length=7, primary_key=True)
    opening: float
    receipts: float = Field(description="Open purchase orders due this month")
    purchases: float = Field(description="New purchases arriving this month")
    used: float = Field(description="Used by the production released this month")
    closing: float
    value: float = Field(description="Shadow price: plan cost saved per unit more available")
    binding: bool = Field(description="More of it this month would make the plan cheaper")


class ProductionPlanLoad(SQLModel, table=True):
    """A resource-month before (rough-cut) and after the plan, with its crew where it has one."""

    __tablename__ = "production_plan_load"

    plan_id: uuid.UUID = Field(foreign_key="production_plan.id", primary_key=True)
    resource: str = Field(max_length=64, primary_key=True)
    month: str = Field(max_length=7, primary_key=True)
    available_hours: float | None = None
    capacity_hours: float | None = None
    rccp_load_hours: float
    rccp_utilisation: float | None = None
    hours_used: float
    regular_hours: float
    overtime_hours: float
    utilisation: float | None = None
    binding: bool = False
    overloaded: bool = False
    unavailable: bool = False
    crew_hours: float | None = None
    crew_hours_used: float | None = None
    headcount: float | None = None
    hires: float | None = None
    fires: float | None = None


class ProductionPlanUnplannable(SQLModel, table=True):
    """A product-site the plan could not make at all (no usable method): every unit it
    required is backordered, and ``reason`` says which routing or resource hours are missing."""

    __tablename__ = "production_plan_unplannable"

    plan_id: uuid.UUID = Field(foreign_key="production_plan.id", primary_key=True)
    product: str = Field(max_length=64, primary_key=True)
    site: str = Field(max_length=64, primary_key=True)
    requirement: float
    reason: str = Field(max_length=1000)


class PlanTrigger(SQLModel, table=True):
    """A supply plan that already queued its automatic production plan (one run per plan)."""

    __tablename__ = "plan_trigger"

    supply_plan_id: str = Field(primary_key=True, max_length=64)
    scenario: str = Field(primary_key=True, max_length=40)
    cycle: str = Field(max_length=7)
    supply_plan_version: int | None = None
    event_id: str = Field(max_length=64)
    job_id: uuid.UUID
    created_at: datetime = Field(default_factory=utcnow)
