"""Bulk ingest shared by every master-data feature of this service.

Each feature parses its rows, checks them against what the database holds, and
upserts them; this module owns the parts that must be the same everywhere:
Idempotency-Key replay, the all-or-nothing refusal and the answer's shape.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, Field
from sqlalchemy import Table, delete, insert, tuple_
from sqlmodel import Session, SQLModel

from sop_shared.bulk import body_hash, parse_rows, remember, replay

R = TypeVar("R", bound=BaseModel)


class BulkResult(BaseModel):
    """What a bulk upload did; the same answer is replayed for a retried Idempotency-Key."""

    received: int = Field(description="Rows in the batch")
    created: int = Field(description="Rows that did not exist before")
    updated: int = Field(description="Rows that replaced an existing row with the same key")


def ingest(
    session: Session,
    *,
    raw: bytes,
    content_type: str | None,
    idempotency_key: str | None,
    endpoint: str,
    model: type[R],
    key: Callable[[R], Hashable],
    apply: Callable[[Session, list[R]], tuple[int, int]],
) -> BulkResult:
    """Parse, validate and apply a batch once; ``apply`` returns (created, updated)."""
    digest = body_hash(raw)
    stored = replay(session, key=idempotency_key, endpoint=endpoint, digest=digest)
    if stored is not None:
        return BulkResult.model_validate(stored)
    rows = parse_rows(raw, content_type or "application/json", model, key=key)
    created, updated = apply(session, rows)
    result = BulkResult(received=len(rows), created=created, updated=updated)
    remember(
        session,
        key=idempotency_key,
        endpoint=endpoint,
        digest=digest,
        status_code=200,
        response=result.model_dump(),
    )
    return result


def table_of(model: type[SQLModel]) -> Table:
    """The Core table of a ``table=True`` model (typed, for bulk statements)."""
    table = model.__table__  # type: ignore[attr-defined]
    assert isinstance(table, Table)
    return table


def replace_rows(
    session: Session,
    table: Table,
    key_columns: Sequence[str],
    existing: set[tuple[Any, ...]],
    records: list[dict[str, Any]],
) -> tuple[int, int]:
    """Delete the rows whose key is in ``existing`` and insert ``records`` (one statement each).

    ``records`` is the whole batch; the returned (created, updated) counts rows whose key
    was new and rows that replaced an existing one.
    """
    keys = [tuple(r[c] for c in key_columns) for r in records]
    replaced = [k for k in keys if k in existing]
    columns = [table.c[c] for c in key_columns]
    for start in range(0, len(replaced), 500):
        chunk = replaced[start : start + 500]
        session.execute(delete(table).where(tuple_(*columns).in_(chunk)))
    for start in range(0, len(records), 5000):
        session.execute(insert(table), records[start : start + 5000])
    return len(records) - len(replaced), len(replaced)
