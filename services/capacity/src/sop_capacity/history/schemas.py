from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from sop_shared.bulk import BulkRow
from sop_shared.repository import Page
from sop_shared.types import Hours, Month, Quantity


class HistoryRow(BulkRow):
    """Actual output and hours of one resource-month (optionally one product's share)."""

    resource: str = Field(min_length=1, max_length=64, examples=["LINE-1"])
    month: Month
    product: str | None = Field(
        default=None, max_length=64, description="Empty for the resource-month as a whole"
    )
    output_quantity: Quantity = Field(description="Good units made")
    hours_worked: Hours = Field(description="Hours the resource actually ran")


class HistoryRead(HistoryRow):
    model_config = ConfigDict(from_attributes=True, extra="ignore")


class HistoryPage(Page[HistoryRead]):
    pass


class UtilisationRead(BaseModel):
    """Real utilisation and efficiency of one resource-month."""

    resource: str
    month: str
    hours_worked: float
    output_quantity: float
    available_hours: float | None = Field(description="From the calendar; null if none loaded")
    utilisation: float | None = Field(description="hours_worked / available_hours")
    earned_hours: float | None = Field(
        description="Output x routing hours per unit, over the product rows that have a routing"
    )
    efficiency: float | None = Field(
        description="earned_hours / hours worked on those products (1.0 = at routing standard)"
    )


class UtilisationList(BaseModel):
    items: list[UtilisationRead]
