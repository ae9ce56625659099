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


class PlanStatus(StrEnum):
    draft = "draft"
    submitted = "submitted"
    approved = "approved"
    superseded = "superseded"


class DemandPlan(SQLModel, table=True):
    """A version of the consensus demand plan of a (cycle, scenario).

    Only a draft changes; submitting freezes it (a change means a new version), and the
    cycle service's approval event marks it approved. ``version`` is the ETag.
    """

    __tablename__ = "demand_plan"
    __table_args__ = (UniqueConstraint("cycle", "scenario", "version_no"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    cycle: str = Field(max_length=7, index=True)
    scenario: str = Field(default="base", max_length=40)
    version_no: int = Field(description="1, 2, ... within the cycle and scenario")
    status: str = Field(default=PlanStatus.draft, max_length=20)
    forecast_run_id: uuid.UUID | None = None
    based_on_id: uuid.UUID | None = None
    parameters: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JsonColumnType, nullable=False)
    )
    note: str | None = Field(default=None, max_length=1000)
    version: int = 1
    lines: int = 0
    total_quantity: float = 0.0
    total_revenue: float = 0.0
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow)
    submitted_by: str | None = Field(default=None, max_length=200)
    submitted_at: datetime | None = None
    approved_by: str | None = Field(default=None, max_length=200)
    approved_at: datetime | None = None


class DemandPlanLine(SQLModel, table=True):
    """Product × site × month of a plan version: baseline → after review → consensus."""

    __tablename__ = "demand_plan_line"

    plan_id: uuid.UUID = Field(primary_key=True)
    product: str = Field(primary_key=True, max_length=64)
    site: str = Field(primary_key=True, max_length=64)
    month: str = Field(primary_key=True, max_length=7)
    family: str = Field(max_length=100)
    category: str = Field(max_length=100)
    baseline: float = Field(description="Statistical forecast (site share)")
    adjusted: float = Field(description="After promotions, NPI and EOL (product review)")
    quantity: float = Field(description="Consensus, after planners' overrides")
    price: float
    revenue: float
    forecast_sigma: float | None = Field(
        default=None,
        description="Standard deviation of the monthly forecast error (site share), from the "
        "forecast's 80 % interval; null without a statistical forecast behind the line",
    )


class PlanOverride(SQLModel, table=True):
    """A planner's change: who, when, why, and the value before and after."""

    __tablename__ = "demand_plan_override"

    id: int | None = Field(default=None, primary_key=True)
    plan_id: uuid.UUID = Field(index=True)
    plan_version: int = Field(description="The plan's ETag after this change")
    level: str = Field(max_length=10)
    node: str = Field(max_length=100)
    site: str | None = Field(default=None, max_length=64)
    month: str = Field(max_length=7)
    old_quantity: float
    new_quantity: float
    reason: str = Field(max_length=1000)
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow)


class DemandScenario(SQLModel, table=True):
    """A what-if of a cycle as last announced by the cycle service."""

    __tablename__ = "demand_scenario"

    cycle: str = Field(primary_key=True, max_length=7)
    scenario: str = Field(primary_key=True, max_length=40)
    name: str = Field(max_length=200)
    status: str = Field(default="active", max_length=20)
    parameters: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JsonColumnType, nullable=False)
    )
    updated_at: datetime = Field(default_factory=utcnow)
