from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header

from sop_capacity.api.params import Limit, MonthQuery, Offset
from sop_capacity.calendars import service
from sop_capacity.calendars.schemas import CalendarPage, CalendarRow
from sop_capacity.ingest import BulkResult
from sop_shared.auth import READ_ROLES, Role, require_roles
from sop_shared.bulk import IdempotencyKey, RawBody, bulk_openapi
from sop_shared.deps import SessionDep
from sop_shared.problems import problem_responses

router = APIRouter(
    prefix="/calendars", tags=["calendars"], responses=problem_responses(401, 403, 422)
)


@router.post(
    "/bulk",
    response_model=BulkResult,
    responses=problem_responses(409, 413),
    dependencies=[require_roles(Role.capacity_planner, Role.integration)],
    openapi_extra=bulk_openapi(CalendarRow),
    summary="Load resource calendars per month (CSV, JSON lines or JSON array), all or nothing",
)
def bulk_upsert_calendars(
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
    response_model=CalendarPage,
    dependencies=[require_roles(*READ_ROLES)],
    summary="Calendars with their available hours, by resource and month",
)
def list_calendars(
    session: SessionDep,
    resource: str | None = None,
    from_month: MonthQuery = None,
    to_month: MonthQuery = None,
    limit: Limit = 500,
    offset: Offset = 0,
) -> CalendarPage:
    return service.list_calendars(
        session,
        resource=resource,
        from_month=from_month,
        to_month=to_month,
        limit=limit,
        offset=offset,
    )
