from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from sop_shared.jsontype import BigIntId, JsonColumnType


class PlanRecord(SQLModel, table=True):
    """A demand, supply or production plan version the cycle learned of from an event.

    The cycle never reads the planning services' tables: it keeps what their
    ``plan.changed`` events said (ids, version, status, totals) and fetches detail over REST.
    """

    __tablename__ = "plan_record"
    __table_args__ = (
        UniqueConstraint("kind", "plan_id", "version"),
        Index("ix_plan_record_stream", "kind", "cycle", "scenario"),
    )

    id: int | None = Field(
        default=None, sa_column=Column(BigIntId, primary_key=True, autoincrement=True)
    )
    kind: str = Field(max_length=20)  # demand | supply | production
    plan_id: str = Field(max_length=100)
    cycle: str = Field(max_length=7)
    scenario: str = Field(max_length=40)
    version: int
    status: str = Field(max_length=40)
    upstream_plan_id: str | None = Field(default=None, max_length=100)
    totals: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JsonColumnType, nullable=False)
    )
    counts: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JsonColumnType, nullable=False)
    )
    lines_url: str | None = Field(default=None, max_length=500)
    event_id: str = Field(max_length=64)
    source: str = Field(max_length=200)
    event_time: datetime
    received_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
