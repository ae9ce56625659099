from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from fastapi.responses import StreamingResponse

from sop_demand.api.params import FormatQuery, Limit, MonthQuery, Offset
from sop_demand.plans import service
from sop_demand.plans.schemas import (
    LatestEstimate,
    OverridePage,
    OverrideRequest,
    PlanCreate,
    PlanLinePage,
    PlanPage,
    PlanRead,
    PlanSummary,
)
from sop_shared.auth import READ_ROLES, Caller, Role, require_roles
from sop_shared.deps import SessionDep, SettingsDep
from sop_shared.etag import IfMatchHeader, parse_if_match, set_etag
from sop_shared.problems import problem_responses
from sop_shared.streaming import STREAM_RESPONSES

router = APIRouter(
    prefix="/demand-plans", tags=["demand-plans"], responses=problem_responses(401, 403, 422)
)
PLANNERS = (Role.demand_planner,)


def _read(plan: object, response: Response) -> PlanRead:
    read = PlanRead.model_validate(plan)
    set_etag(response, read.version)
    return read


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=PlanRead,
    responses=problem_responses(409),
    summary="New draft version: from the cycle's forecast (+ review effects) or based_on a version",
)
def create_demand_plan(
    data: PlanCreate,
    session: SessionDep,
    settings: SettingsDep,
    response: Response,
    caller: Caller = require_roles(*PLANNERS),
) -> PlanRead:
    plan = service.create_plan(
        session,
        data=data,
        caller=caller,
        default_site=settings.default_site,  # type: ignore[attr-defined]
    )
    response.headers["Location"] = f"/api/v1/demand-plans/{plan.id}"
    return _read(plan, response)


@router.get("", response_model=PlanPage, dependencies=[require_roles(*READ_ROLES)])
def list_demand_plans(
    session: SessionDep,
    cycle: MonthQuery = None,
    scenario: str | None = None,
    plan_status: Annotated[str | None, Query(alias="status")] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> PlanPage:
    return service.list_plans(
        session, cycle=cycle, scenario=scenario, status=plan_status, limit=limit, offset=offset
    )


@router.get(
    "/{plan_id}",
    response_model=PlanRead,
    responses=problem_responses(404),
    dependencies=[require_roles(*READ_ROLES)],
)
def get_demand_plan(plan_id: uuid.UUID, session: SessionDep, response: Response) -> PlanRead:
    return _read(service.get_plan(session, plan_id=plan_id), response)


@router.post(
    "/{plan_id}/overrides",
    response_model=PlanRead,
    responses=problem_responses(404, 409, 412, 428),
    summary="Override product or family totals of a draft (If-Match required)",
)
def override_demand_plan(
    plan_id: uuid.UUID,
    data: OverrideRequest,
    session: SessionDep,
    response: Response,
    if_match: IfMatchHeader = None,
    caller: Caller = require_roles(*PLANNERS),
) -> PlanRead:
    """A family's (or a product's) new total is split over its products (sites) in
    proportion to their baseline, the forecast after the product review. A submitted or
    approved version answers 409 and does not change."""
    plan = service.apply_overrides(
        session,
        plan_id=plan_id,
        data=data,
        if_match=parse_if_match(if_match, required=True),
        caller=caller,
    )
    return _read(plan, response)


@router.get(
    "/{plan_id}/overrides",
    response_model=OverridePage,
    responses=problem_responses(404),
    dependencies=[require_roles(*READ_ROLES)],
    summary="The audit trail of a version: who, when, why, old and new value",
)
def list_demand_plan_overrides(
    plan_id: uuid.UUID, session: SessionDep, limit: Limit = 100, offset: Offset = 0
) -> OverridePage:
    return service.list_overrides(session, plan_id=plan_id, limit=limit, offset=offset)


@router.post(
    "/{plan_id}/submit",
    response_model=PlanRead,
    responses=problem_responses(404, 409, 412, 428),
    summary="Submit a draft: it becomes immutable and demand.plan-changed is published",
)
def submit_demand_plan(
    plan_id: uuid.UUID,
    session: SessionDep,
    response: Response,
    if_match: IfMatchHeader = None,
    caller: Caller = require_roles(*PLANNERS),
) -> PlanRead:
    plan = service.submit_plan(
        session, plan_id=plan_id, if_match=parse_if_match(if_match, required=True), caller=caller
    )
    return _read(plan, response)


StreamFields = Annotated[
    str | None,
    Query(
        max_length=500,
        description="Streams only: the line fields to send, comma-separated (default: all)",
        examples=["product,site,month,quantity,forecast_sigma"],
    ),
]


@router.get(
    "/{plan_id}/lines",
    response_model=PlanLinePage,
    responses={**problem_responses(404), **STREAM_RESPONSES},
    dependencies=[require_roles(*READ_ROLES)],
    summary="Plan lines (product, family, site, month, quantity, revenue): page or stream",
)
def list_demand_plan_lines(
    plan_id: uuid.UUID,
    session: SessionDep,
    product: str | None = None,
    family: str | None = None,
    site: str | None = None,
    month: MonthQuery = None,
    format: FormatQuery = "json",
    fields: StreamFields = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> PlanLinePage | StreamingResponse:
    return service.read_lines(
        session,
        plan_id=plan_id,
        product=product,
        family=family,
        site=site,
        month=month,
        fmt=format,
        limit=limit,
        offset=offset,
        fields=fields,
    )


@router.get(
    "/{plan_id}/summary",
    response_model=PlanSummary,
    responses=problem_responses(404),
    dependencies=[require_roles(*READ_ROLES)],
    summary="Family × month quantity and revenue beside the budget",
)
def get_demand_plan_summary(plan_id: uuid.UUID, session: SessionDep) -> PlanSummary:
    return service.summary(session, plan_id=plan_id)


@router.get(
    "/{plan_id}/latest-estimate",
    response_model=LatestEstimate,
    responses=problem_responses(404),
    dependencies=[require_roles(*READ_ROLES)],
    summary="Demand LE vs budget: actuals year-to-date + plan for the rest of the year",
)
def get_demand_latest_estimate(
    plan_id: uuid.UUID,
    session: SessionDep,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
) -> LatestEstimate:
    return service.latest_estimate(session, plan_id=plan_id, year=year)
