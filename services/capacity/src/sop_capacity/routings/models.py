from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Field, SQLModel


class Routing(SQLModel, table=True):
    """A production method: a product made on a resource at some hours and cost per unit.

    A product may have several (alternate lines, a co-packer); the plan picks by cost and
    ``priority`` (lower first) breaks ties and decides which one rough-cut loads.
    """

    __tablename__ = "routing"

    product: str = Field(primary_key=True, max_length=64)
    resource: str = Field(primary_key=True, max_length=64, foreign_key="resource.code")
    hours_per_unit: float
    cost_per_unit: float
    priority: int = Field(default=1)
    updated_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
