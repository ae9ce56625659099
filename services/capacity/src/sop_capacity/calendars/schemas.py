from __future__ import annotations

from pydantic import ConfigDict, Field

from sop_shared.bulk import BulkRow
from sop_shared.repository import Page
from sop_shared.types import Hours, Month


class CalendarRow(BulkRow):
    """One resource-month of a calendar upload."""

    resource: str = Field(min_length=1, max_length=64, examples=["LINE-1"])
    month: Month
    shifts: float = Field(default=1.0, ge=0, le=4)
    hours_per_shift: float = Field(default=8.0, ge=0, le=24)
    working_days: float = Field(ge=0, le=31, examples=[21])
    efficiency: float = Field(default=1.0, ge=0, le=2, description="Share of hours that produce")
    maintenance_hours: Hours = Field(
        default=0.0,
        description="Planned maintenance; at most shifts x hours_per_shift x working_days x "
        "efficiency",
    )
    max_overtime_hours: Hours | None = None


class CalendarRead(CalendarRow):
    model_config = ConfigDict(from_attributes=True, extra="ignore")

    available_hours: float = Field(description="Regular hours the plan may use")


class CalendarPage(Page[CalendarRead]):
    pass
