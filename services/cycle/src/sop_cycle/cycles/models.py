from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import BigInteger, Column, ForeignKey, Integer, UniqueConstraint
from sqlmodel import Field, SQLModel

from sop_shared.jsontype import BigIntId, JsonColumnType


def utcnow() -> datetime:
    return datetime.now(UTC)


class Cycle(SQLModel, table=True):
    """One monthly S&OP cycle (e.g. ``2026-12``)."""

    __tablename__ = "cycle"

    id: int | None = Field(default=None, primary_key=True)
    month: str = Field(max_length=7, unique=True)
    status: str = Field(default="open", max_length=20)
    created_by: str = Field(max_length=200)
    version: int = Field(default=1)
    created_at: datetime = Field(default_factory=utcnow)


class CycleStep(SQLModel, table=True):
    """One of the seven steps of a cycle; ``version`` is its ETag."""

    __tablename__ = "cycle_step"
    __table_args__ = (UniqueConstraint("cycle_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    cycle_id: int = Field(
        sa_column=Column(Integer, ForeignKey("cycle.id", ondelete="CASCADE"), nullable=False)
    )
    name: str = Field(max_length=40)
    seq: int
    owner_role: str = Field(max_length=40)
    owner_user: str | None = Field(default=None, max_length=200)
    due_date: date
    status: str = Field(default="not_started", max_length=20)
    #: The plans (kind → plan_id, version, status) the step was completed on; a newer
    #: upstream plan than these makes it stale.
    basis: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JsonColumnType, nullable=False)
    )
    version: int = Field(default=1)
    started_at: datetime | None = None
    completed_at: datetime | None = None
    updated_at: datetime = Field(default_factory=utcnow)


class StepTransition(SQLModel, table=True):
    """The audit trail: every change of a step's status, with who, when and why."""

    __tablename__ = "step_transition"

    id: int | None = Field(
        default=None, sa_column=Column(BigIntId, primary_key=True, autoincrement=True)
    )
    cycle_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("cycle.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    step: str = Field(max_length=40)
    action: str = Field(max_length=20)
    from_status: str = Field(max_length=20)
    to_status: str = Field(max_length=20)
    actor: str = Field(max_length=200)
    reason: str | None = Field(default=None, max_length=2000)
    event_id: str | None = Field(default=None, max_length=64)
    at: datetime = Field(default_factory=utcnow)


class Approval(SQLModel, table=True):
    """The cycle's approved plan: one per cycle (the unique key refuses a second approval)."""

    __tablename__ = "approval"

    id: int | None = Field(default=None, primary_key=True)
    cycle_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("cycle.id", ondelete="CASCADE"), nullable=False, unique=True
        )
    )
    scenario: str = Field(max_length=40)
    demand_plan_id: str | None = Field(default=None, max_length=100)
    demand_version: int | None = None
    supply_plan_id: str | None = Field(default=None, max_length=100)
    supply_version: int | None = None
    production_plan_id: str | None = Field(default=None, max_length=100)
    production_version: int | None = None
    approved_by: str = Field(max_length=200)
    approved_at: datetime = Field(default_factory=utcnow)
    comment: str | None = Field(default=None, max_length=2000)
    #: The last plan record the cycle had when it was approved: plans learned of later never
    #: change what the approved cycle shows (the freeze).
    plan_record_cutoff: int | None = Field(default=None, sa_column=Column(BigInteger))
    #: The approved plans' money and quantities, from their versions' totals (line sums).
    financial: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JsonColumnType, nullable=False, server_default="{}")
    )
