from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from sop_demand.api.params import FormatQuery, Limit, MonthQuery, Offset
from sop_demand.history import service
from sop_demand.history.schemas import LoadMode, SalesLoadPage, SalesLoadRead, SalesPage, SalesRow
from sop_shared.auth import READ_ROLES, Caller, Role, require_roles
from sop_shared.bulk import IdempotencyKey, RawBody, bulk_openapi
from sop_shared.deps import SessionDep
from sop_shared.problems import problem_responses
from sop_shared.streaming import STREAM_RESPONSES

router = APIRouter(
    prefix="/sales-history", tags=["sales-history"], responses=problem_responses(401, 403, 422)
)

WRITERS = (Role.demand_planner, Role.integration)


@router.post(
    "",
    response_model=SalesLoadRead,
    responses=problem_responses(409, 413),
    openapi_extra=bulk_openapi(SalesRow),
    summary="Load sales history (CSV, JSON lines or JSON): all rows or none",
)
def load_sales_history(
    request: Request,
    body: RawBody,
    session: SessionDep,
    caller: Caller = require_roles(*WRITERS),
    mode: LoadMode = "replace",
    idempotency_key: IdempotencyKey = None,
) -> SalesLoadRead:
    """``mode=replace`` (default) replaces every month in the batch as a whole, so a
    corrected month re-sent by the ERP leaves no stale rows; ``mode=merge`` replaces only
    the batch's (product, site, channel, month) rows, for feeds split into several batches.
    """
    return service.load_sales(
        session,
        body=body,
        content_type=request.headers.get("content-type"),
        mode=mode,
        idempotency_key=idempotency_key,
        caller=caller,
    )


@router.get(
    "",
    response_model=SalesPage,
    responses=STREAM_RESPONSES,
    dependencies=[require_roles(*READ_ROLES)],
    summary="Sales history rows: a page, or a stream with ?format=jsonl|csv",
)
def list_sales_history(
    session: SessionDep,
    product: str | None = None,
    site: str | None = None,
    family: str | None = None,
    month_from: MonthQuery = None,
    month_to: MonthQuery = None,
    format: FormatQuery = "json",
    limit: Limit = 100,
    offset: Offset = 0,
) -> SalesPage | StreamingResponse:
    return service.read_sales(
        session,
        product=product,
        site=site,
        family=family,
        month_from=month_from,
        month_to=month_to,
        fmt=format,
        limit=limit,
        offset=offset,
    )


@router.get(
    "/loads",
    response_model=SalesLoadPage,
    dependencies=[require_roles(*READ_ROLES)],
    summary="Accepted history batches, newest first",
)
def list_sales_loads(session: SessionDep, limit: Limit = 100, offset: Offset = 0) -> SalesLoadPage:
    return service.list_loads(session, limit=limit, offset=offset)
