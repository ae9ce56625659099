"""Query parameters and response helpers shared by the demand routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

from sop_shared.streaming import LineFormat
from sop_shared.types import MAX_INT32

MONTH_PATTERN = r"^(19|2\d)\d{2}-(0[1-9]|1[0-2])$"

Limit = Annotated[int, Query(ge=1, le=5000, description="Page size")]
Offset = Annotated[int, Query(ge=0, le=2_000_000_000)]
RowId = Annotated[int, Path(ge=1, le=MAX_INT32, description="Row id")]
MonthQuery = Annotated[str | None, Query(pattern=MONTH_PATTERN, description="YYYY-MM")]
FormatQuery = Annotated[
    LineFormat,
    Query(description="json: one page; jsonl or csv: every matching row as a stream"),
]
