"""Resource use cases: create, bulk upsert, read; every labour-pool reference is checked."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlmodel import Session

from sop_capacity.ingest import BulkResult, ingest
from sop_capacity.resources.models import Resource, ResourceKind
from sop_capacity.resources.repository import ResourceRepository
from sop_capacity.resources.schemas import ResourceCreate, ResourcePage, ResourceRead
from sop_shared.bulk import refuse_rows
from sop_shared.problems import Conflict, FieldError, NotFound, ValidationFailed


def _normalised(row: ResourceCreate) -> ResourceCreate:
    """A labour pool is staffed by its own crew."""
    if row.kind == ResourceKind.labour_pool and row.labour_pool is None:
        return row.model_copy(update={"labour_pool": row.code})
    return row


def _pool_problems(
    rows: Sequence[ResourceCreate], known: dict[str, Resource]
) -> list[tuple[int, str, str]]:
    """(row, field, message) for every labour_pool that is not a labour-pool resource."""
    kinds = {code: r.kind for code, r in known.items()}
    kinds.update({r.code: r.kind for r in rows})
    problems = []
    for number, row in enumerate(rows, start=1):
        pool = row.labour_pool
        if pool is None:
            continue
        if row.kind == ResourceKind.labour_pool and pool != row.code:
            problems.append((number, "labour_pool", "a labour pool must name itself (or nothing)"))
        elif pool not in kinds:
            problems.append((number, "labour_pool", f"unknown resource {pool!r}"))
        elif kinds[pool] != ResourceKind.labour_pool:
            problems.append(
                (number, "labour_pool", f"{pool!r} is a {kinds[pool]}, not a labour_pool")
            )
    return problems


def create_resource(session: Session, *, data: ResourceCreate) -> Resource:
    repo = ResourceRepository(session)
    if repo.get_by(code=data.code) is not None:
        raise Conflict(f"Resource {data.code!r} already exists.", code="resource-exists")
    data = _normalised(data)
    pool_refs = [data.labour_pool] if data.labour_pool else []
    problems = _pool_problems([data], repo.by_codes(pool_refs))
    if problems:
        raise ValidationFailed(
            f"{problems[0][1]}: {problems[0][2]}",
            errors=[FieldError(field=f"body.{f}", message=m) for _, f, m in problems],
        )
    resource = repo.add(Resource(**data.model_dump()))
    session.flush()
    return resource


def _apply(session: Session, rows: list[ResourceCreate]) -> tuple[int, int]:
    rows = [_normalised(r) for r in rows]
    repo = ResourceRepository(session)
    known = repo.by_codes([r.code for r in rows] + [r.labour_pool for r in rows if r.labour_pool])
    refuse_rows(_pool_problems(rows, known), "invalid labour pool reference(s)")
    created = updated = 0
    now = datetime.now(UTC)
    for row in rows:
        existing = known.get(row.code)
        if existing is None:
            repo.add(Resource(**row.model_dump()))
            created += 1
            continue
        changes = {k: v for k, v in row.model_dump().items() if getattr(existing, k) != v}
        if changes:
            for key, value in changes.items():
                setattr(existing, key, value)
            existing.version += 1
            existing.updated_at = now
            repo.add(existing)
        updated += 1
    session.flush()
    return created, updated


def bulk_upsert(
    session: Session,
    *,
    raw: bytes,
    content_type: str | None,
    idempotency_key: str | None,
) -> BulkResult:
    """Create or change many resources at once (ERP feed); all rows or none."""
    return ingest(
        session,
        raw=raw,
        content_type=content_type,
        idempotency_key=idempotency_key,
        endpoint="POST /resources/bulk",
        model=ResourceCreate,
        key=lambda r: r.code,
        apply=_apply,
    )


def get_resource(session: Session, *, code: str) -> Resource:
    resource = ResourceRepository(session).get_by(code=code)
    if resource is None:
        raise NotFound(f"Resource {code!r} does not exist.")
    return resource


def list_resources(
    session: Session, *, site: str | None, kind: str | None, limit: int, offset: int
) -> ResourcePage:
    rows, total = ResourceRepository(session).list_at(
        site=site, kind=kind, limit=limit, offset=offset
    )
    return ResourcePage(
        items=[ResourceRead.model_validate(r) for r in rows],
        total=total,
        limit=limit,
        offset=offset,
    )
