from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header

from sop_capacity.api.params import Limit, Offset
from sop_capacity.ingest import BulkResult
from sop_capacity.routings import service
from sop_capacity.routings.schemas import RoutingPage, RoutingRow
from sop_shared.auth import READ_ROLES, Role, require_roles
from sop_shared.bulk import IdempotencyKey, RawBody, bulk_openapi
from sop_shared.deps import SessionDep
from sop_shared.problems import problem_responses

router = APIRouter(
    prefix="/routings", tags=["routings"], responses=problem_responses(401, 403, 422)
)


@router.post(
    "/bulk",
    response_model=BulkResult,
    responses=problem_responses(409, 413),
    dependencies=[require_roles(Role.capacity_planner, Role.integration)],
    openapi_extra=bulk_openapi(RoutingRow),
    summary="Load production methods (CSV, JSON lines or JSON array), all or nothing",
)
def bulk_upsert_routings(
    raw: RawBody,
    session: SessionDep,
    idempotency_key: IdempotencyKey = None,
    content_type: Annotated[str | None, Header()] = None,
) -> BulkResult:
    return service.bulk_upsert(
        session, raw=raw, content_type=content_type, idempotency_key=idempotency_key
    )


@router.get(
    "",
    response_model=RoutingPage,
    dependencies=[require_roles(*READ_ROLES)],
    summary="Production methods by product or resource",
)
def list_routings(
    session: SessionDep,
    product: str | None = None,
    resource: str | None = None,
    limit: Limit = 500,
    offset: Offset = 0,
) -> RoutingPage:
    return service.list_routings(
        session, product=product, resource=resource, limit=limit, offset=offset
    )
