from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from sop_cycle.cycles.schemas import MonthPath
from sop_cycle.plans import service
from sop_cycle.plans.schemas import PlanRecordPage
from sop_shared.auth import READ_ROLES, require_roles
from sop_shared.deps import SessionDep
from sop_shared.problems import problem_responses
from sop_shared.types import MAX_OFFSET

router = APIRouter(prefix="/cycles", tags=["plans"], responses=problem_responses(401, 403, 422))


@router.get(
    "/{month}/plans",
    response_model=PlanRecordPage,
    dependencies=[require_roles(*READ_ROLES)],
    summary="Plan versions the cycle learned of from the planning services' events",
)
def list_plans(
    month: MonthPath,
    session: SessionDep,
    scenario: str | None = None,
    kind: Literal["demand", "supply", "production"] | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> PlanRecordPage:
    return service.list_plans(
        session, cycle=month, scenario=scenario, kind=kind, limit=limit, offset=offset
    )
