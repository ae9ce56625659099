from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response, status

from sop_cycle.api.deps import CycleSettingsDep, PeersDep
from sop_cycle.cycles.schemas import MonthPath
from sop_cycle.scenarios import service
from sop_cycle.scenarios.schemas import (
    ScenarioComparison,
    ScenarioCreate,
    ScenarioPage,
    ScenarioRead,
    ScenarioUpdate,
)
from sop_shared.auth import READ_ROLES, Caller, Role, require_roles
from sop_shared.deps import SessionDep
from sop_shared.etag import IfMatchHeader, parse_if_match, set_etag
from sop_shared.problems import problem_responses
from sop_shared.types import MAX_OFFSET

router = APIRouter(
    prefix="/cycles/{month}/scenarios",
    tags=["scenarios"],
    responses=problem_responses(401, 403, 404, 422),
)
WRITERS = (Role.sop_coordinator, Role.executive)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ScenarioRead,
    responses=problem_responses(409),
    summary="Create a what-if scenario; publishes sop.cycle.scenario.changed.v1",
)
def create_scenario(
    month: MonthPath,
    data: ScenarioCreate,
    session: SessionDep,
    response: Response,
    caller: Annotated[Caller, require_roles(*WRITERS)],
) -> ScenarioRead:
    scenario = service.create_scenario(session, month=month, data=data, actor=caller)
    set_etag(response, scenario.version)
    response.headers["Location"] = f"/api/v1/cycles/{month}/scenarios/{scenario.code}"
    return ScenarioRead.model_validate(scenario)


@router.get("", response_model=ScenarioPage, dependencies=[require_roles(*READ_ROLES)])
def list_scenarios(
    month: MonthPath,
    session: SessionDep,
    status: Literal["active", "archived"] | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> ScenarioPage:
    return service.list_scenarios(session, month=month, status=status, limit=limit, offset=offset)


@router.get(
    "/compare",
    response_model=ScenarioComparison,
    dependencies=[require_roles(*READ_ROLES)],
    summary="Scenarios side by side on fill rate, unmet demand, revenue, margin, "
    "inventory value and utilisation (from the plans' summaries)",
)
def compare_scenarios(
    month: MonthPath,
    session: SessionDep,
    peers: PeersDep,
    settings: CycleSettingsDep,
    codes: Annotated[
        str | None, Query(description="Comma-separated scenario codes; default all active")
    ] = None,
) -> ScenarioComparison:
    wanted = [c.strip() for c in codes.split(",") if c.strip()] if codes else None
    return service.compare_scenarios(session, peers, month=month, codes=wanted, settings=settings)


@router.get("/{code}", response_model=ScenarioRead, dependencies=[require_roles(*READ_ROLES)])
def get_scenario(
    month: MonthPath, code: str, session: SessionDep, response: Response
) -> ScenarioRead:
    scenario = service.get_scenario(session, month=month, code=code)
    set_etag(response, scenario.version)
    return ScenarioRead.model_validate(scenario)


@router.patch(
    "/{code}",
    response_model=ScenarioRead,
    responses=problem_responses(409, 412),
    dependencies=[require_roles(*WRITERS)],
    summary="Change a scenario (If-Match); publishes sop.cycle.scenario.changed.v1 again",
)
def update_scenario(
    month: MonthPath,
    code: str,
    data: ScenarioUpdate,
    session: SessionDep,
    response: Response,
    if_match: IfMatchHeader = None,
) -> ScenarioRead:
    scenario = service.update_scenario(
        session, month=month, code=code, data=data, if_match=parse_if_match(if_match)
    )
    set_etag(response, scenario.version)
    return ScenarioRead.model_validate(scenario)
