from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Column, ForeignKey, Integer
from sqlmodel import Field, SQLModel

from sop_shared.jsontype import JsonColumnType


def utcnow() -> datetime:
    return datetime.now(UTC)


class Decision(SQLModel, table=True):
    """A decision of the executive meeting: a topic, its options and the one chosen."""

    __tablename__ = "decision"

    id: int | None = Field(default=None, primary_key=True)
    cycle_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("cycle.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    topic: str = Field(max_length=300)
    options: list[str] = Field(
        default_factory=list, sa_column=Column(JsonColumnType, nullable=False)
    )
    chosen_option: str | None = Field(default=None, max_length=300)
    owner: str | None = Field(default=None, max_length=200)
    due_date: date | None = None
    status: str = Field(default="open", max_length=20)  # open | decided | deferred | cancelled
    deferred_reason: str | None = Field(default=None, max_length=2000)
    issue_id: str | None = Field(default=None, max_length=200)
    notes: str | None = Field(default=None, max_length=4000)
    created_by: str = Field(max_length=200)
    decided_by: str | None = Field(default=None, max_length=200)
    version: int = Field(default=1)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class CycleKpi(SQLModel, table=True):
    """The KPIs of a cycle's approved plan, taken once the plan is approved (a time series
    across cycles for dashboards), with the family × month quantities kept for accuracy."""

    __tablename__ = "cycle_kpi"

    id: int | None = Field(default=None, primary_key=True)
    cycle_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("cycle.id", ondelete="CASCADE"), nullable=False, unique=True
        )
    )
    month: str = Field(max_length=7, index=True)
    scenario: str = Field(max_length=40)
    figures: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JsonColumnType, nullable=False)
    )
    #: {family: {month: planned quantity}} of the approved demand plan.
    plan_quantities: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JsonColumnType, nullable=False)
    )
    #: {family: {month: actual quantity}} as the demand summary reported them.
    actual_quantities: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JsonColumnType, nullable=False)
    )
    computed_at: datetime = Field(default_factory=utcnow)
