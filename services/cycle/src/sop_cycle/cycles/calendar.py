"""The cycle calendar: each step is due on working day N of the cycle month.

Working days are Monday to Friday minus the configured holidays (numpy's business-day
calendar, so the arithmetic is the library's, not ours). A day number beyond the month's
last working day falls on that last working day.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date

import numpy as np


def month_bounds(month: str) -> tuple[date, date]:
    """First and last calendar day of ``YYYY-MM``."""
    year, mon = (int(p) for p in month.split("-"))
    first = date(year, mon, 1)
    nxt = date(year + mon // 12, mon % 12 + 1, 1)
    return first, date.fromordinal(nxt.toordinal() - 1)


def shift_month(month: str, delta: int) -> str:
    """``2026-01`` shifted by -1 → ``2025-12``."""
    year, mon = (int(p) for p in month.split("-"))
    index = year * 12 + (mon - 1) + delta
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def previous_month(month: str) -> str:
    return shift_month(month, -1)


def due_dates(
    month: str, working_days: Mapping[str, int], holidays: Iterable[date] = ()
) -> dict[str, date]:
    """Working day N of ``month`` for every step, clamped to the month's last working day."""
    first, last = month_bounds(month)
    calendar = np.busdaycalendar(holidays=np.array(list(holidays), dtype="datetime64[D]"))
    names = list(working_days)
    offsets = np.array([working_days[n] - 1 for n in names])
    days = np.busday_offset(np.datetime64(first), offsets, roll="forward", busdaycal=calendar)
    last_working = np.busday_offset(np.datetime64(last), 0, roll="backward", busdaycal=calendar)
    days = np.minimum(days, last_working)
    return {name: day.astype(date) for name, day in zip(names, days, strict=True)}
