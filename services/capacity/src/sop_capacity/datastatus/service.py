"""The capacity side of the cycle's step-1 gate: is the master data there to plan month M on?"""

from __future__ import annotations

import pandas as pd
from sqlmodel import Session

from sop_capacity.calendars.repository import CalendarRepository
from sop_capacity.history.repository import HistoryRepository
from sop_capacity.resources.models import ResourceKind
from sop_capacity.resources.repository import ResourceRepository
from sop_capacity.routings.repository import RoutingRepository
from sop_capacity.workforce.repository import WorkforceRepository
from sop_shared.datastatus import DataCheck, DataStatus

CALENDAR_MONTHS_AHEAD = 12
"""Months after the asked month whose calendars must be loaded (the near planning horizon)."""


def _months_after(month: str, n: int) -> list[str]:
    start = pd.Period(month, freq="M")
    return [str(start + i) for i in range(1, n + 1)]


def _short(items: list[str], limit: int = 5) -> str:
    return ", ".join(items[:limit]) + (
        f" (+{len(items) - limit} more)" if len(items) > limit else ""
    )


def data_status(session: Session, *, month: str) -> DataStatus:
    """``month`` is the month whose actuals must be in (usually the one before the cycle)."""
    resources = ResourceRepository(session).all()
    checks: list[DataCheck] = [
        DataCheck(name="resources", ok=bool(resources), detail=f"{len(resources)} resource(s)")
    ]

    pools = {r.code for r in resources if r.kind == ResourceKind.labour_pool}
    staffed = {w.pool for w in WorkforceRepository(session).all()}
    unstaffed = sorted(pools - staffed)
    checks.append(
        DataCheck(
            name="workforce",
            ok=not unstaffed,
            detail=f"labour pools without workforce: {_short(unstaffed)}"
            if unstaffed
            else f"{len(pools)} labour pool(s) staffed",
        )
    )

    ahead = _months_after(month, CALENDAR_MONTHS_AHEAD)
    calendars = CalendarRepository(session).in_range(ahead[0], ahead[-1])
    have = {(c.resource, c.month) for c in calendars}
    # A labour pool needs no calendar: its crew is its capacity.
    need = [r.code for r in resources if r.code not in pools]
    missing = sorted({code for code in need for m in ahead if (code, m) not in have})
    checks.append(
        DataCheck(
            name="calendars",
            ok=bool(need) and not missing,
            detail=f"resources without a calendar for every month {ahead[0]}..{ahead[-1]}: "
            f"{_short(missing)}"
            if missing
            else f"{ahead[0]}..{ahead[-1]} covered for {len(need)} resource(s)",
        )
    )

    routings = RoutingRepository(session).all()
    checks.append(
        DataCheck(
            name="routings",
            ok=bool(routings),
            detail=f"{len(routings)} production method(s) for "
            f"{len({r.product for r in routings})} product(s)",
        )
    )

    history = HistoryRepository(session)
    rows = history.count_in(month)
    last = history.last_month()
    checks.append(
        DataCheck(
            name="production_history",
            ok=rows > 0,
            detail=f"{rows} row(s) for {month}; last month loaded {last or 'none'}",
        )
    )
    return DataStatus(
        service="capacity",
        month=month,
        ready=all(c.ok for c in checks),
        last_month_loaded=last,
        checks=checks,
    )
