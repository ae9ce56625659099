from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Field, SQLModel


class ResourceCalendar(SQLModel, table=True):
    """One resource's working pattern in one month and the regular hours it gives.

    ``available_hours`` = shifts x hours_per_shift x working_days x efficiency -
    maintenance_hours, stored so planners see the number the plan used. Uploads refuse
    maintenance above the gross hours, so it is never negative.
    ``max_overtime_hours`` caps overtime; absent means none for a resource outside a labour
    pool and "only the crew's overtime share" for one inside.
    """

    __tablename__ = "resource_calendar"

    resource: str = Field(primary_key=True, max_length=64, foreign_key="resource.code")
    month: str = Field(primary_key=True, max_length=7)
    shifts: float
    hours_per_shift: float
    working_days: float
    efficiency: float
    maintenance_hours: float
    max_overtime_hours: float | None = None
    available_hours: float
    updated_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
