from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Field, SQLModel


class Site(SQLModel, table=True):
    """A plant or distribution centre that holds stock and receives supply."""

    __tablename__ = "site"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=200)
    kind: str = Field(default="plant", max_length=20)
    country: str | None = Field(default=None, max_length=2)
    version: int = Field(default=1)
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
