"""Query parameters and response helpers shared by the demand routes."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Annotated, Any

from fastapi import Path, Query
from fastapi.responses import StreamingResponse
from sqlalchemy.sql import Select
from sqlmodel import Session

from sop_shared.streaming import LineFormat, stream_rows

MONTH_PATTERN = r"^(19|2\d)\d{2}-(0[1-9]|1[0-2])$"

Limit = Annotated[int, Query(ge=1, le=5000, description="Page size")]
Offset = Annotated[int, Query(ge=0, le=2_000_000_000)]
RowId = Annotated[int, Path(ge=1, le=2**62, description="Row id")]
MonthQuery = Annotated[str | None, Query(pattern=MONTH_PATTERN, description="YYYY-MM")]
FormatQuery = Annotated[
    LineFormat,
    Query(description="json: one page; jsonl or csv: every matching row as a stream"),
]


def stream_select(
    session: Session,
    query: Select[Any],
    *,
    columns: Sequence[str],
    fmt: LineFormat,
    filename: str,
    convert: Any = None,
) -> StreamingResponse:
    """Stream a query's rows without loading them all.

    The request's transaction is committed before the body is sent, so the generator
    reads in a fresh transaction of the same session and closes it at the end.
    """

    def rows() -> Iterator[dict[str, Any]]:
        try:
            result = session.execute(query.execution_options(yield_per=5000))
            for row in result:
                record = dict(zip(columns, row, strict=True))
                yield convert(record) if convert else record
        finally:
            session.close()

    return stream_rows(rows(), fmt=fmt, columns=columns, filename=filename)
