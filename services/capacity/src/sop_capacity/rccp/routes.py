from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from sop_capacity.api.deps import SupplyDep
from sop_capacity.rccp import service
from sop_capacity.rccp.schemas import RoughCutRead
from sop_shared.auth import READ_ROLES, require_roles
from sop_shared.deps import SessionDep
from sop_shared.problems import problem_responses

router = APIRouter(
    prefix="/rough-cut", tags=["rough-cut"], responses=problem_responses(401, 403, 422)
)


@router.get(
    "",
    response_model=RoughCutRead,
    responses=problem_responses(404, 502, 503),
    dependencies=[require_roles(*READ_ROLES)],
    summary="Rough-cut load per resource x month of a supply plan's production requirements",
)
def get_rough_cut(
    session: SessionDep,
    supply: SupplyDep,
    supply_plan_id: Annotated[str, Query(min_length=1, max_length=64)],
    cycle: Annotated[str | None, Query(description="With scenario: apply its parameters")] = None,
    scenario: str | None = None,
    overload_threshold: Annotated[float, Query(gt=0, le=100)] = 1.0,
    idle_threshold: Annotated[float, Query(ge=0, le=100)] = 0.5,
    top: Annotated[int, Query(ge=1, le=20, description="Products named per overload")] = 3,
) -> RoughCutRead:
    return service.rough_cut_for_supply_plan(
        session,
        supply,
        supply_plan_id=supply_plan_id,
        cycle=cycle,
        scenario=scenario,
        thresholds=service.Thresholds(overload_threshold, idle_threshold, top),
    )
