"""Calendar use cases: upload resource-months (available hours computed here) and read them."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
from sqlmodel import Session

from sop_capacity.calendars.models import ResourceCalendar
from sop_capacity.calendars.repository import CalendarRepository
from sop_capacity.calendars.schemas import CalendarPage, CalendarRead, CalendarRow
from sop_capacity.ingest import BulkResult, ingest, replace_rows, table_of
from sop_capacity.planning import available_hours
from sop_capacity.resources.repository import ResourceRepository
from sop_shared.bulk import refuse_rows


def computed_hours(rows: list[CalendarRow]) -> np.ndarray:
    """Available hours of every row at once (rows become the calendar's resources, T=1)."""

    def column(name: str) -> np.ndarray:
        return np.array([getattr(r, name) for r in rows], dtype=np.float64)[:, None]

    hours = available_hours(
        column("working_days"),
        column("shifts"),
        column("hours_per_shift"),
        column("efficiency"),
        column("maintenance_hours"),
    )
    return hours[:, 0]


def gross_hours(rows: list[CalendarRow]) -> np.ndarray:
    """shifts x hours_per_shift x working_days x efficiency of every row (before maintenance)."""
    return available_hours(
        np.array([r.working_days for r in rows], dtype=np.float64)[:, None],
        np.array([r.shifts for r in rows], dtype=np.float64)[:, None],
        np.array([r.hours_per_shift for r in rows], dtype=np.float64)[:, None],
        np.array([r.efficiency for r in rows], dtype=np.float64)[:, None],
    )[:, 0]


def _apply(session: Session, rows: list[CalendarRow]) -> tuple[int, int]:
    known = ResourceRepository(session).by_codes(r.resource for r in rows)
    problems = [
        (n, "resource", f"unknown resource {r.resource!r}")
        for n, r in enumerate(rows, start=1)
        if r.resource not in known
    ]
    # Maintenance longer than the month's gross hours is a typo (hours for minutes, a
    # year's plan in one month), not a month without capacity: refuse it, never clip it.
    gross = gross_hours(rows)
    maintenance = np.array([r.maintenance_hours for r in rows], dtype=np.float64)
    for i in np.flatnonzero(maintenance > gross * (1 + 1e-9) + 1e-9):
        problems.append(
            (
                int(i) + 1,
                "maintenance_hours",
                f"{maintenance[i]:g} h is more than the month's gross hours {gross[i]:g} h "
                "(shifts x hours_per_shift x working_days x efficiency)",
            )
        )
    refuse_rows(
        sorted(problems),
        "calendar rows must name known resources, with maintenance within the gross hours",
    )
    hours = computed_hours(rows)
    now = datetime.now(UTC)
    records = [
        {**r.model_dump(), "available_hours": float(h), "updated_at": now}
        for r, h in zip(rows, hours, strict=True)
    ]
    existing = CalendarRepository(session).existing_keys([(r.resource, r.month) for r in rows])
    return replace_rows(
        session, table_of(ResourceCalendar), ("resource", "month"), existing, records
    )


def bulk_upsert(
    session: Session, *, raw: bytes, content_type: str | None, idempotency_key: str | None
) -> BulkResult:
    """Create or replace resource-months; a month already loaded is replaced, not added to."""
    return ingest(
        session,
        raw=raw,
        content_type=content_type,
        idempotency_key=idempotency_key,
        endpoint="POST /calendars/bulk",
        model=CalendarRow,
        key=lambda r: (r.resource, r.month),
        apply=_apply,
    )


def list_calendars(
    session: Session,
    *,
    resource: str | None,
    from_month: str | None,
    to_month: str | None,
    limit: int,
    offset: int,
) -> CalendarPage:
    rows, total = CalendarRepository(session).list_filtered(
        resource=resource, from_month=from_month, to_month=to_month, limit=limit, offset=offset
    )
    return CalendarPage(
        items=[CalendarRead.model_validate(r) for r in rows],
        total=total,
        limit=limit,
        offset=offset,
    )
