from __future__ import annotations

from pydantic import ConfigDict, Field

from sop_shared.bulk import BulkRow
from sop_shared.repository import Page
from sop_shared.types import Hours, Money


class RoutingRow(BulkRow):
    """One production method of a routing upload."""

    product: str = Field(min_length=1, max_length=64, examples=["SKU-1001"])
    resource: str = Field(min_length=1, max_length=64, examples=["LINE-1"])
    hours_per_unit: Hours = Field(examples=[0.05])
    cost_per_unit: Money = Field(default=0.0, examples=[1.2])
    priority: int = Field(default=1, ge=1, le=99, description="1 = preferred method")


class RoutingRead(RoutingRow):
    model_config = ConfigDict(from_attributes=True, extra="ignore")


class RoutingPage(Page[RoutingRead]):
    pass
