"""Query parameters shared by this service's routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

MONTH_PATTERN = r"^(19|2\d)\d{2}-(0[1-9]|1[0-2])$"

MonthQuery = Annotated[
    str | None, Query(pattern=MONTH_PATTERN, description="Month YYYY-MM", examples=["2026-12"])
]
Limit = Annotated[int, Query(ge=1, le=5000)]
Offset = Annotated[int, Query(ge=0, le=2_000_000_000)]
