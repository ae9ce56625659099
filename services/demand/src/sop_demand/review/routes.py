from __future__ import annotations

import uuid

from fastapi import APIRouter

from sop_demand.api.params import MonthQuery
from sop_demand.review import service
from sop_demand.review.schemas import NpiForecast, NpiFunnel
from sop_shared.auth import READ_ROLES, require_roles
from sop_shared.deps import SessionDep
from sop_shared.problems import problem_responses

router = APIRouter(tags=["product-review"], responses=problem_responses(401, 403, 422))


@router.get(
    "/products/{code}/npi-forecast",
    response_model=NpiForecast,
    responses=problem_responses(404),
    dependencies=[require_roles(*READ_ROLES)],
    summary="An NPI's forecast, derived from its analog's (default: latest run)",
)
def get_npi_forecast(
    code: str,
    session: SessionDep,
    run_id: uuid.UUID | None = None,
    cycle: MonthQuery = None,
) -> NpiForecast:
    return service.npi_forecast(session, code=code, run_id=run_id, cycle=cycle)


@router.get(
    "/npi-funnel",
    response_model=NpiFunnel,
    responses=problem_responses(404),
    dependencies=[require_roles(*READ_ROLES)],
    summary="Planned launches with their probability and the expected volume",
)
def get_npi_funnel(
    session: SessionDep, run_id: uuid.UUID | None = None, cycle: MonthQuery = None
) -> NpiFunnel:
    return service.npi_funnel(session, run_id=run_id, cycle=cycle)
