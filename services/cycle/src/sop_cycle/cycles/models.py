from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Field, SQLModel


class Cycle(SQLModel, table=True):
    """One monthly S&OP cycle (e.g. ``2026-12``)."""

    __tablename__ = "cycle"

    id: int | None = Field(default=None, primary_key=True)
    month: str = Field(max_length=7, unique=True)
    status: str = Field(default="open", max_length=20)
    created_by: str = Field(max_length=200)
    version: int = Field(default=1)
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
