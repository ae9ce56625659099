from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Field, SQLModel


class Workforce(SQLModel, table=True):
    """The crew of one labour pool: today's headcount, what a person gives, what changes cost."""

    __tablename__ = "workforce"

    pool: str = Field(primary_key=True, max_length=64, foreign_key="resource.code")
    headcount: float
    hours_per_person: float
    max_overtime_share: float = 0.0
    regular_hour_cost: float = 0.0
    overtime_hour_cost: float = 0.0
    hire_cost: float = 0.0
    fire_cost: float = 0.0
    min_headcount: float = 0.0
    max_headcount: float | None = None
    updated_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
