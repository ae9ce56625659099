from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, ForeignKey, Integer, UniqueConstraint
from sqlmodel import Field, SQLModel

from sop_shared.jsontype import JsonColumnType


def utcnow() -> datetime:
    return datetime.now(UTC)


class Scenario(SQLModel, table=True):
    """A named what-if variant of a cycle's plan; ``base`` is the cycle's main plan."""

    __tablename__ = "scenario"
    __table_args__ = (UniqueConstraint("cycle_id", "code"),)

    id: int | None = Field(default=None, primary_key=True)
    cycle_id: int = Field(
        sa_column=Column(Integer, ForeignKey("cycle.id", ondelete="CASCADE"), nullable=False)
    )
    code: str = Field(max_length=40)
    name: str = Field(max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    parameters: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JsonColumnType, nullable=False)
    )
    status: str = Field(default="active", max_length=20)
    created_by: str = Field(max_length=200)
    version: int = Field(default=1)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
