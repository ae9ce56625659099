from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Field, SQLModel


class Resource(SQLModel, table=True):
    """A production line, work centre or labour pool at a site; capacity is counted in hours."""

    __tablename__ = "resource"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=200)
    site: str = Field(max_length=64, index=True)
    kind: str = Field(default="line", max_length=20)
    labour_pool: str | None = Field(default=None, max_length=64)
    version: int = Field(default=1)
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
