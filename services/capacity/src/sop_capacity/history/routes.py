from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header

from sop_capacity.api.params import Limit, MonthQuery, Offset
from sop_capacity.history import service
from sop_capacity.history.schemas import HistoryPage, HistoryRow, UtilisationList
from sop_capacity.ingest import BulkResult
from sop_shared.auth import READ_ROLES, Role, require_roles
from sop_shared.bulk import IdempotencyKey, RawBody, bulk_openapi
from sop_shared.deps import SessionDep
from sop_shared.problems import problem_responses

router = APIRouter(
    prefix="/production-history",
    tags=["production-history"],
    responses=problem_responses(401, 403, 422),
)


@router.post(
    "/bulk",
    response_model=BulkResult,
    responses=problem_responses(409, 413),
    dependencies=[require_roles(Role.capacity_planner, Role.integration)],
    openapi_extra=bulk_openapi(HistoryRow),
    summary="Load actual output and hours (CSV, JSON lines or JSON array), all or nothing",
)
def bulk_upsert_history(
    raw: RawBody,
    session: SessionDep,
    idempotency_key: IdempotencyKey = None,
    content_type: Annotated[str | None, Header()] = None,
) -> BulkResult:
    return service.bulk_upsert(
        session, raw=raw, content_type=content_type, idempotency_key=idempotency_key
    )


@router.get("", response_model=HistoryPage, dependencies=[require_roles(*READ_ROLES)])
def list_history(
    session: SessionDep,
    resource: str | None = None,
    from_month: MonthQuery = None,
    to_month: MonthQuery = None,
    limit: Limit = 500,
    offset: Offset = 0,
) -> HistoryPage:
    return service.list_history(
        session,
        resource=resource,
        from_month=from_month,
        to_month=to_month,
        limit=limit,
        offset=offset,
    )


@router.get(
    "/utilisation",
    response_model=UtilisationList,
    dependencies=[require_roles(*READ_ROLES)],
    summary="Real utilisation (hours worked / calendar hours) and efficiency per resource-month",
)
def get_utilisation(
    session: SessionDep,
    resource: str | None = None,
    from_month: MonthQuery = None,
    to_month: MonthQuery = None,
) -> UtilisationList:
    return service.utilisation(session, resource=resource, from_month=from_month, to_month=to_month)
