"""Routing use cases: upload production methods (product and resource must be known), read."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session

from sop_capacity.ingest import BulkResult, ingest, replace_rows, table_of
from sop_capacity.resources.repository import ResourceRepository
from sop_capacity.routings.models import Routing
from sop_capacity.routings.repository import RoutingRepository
from sop_capacity.routings.schemas import RoutingPage, RoutingRead, RoutingRow
from sop_shared.bulk import refuse_rows
from sop_shared.readmodels.products import known_products


def _apply(session: Session, rows: list[RoutingRow]) -> tuple[int, int]:
    resources = ResourceRepository(session).by_codes(r.resource for r in rows)
    products = known_products(session, (r.product for r in rows))
    problems = []
    for number, row in enumerate(rows, start=1):
        if row.product not in products:
            problems.append((number, "product", f"unknown product {row.product!r}"))
        if row.resource not in resources:
            problems.append((number, "resource", f"unknown resource {row.resource!r}"))
    refuse_rows(problems, f"{len(problems)} unknown product or resource reference(s)")
    now = datetime.now(UTC)
    records = [{**r.model_dump(), "updated_at": now} for r in rows]
    existing = RoutingRepository(session).existing_keys([(r.product, r.resource) for r in rows])
    return replace_rows(session, table_of(Routing), ("product", "resource"), existing, records)


def bulk_upsert(
    session: Session, *, raw: bytes, content_type: str | None, idempotency_key: str | None
) -> BulkResult:
    """Create or replace production methods keyed by (product, resource)."""
    return ingest(
        session,
        raw=raw,
        content_type=content_type,
        idempotency_key=idempotency_key,
        endpoint="POST /routings/bulk",
        model=RoutingRow,
        key=lambda r: (r.product, r.resource),
        apply=_apply,
    )


def list_routings(
    session: Session, *, product: str | None, resource: str | None, limit: int, offset: int
) -> RoutingPage:
    rows, total = RoutingRepository(session).list_filtered(
        product=product, resource=resource, limit=limit, offset=offset
    )
    return RoutingPage(
        items=[RoutingRead.model_validate(r) for r in rows],
        total=total,
        limit=limit,
        offset=offset,
    )
