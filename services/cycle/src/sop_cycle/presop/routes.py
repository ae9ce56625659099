from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from sop_cycle.api.deps import CycleSettingsDep, PeersDep
from sop_cycle.cycles.schemas import MonthPath
from sop_cycle.presop import service
from sop_cycle.presop.schemas import PreSopView
from sop_shared.auth import READ_ROLES, require_roles
from sop_shared.deps import SessionDep
from sop_shared.problems import problem_responses

router = APIRouter(
    prefix="/cycles", tags=["pre-sop"], responses=problem_responses(401, 403, 404, 422)
)


@router.get(
    "/{month}/pre-sop",
    response_model=PreSopView,
    dependencies=[require_roles(*READ_ROLES)],
    summary="The pre-S&OP reconciliation of a scenario: demand vs constrained supply, "
    "capacity, inventory vs targets, contracts, financials vs budget, issues and decisions",
)
def presop_view(
    month: MonthPath,
    session: SessionDep,
    peers: PeersDep,
    settings: CycleSettingsDep,
    scenario: Annotated[str, Query(max_length=40)] = "base",
) -> PreSopView:
    return service.presop_view(session, peers, month=month, scenario=scenario, settings=settings)
