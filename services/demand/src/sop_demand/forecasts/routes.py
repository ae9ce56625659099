from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from fastapi.responses import StreamingResponse

from sop_demand.api.params import FormatQuery, Limit, MonthQuery, Offset
from sop_demand.forecasts import service
from sop_demand.forecasts.schemas import (
    ForecastRunCreate,
    ForecastRunPage,
    ForecastRunRead,
    ForecastValuePage,
    SelectionPage,
    TotalPage,
)
from sop_shared.auth import READ_ROLES, Caller, Role, require_roles
from sop_shared.deps import SessionDep, SettingsDep
from sop_shared.problems import problem_responses
from sop_shared.streaming import STREAM_RESPONSES

router = APIRouter(
    prefix="/forecast-runs", tags=["forecast-runs"], responses=problem_responses(401, 403, 422)
)


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ForecastRunRead,
    responses=problem_responses(409),
    summary="Start a statistical forecast run (a job, partitioned by product family)",
)
def create_forecast_run(
    data: ForecastRunCreate,
    session: SessionDep,
    settings: SettingsDep,
    response: Response,
    caller: Caller = require_roles(Role.demand_planner),
) -> ForecastRunRead:
    """Answers at once with the run and its job; follow ``job_url`` for progress."""
    run = service.request_run(session, data=data, caller=caller, partitioned=settings.kafka.enabled)
    read = ForecastRunRead.model_validate(run)
    response.headers["Location"] = read.job_url
    return read


@router.get("", response_model=ForecastRunPage, dependencies=[require_roles(*READ_ROLES)])
def list_forecast_runs(
    session: SessionDep,
    cycle: MonthQuery = None,
    run_status: Annotated[str | None, Query(alias="status")] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> ForecastRunPage:
    return service.list_runs(session, cycle=cycle, status=run_status, limit=limit, offset=offset)


@router.get(
    "/{run_id}",
    response_model=ForecastRunRead,
    responses=problem_responses(404),
    dependencies=[require_roles(*READ_ROLES)],
)
def get_forecast_run(run_id: uuid.UUID, session: SessionDep) -> ForecastRunRead:
    return ForecastRunRead.model_validate(service.get_run(session, run_id=run_id))


@router.get(
    "/{run_id}/forecasts",
    response_model=ForecastValuePage,
    responses={**problem_responses(404), **STREAM_RESPONSES},
    dependencies=[require_roles(*READ_ROLES)],
    summary="Product × month forecasts with 80 % / 95 % intervals (page or stream)",
)
def list_forecast_values(
    run_id: uuid.UUID,
    session: SessionDep,
    product: str | None = None,
    family: str | None = None,
    format: FormatQuery = "json",
    limit: Limit = 100,
    offset: Offset = 0,
) -> ForecastValuePage | StreamingResponse:
    return service.read_values(
        session,
        run_id=run_id,
        product=product,
        family=family,
        fmt=format,
        limit=limit,
        offset=offset,
    )


@router.get(
    "/{run_id}/selections",
    response_model=SelectionPage,
    responses=problem_responses(404),
    dependencies=[require_roles(*READ_ROLES)],
    summary="Model chosen per product, its demand class and backtest scores",
)
def list_forecast_selections(
    run_id: uuid.UUID,
    session: SessionDep,
    family: str | None = None,
    model: str | None = None,
    demand_class: str | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> SelectionPage:
    return service.list_selections(
        session,
        run_id=run_id,
        family=family,
        model=model,
        demand_class=demand_class,
        limit=limit,
        offset=offset,
    )


@router.get(
    "/{run_id}/totals",
    response_model=TotalPage,
    responses=problem_responses(404),
    dependencies=[require_roles(*READ_ROLES)],
    summary="Family and category totals (sums of their products)",
)
def list_forecast_totals(
    run_id: uuid.UUID,
    session: SessionDep,
    level: str | None = None,
    node: str | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> TotalPage:
    return service.list_totals(
        session, run_id=run_id, level=level, node=node, limit=limit, offset=offset
    )
