"""Workforce use cases: crew parameters per labour pool (the pool must be a labour_pool resource)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session

from sop_capacity.ingest import BulkResult, ingest, replace_rows, table_of
from sop_capacity.resources.models import ResourceKind
from sop_capacity.resources.repository import ResourceRepository
from sop_capacity.workforce.models import Workforce
from sop_capacity.workforce.repository import WorkforceRepository
from sop_capacity.workforce.schemas import WorkforcePage, WorkforceRead, WorkforceRow
from sop_shared.bulk import refuse_rows
from sop_shared.problems import NotFound


def _headcount_outside_limits(row: WorkforceRow) -> str | None:
    """The starting crew must lie within its limits, or the LP hires or lets people go in
    the first month while chase and level keep the crew as loaded."""
    if row.headcount < row.min_headcount:
        return f"{row.headcount:g} is below min_headcount ({row.min_headcount:g})"
    if row.max_headcount is not None and row.headcount > row.max_headcount:
        return f"{row.headcount:g} is above max_headcount ({row.max_headcount:g})"
    return None


def _apply(session: Session, rows: list[WorkforceRow]) -> tuple[int, int]:
    resources = ResourceRepository(session).by_codes(r.pool for r in rows)
    problems = []
    for number, row in enumerate(rows, start=1):
        resource = resources.get(row.pool)
        if resource is None:
            problems.append((number, "pool", f"unknown resource {row.pool!r}"))
        elif resource.kind != ResourceKind.labour_pool:
            problems.append(
                (number, "pool", f"{row.pool!r} is a {resource.kind}, not a labour_pool")
            )
        outside = _headcount_outside_limits(row)
        if outside:
            problems.append((number, "headcount", outside))
    refuse_rows(
        problems,
        "workforce rows must name labour_pool resources, with headcount within its limits",
    )
    now = datetime.now(UTC)
    records = [{**r.model_dump(), "updated_at": now} for r in rows]
    existing = WorkforceRepository(session).existing_keys([r.pool for r in rows])
    return replace_rows(session, table_of(Workforce), ("pool",), existing, records)


def bulk_upsert(
    session: Session, *, raw: bytes, content_type: str | None, idempotency_key: str | None
) -> BulkResult:
    """Create or replace the crew parameters of labour pools."""
    return ingest(
        session,
        raw=raw,
        content_type=content_type,
        idempotency_key=idempotency_key,
        endpoint="POST /workforce/bulk",
        model=WorkforceRow,
        key=lambda r: r.pool,
        apply=_apply,
    )


def list_workforce(session: Session, *, limit: int, offset: int) -> WorkforcePage:
    rows, total = WorkforceRepository(session).page(limit=limit, offset=offset)
    return WorkforcePage(
        items=[WorkforceRead.model_validate(r) for r in rows],
        total=total,
        limit=limit,
        offset=offset,
    )


def get_workforce(session: Session, *, pool: str) -> Workforce:
    row = WorkforceRepository(session).get_by(pool=pool)
    if row is None:
        raise NotFound(f"Labour pool {pool!r} has no workforce record.")
    return row
