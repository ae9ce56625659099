"""Plan lines as a stream (JSON lines or CSV) so consumers never load a whole plan at once."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Literal

from fastapi.responses import StreamingResponse

LineFormat = Literal["json", "jsonl", "csv"]


def _jsonl(rows: Iterable[dict[str, Any]]) -> Iterator[bytes]:
    buffer: list[str] = []
    for row in rows:
        buffer.append(json.dumps(row, default=str, separators=(",", ":")))
        if len(buffer) >= 1000:
            yield ("\n".join(buffer) + "\n").encode()
            buffer = []
    if buffer:
        yield ("\n".join(buffer) + "\n").encode()


def _csv(rows: Iterable[dict[str, Any]], columns: Sequence[str]) -> Iterator[bytes]:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), extrasaction="ignore")
    writer.writeheader()
    for i, row in enumerate(rows, start=1):
        writer.writerow(row)
        if i % 1000 == 0:
            yield out.getvalue().encode()
            out.seek(0)
            out.truncate()
    yield out.getvalue().encode()


def stream_rows(
    rows: Iterable[dict[str, Any]], *, fmt: LineFormat, columns: Sequence[str], filename: str
) -> StreamingResponse:
    if fmt == "csv":
        return StreamingResponse(
            _csv(rows, columns),
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{filename}.csv"'},
        )
    return StreamingResponse(_jsonl(rows), media_type="application/x-ndjson")


STREAM_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {
            "application/x-ndjson": {"schema": {"type": "string"}},
            "text/csv": {"schema": {"type": "string"}},
        },
        "description": "A page (JSON), or every line as JSON lines or CSV with ?format=",
    }
}
