from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Response, status
from fastapi.responses import HTMLResponse

from sop_cycle.api.deps import CycleSettingsDep, PeersDep, TodayDep
from sop_cycle.cycles import service as cycles
from sop_cycle.cycles.schemas import ApprovalRead, CycleDetail, MonthPath
from sop_cycle.executive import service
from sop_cycle.executive.schemas import (
    ApprovedPlan,
    ApproveRequest,
    DecisionCreate,
    DecisionPage,
    DecisionRead,
    DecisionUpdate,
    KpiSeries,
    SendBackRequest,
)
from sop_shared.auth import READ_ROLES, Caller, Role, require_roles
from sop_shared.deps import SessionDep
from sop_shared.etag import IfMatchHeader, parse_if_match, set_etag
from sop_shared.jobs import JobRead
from sop_shared.problems import problem_responses
from sop_shared.types import MAX_INT32, MAX_OFFSET

router = APIRouter(prefix="/cycles", tags=["executive"], responses=problem_responses(401, 403, 422))
kpi_router = APIRouter(prefix="/kpis", tags=["kpis"], responses=problem_responses(401, 403, 422))

# A row id: out-of-range ids are a 422, not an integer overflow in the database driver.
DecisionId = Annotated[int, Path(ge=1, le=MAX_INT32)]
# Separation of duties: only executives approve or send back, not administrators.
Executive = Annotated[Caller, require_roles(Role.executive, admin=False)]
MeetingMember = Annotated[Caller, require_roles(Role.sop_coordinator, Role.executive)]
Coordinator = Annotated[Caller, require_roles(Role.sop_coordinator)]


@router.post(
    "/{month}/decisions",
    status_code=status.HTTP_201_CREATED,
    response_model=DecisionRead,
    responses=problem_responses(404),
    summary="Record a decision: topic, options, chosen option, owner, due date",
)
def create_decision(
    month: MonthPath,
    data: DecisionCreate,
    session: SessionDep,
    caller: MeetingMember,
    response: Response,
) -> DecisionRead:
    decision = service.create_decision(session, month=month, data=data, actor=caller)
    set_etag(response, decision.version)
    return DecisionRead.model_validate(decision)


@router.get(
    "/{month}/decisions",
    response_model=DecisionPage,
    responses=problem_responses(404),
    dependencies=[require_roles(*READ_ROLES)],
)
def list_decisions(
    month: MonthPath,
    session: SessionDep,
    status: Literal["open", "decided", "deferred", "cancelled"] | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> DecisionPage:
    return service.list_decisions(session, month=month, status=status, limit=limit, offset=offset)


@router.get(
    "/{month}/decisions/{decision_id}",
    response_model=DecisionRead,
    responses=problem_responses(404),
    dependencies=[require_roles(*READ_ROLES)],
)
def get_decision(
    month: MonthPath, decision_id: DecisionId, session: SessionDep, response: Response
) -> DecisionRead:
    decision = service.get_decision(session, month=month, decision_id=decision_id)
    set_etag(response, decision.version)
    return DecisionRead.model_validate(decision)


@router.patch(
    "/{month}/decisions/{decision_id}",
    response_model=DecisionRead,
    responses=problem_responses(404, 412),
    summary="Choose an option, change owner or due date (If-Match)",
)
def update_decision(
    month: MonthPath,
    decision_id: DecisionId,
    data: DecisionUpdate,
    session: SessionDep,
    caller: MeetingMember,
    response: Response,
    if_match: IfMatchHeader = None,
) -> DecisionRead:
    decision = service.update_decision(
        session,
        month=month,
        decision_id=decision_id,
        data=data,
        if_match=parse_if_match(if_match),
        actor=caller,
    )
    set_etag(response, decision.version)
    return DecisionRead.model_validate(decision)


@router.post(
    "/{month}/approve",
    response_model=ApprovalRead,
    responses=problem_responses(404, 409),
    summary="Approve the plan (executives only, once per cycle); publishes "
    "sop.cycle.plan.approved.v1",
)
def approve(
    month: MonthPath, session: SessionDep, caller: Executive, data: ApproveRequest | None = None
) -> ApprovalRead:
    return service.approve(session, month=month, data=data or ApproveRequest(), actor=caller)


@router.get(
    "/{month}/approved-plan",
    response_model=ApprovedPlan,
    responses=problem_responses(404),
    dependencies=[require_roles(*READ_ROLES)],
    summary="The approved plan for an ERP: scenario, approver, time, the three plan versions "
    "with links to their lines (CSV/JSONL) and the financial summary; 404 until approved",
)
def get_approved_plan(month: MonthPath, session: SessionDep) -> ApprovedPlan:
    return service.approved_plan(session, month=month)


@router.post(
    "/{month}/send-back",
    response_model=CycleDetail,
    responses=problem_responses(404, 409),
    summary="Send the plan back with a comment: the named step reopens, later steps go stale",
)
def send_back(
    month: MonthPath,
    data: SendBackRequest,
    session: SessionDep,
    caller: Executive,
    today: TodayDep,
) -> CycleDetail:
    service.send_back(session, month=month, data=data, actor=caller)
    return cycles.cycle_detail(session, month=month, today=today)


@router.get(
    "/{month}/review-pack",
    response_class=HTMLResponse,
    responses={
        200: {"content": {"text/html": {}}, "description": "The pack as one HTML document"},
        **problem_responses(404),
    },
    dependencies=[require_roles(*READ_ROLES)],
    summary="The executive review pack (HTML with inline SVG charts), as a download",
)
def review_pack(
    month: MonthPath,
    session: SessionDep,
    peers: PeersDep,
    settings: CycleSettingsDep,
    today: TodayDep,
    scenario: Annotated[str | None, Query(max_length=40)] = None,
) -> HTMLResponse:
    html = service.review_pack(
        session, peers, month=month, scenario=scenario, settings=settings, today=today
    )
    return HTMLResponse(
        html,
        headers={"Content-Disposition": f'attachment; filename="sop-review-{month}.html"'},
    )


@router.post(
    "/{month}/kpis/refresh",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=JobRead,
    responses=problem_responses(404, 409),
    summary="Recompute the approved plan's KPIs (e.g. once actuals are in); a job",
)
def refresh_kpis(
    month: MonthPath, session: SessionDep, caller: Coordinator, response: Response
) -> JobRead:
    job = service.request_kpi_refresh(session, month=month, actor=caller)
    response.headers["Location"] = f"/api/v1/jobs/{job.id}"
    return JobRead.model_validate(job)


@kpi_router.get(
    "",
    response_model=KpiSeries,
    dependencies=[require_roles(*READ_ROLES)],
    summary="KPIs across cycles as a time series: forecast accuracy and bias, fill rate, "
    "inventory days, utilisation, plan vs budget",
)
def kpi_series(
    session: SessionDep,
    start: Annotated[
        str | None, Query(alias="from", pattern=r"^(19|2\d)\d{2}-(0[1-9]|1[0-2])$")
    ] = None,
    end: Annotated[
        str | None, Query(alias="to", pattern=r"^(19|2\d)\d{2}-(0[1-9]|1[0-2])$")
    ] = None,
    lag: Annotated[
        int,
        Query(
            ge=1,
            le=4,
            description="Forecast lag in months: target month − last month of actuals the "
            "plan was made with; 1 = the cycle month (the plan of cycle M for month M)",
        ),
    ] = 1,
) -> KpiSeries:
    return service.kpi_series(session, start=start, end=end, lag=lag)
