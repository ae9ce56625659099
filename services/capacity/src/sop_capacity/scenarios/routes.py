from __future__ import annotations

from fastapi import APIRouter

from sop_capacity.api.params import Limit, MonthQuery, Offset
from sop_capacity.scenarios import service
from sop_capacity.scenarios.schemas import ScenarioSettingPage
from sop_shared.auth import READ_ROLES, require_roles
from sop_shared.deps import SessionDep
from sop_shared.problems import problem_responses

router = APIRouter(
    prefix="/scenarios", tags=["scenarios"], responses=problem_responses(401, 403, 422)
)


@router.get(
    "",
    response_model=ScenarioSettingPage,
    dependencies=[require_roles(*READ_ROLES)],
    summary="Scenario parameters received from the cycle service and used by plan runs",
)
def list_scenarios(
    session: SessionDep, cycle: MonthQuery = None, limit: Limit = 100, offset: Offset = 0
) -> ScenarioSettingPage:
    return service.list_settings(session, cycle=cycle, limit=limit, offset=offset)
