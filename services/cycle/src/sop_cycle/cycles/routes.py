from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query, Response, status

from sop_cycle.api.deps import CycleSettingsDep, DataStatusDep, TodayDep
from sop_cycle.cycles import service
from sop_cycle.cycles.schemas import (
    CycleCreate,
    CycleDetail,
    CyclePage,
    CycleRead,
    MonthPath,
    ReopenRequest,
    StepName,
    StepRead,
    StepUpdate,
    TransitionPage,
    TransitionRequest,
)
from sop_cycle.cycles.workflow import Action
from sop_shared.auth import READ_ROLES, Caller, Role, require_roles
from sop_shared.deps import SessionDep
from sop_shared.etag import IfMatchHeader, parse_if_match, set_etag
from sop_shared.problems import problem_responses
from sop_shared.types import MAX_OFFSET

router = APIRouter(prefix="/cycles", tags=["cycles"], responses=problem_responses(401, 403, 422))

Coordinator = Annotated[Caller, require_roles(Role.sop_coordinator)]
#: Roles that own a step; the service checks the caller against the step's own owner.
StepActor = Annotated[
    Caller,
    require_roles(
        Role.sop_coordinator,
        Role.demand_planner,
        Role.supply_planner,
        Role.capacity_planner,
        Role.executive,
    ),
]
TRANSITION_PROBLEMS = problem_responses(404, 409, 412)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=CycleRead,
    responses=problem_responses(409),
    summary="Open the cycle of a month with its seven steps",
)
def open_cycle(
    data: CycleCreate, session: SessionDep, caller: Coordinator, settings: CycleSettingsDep
) -> CycleRead:
    cycle = service.open_cycle(session, data=data, actor=caller, settings=settings)
    return CycleRead.model_validate(cycle)


@router.get("", response_model=CyclePage, dependencies=[require_roles(*READ_ROLES)])
def list_cycles(
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> CyclePage:
    return service.list_cycles(session, limit=limit, offset=offset)


@router.get(
    "/{month}",
    response_model=CycleDetail,
    responses=problem_responses(404),
    dependencies=[require_roles(*READ_ROLES)],
    summary="A cycle with its steps, current plans and approval",
)
def get_cycle(month: MonthPath, session: SessionDep, today: TodayDep) -> CycleDetail:
    return service.cycle_detail(session, month=month, today=today)


@router.get(
    "/{month}/steps",
    response_model=list[StepRead],
    responses=problem_responses(404),
    dependencies=[require_roles(*READ_ROLES)],
)
def list_steps(month: MonthPath, session: SessionDep, today: TodayDep) -> list[StepRead]:
    return service.list_steps(session, month=month, today=today)


@router.get(
    "/{month}/steps/{step}",
    response_model=StepRead,
    responses=problem_responses(404),
    dependencies=[require_roles(*READ_ROLES)],
)
def get_step(
    month: MonthPath, step: StepName, session: SessionDep, today: TodayDep, response: Response
) -> StepRead:
    read = service.get_step(session, month=month, step=str(step), today=today)
    set_etag(response, read.version)
    return read


@router.patch(
    "/{month}/steps/{step}",
    response_model=StepRead,
    responses=problem_responses(404, 412),
    summary="Change a step's owner or due date (If-Match)",
)
def update_step(
    month: MonthPath,
    step: StepName,
    data: StepUpdate,
    session: SessionDep,
    caller: Coordinator,
    today: TodayDep,
    response: Response,
    if_match: IfMatchHeader = None,
) -> StepRead:
    read = service.update_step(
        session,
        month=month,
        step=str(step),
        data=data,
        if_match=parse_if_match(if_match),
        actor=caller,
        today=today,
    )
    set_etag(response, read.version)
    return read


@router.post(
    "/{month}/steps/{step}/start",
    response_model=StepRead,
    responses=TRANSITION_PROBLEMS,
    summary="Start a step (not_started, ready or stale → in_progress)",
)
def start_step(
    month: MonthPath,
    step: StepName,
    session: SessionDep,
    caller: StepActor,
    today: TodayDep,
    response: Response,
    data: Annotated[TransitionRequest | None, Body()] = None,
    if_match: IfMatchHeader = None,
) -> StepRead:
    read = service.transition(
        session,
        month=month,
        step=str(step),
        action=Action.start,
        actor=caller,
        reason=data.reason if data else None,
        if_match=parse_if_match(if_match),
        today=today,
    )
    set_etag(response, read.version)
    return read


@router.post(
    "/{month}/steps/{step}/complete",
    response_model=StepRead,
    responses=TRANSITION_PROBLEMS,
    summary="Complete a step once its gates hold (409 gate-not-met lists them)",
)
def complete_step(
    month: MonthPath,
    step: StepName,
    session: SessionDep,
    caller: StepActor,
    today: TodayDep,
    response: Response,
    data_status: DataStatusDep,
    data: Annotated[TransitionRequest | None, Body()] = None,
    if_match: IfMatchHeader = None,
) -> StepRead:
    read = service.transition(
        session,
        month=month,
        step=str(step),
        action=Action.complete,
        actor=caller,
        reason=data.reason if data else None,
        if_match=parse_if_match(if_match),
        today=today,
        data_status=data_status,
    )
    set_etag(response, read.version)
    return read


@router.post(
    "/{month}/steps/{step}/reopen",
    response_model=StepRead,
    responses=TRANSITION_PROBLEMS,
    summary="Reopen a completed or stale step; later completed steps become stale",
)
def reopen_step(
    month: MonthPath,
    step: StepName,
    data: ReopenRequest,
    session: SessionDep,
    caller: StepActor,
    today: TodayDep,
    response: Response,
    if_match: IfMatchHeader = None,
) -> StepRead:
    read = service.transition(
        session,
        month=month,
        step=str(step),
        action=Action.reopen,
        actor=caller,
        reason=data.reason,
        if_match=parse_if_match(if_match),
        today=today,
    )
    set_etag(response, read.version)
    return read


@router.get(
    "/{month}/audit",
    response_model=TransitionPage,
    responses=problem_responses(404),
    dependencies=[require_roles(*READ_ROLES)],
    summary="The audit trail: every step transition with who, when, from, to and why",
)
def audit_trail(
    month: MonthPath,
    session: SessionDep,
    step: StepName | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> TransitionPage:
    return service.audit_trail(
        session, month=month, step=str(step) if step else None, limit=limit, offset=offset
    )
