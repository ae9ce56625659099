from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel


class ResourceKind(StrEnum):
    line = "line"
    work_centre = "work_centre"
    labour_pool = "labour_pool"
    copacker = "copacker"


def utcnow() -> datetime:
    return datetime.now(UTC)


class Resource(SQLModel, table=True):
    """A production line, work centre, labour pool or co-packer at a site; capacity is in hours.

    ``labour_pool`` names the labour-pool resource whose crew staffs this one (a pool
    names itself), so the crew's headcount caps the hours of all its resources together.
    A co-packer may make a product for any site; other resources only for their own site.
    """

    __tablename__ = "resource"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=200)
    site: str = Field(max_length=64, index=True)
    kind: str = Field(default=ResourceKind.line, max_length=20)
    labour_pool: str | None = Field(default=None, max_length=64)
    overtime_hour_cost: float = Field(default=0.0)
    version: int = Field(default=1)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
