from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response, status

from sop_capacity.api.params import Limit, MonthQuery, Offset
from sop_capacity.production_plans import review, service
from sop_capacity.production_plans.models import Strategy
from sop_capacity.production_plans.schemas import (
    LoadPage,
    MaterialPage,
    PlanLinePage,
    PositionPage,
    ProductionPlanPage,
    ProductionPlanRead,
    ProductionPlanRequest,
    ProductionPlanSummary,
    ProductionReview,
)
from sop_shared.auth import READ_ROLES, Caller, Role, require_roles
from sop_shared.deps import SessionDep
from sop_shared.jobs import JobRead
from sop_shared.problems import problem_responses
from sop_shared.streaming import STREAM_RESPONSES, LineFormat

router = APIRouter(
    prefix="/production-plans",
    tags=["production-plans"],
    responses=problem_responses(401, 403, 422),
)

RUNNERS = (Role.capacity_planner, Role.sop_coordinator, Role.integration)


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=JobRead,
    summary="Compute a production plan for a supply plan (a job: poll /jobs/{id}); the "
    "supply plan must be of the run's cycle and scenario (422 scenario-mismatch)",
)
def create_production_plan(
    data: ProductionPlanRequest,
    session: SessionDep,
    response: Response,
    caller: Annotated[Caller, require_roles(*RUNNERS)],
) -> JobRead:
    job = service.request_run(session, data=data, actor=caller.name)
    response.headers["Location"] = f"/api/v1/jobs/{job.id}"
    return JobRead.model_validate(job)


@router.get("", response_model=ProductionPlanPage, dependencies=[require_roles(*READ_ROLES)])
def list_production_plans(
    session: SessionDep,
    cycle: MonthQuery = None,
    scenario: str | None = None,
    supply_plan_id: str | None = None,
    strategy: Strategy | None = None,
    status: Annotated[
        Literal["published", "frozen", "approved"] | None,
        Query(description="approved: the versions executives approved (frozen here)"),
    ] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> ProductionPlanPage:
    return service.list_plans(
        session,
        status=status,
        cycle=cycle,
        scenario=scenario,
        supply_plan_id=supply_plan_id,
        strategy=strategy,
        limit=limit,
        offset=offset,
    )


@router.get(
    "/{plan_id}",
    response_model=ProductionPlanRead,
    responses=problem_responses(404),
    dependencies=[require_roles(*READ_ROLES)],
)
def get_production_plan(plan_id: uuid.UUID, session: SessionDep) -> ProductionPlanRead:
    return ProductionPlanRead.model_validate(service.get_plan(session, plan_id=plan_id))


@router.get(
    "/{plan_id}/lines",
    response_model=PlanLinePage,
    responses={**problem_responses(404), **STREAM_RESPONSES},
    dependencies=[require_roles(*READ_ROLES)],
    summary="Production per product, site, month and resource: a page, or all as JSONL/CSV",
)
def get_production_plan_lines(
    plan_id: uuid.UUID,
    session: SessionDep,
    product: str | None = None,
    resource: str | None = None,
    month: MonthQuery = None,
    format: LineFormat = "json",
    limit: Limit = 1000,
    offset: Offset = 0,
) -> Any:
    if format == "json":
        return service.lines_page(
            session,
            plan_id=plan_id,
            product=product,
            resource=resource,
            month=month,
            limit=limit,
            offset=offset,
        )
    return service.stream_lines(
        session, plan_id=plan_id, product=product, resource=resource, month=month, fmt=format
    )


@router.get(
    "/{plan_id}/positions",
    response_model=PositionPage,
    responses={**problem_responses(404), **STREAM_RESPONSES},
    dependencies=[require_roles(*READ_ROLES)],
    summary="Requirement, production, stock built ahead and backlog per product-site-month",
)
def get_production_plan_positions(
    plan_id: uuid.UUID,
    session: SessionDep,
    product: str | None = None,
    backordered: bool = False,
    format: LineFormat = "json",
    limit: Limit = 1000,
    offset: Offset = 0,
) -> Any:
    if format == "json":
        return service.positions_page(
            session,
            plan_id=plan_id,
            product=product,
            backordered=backordered,
            limit=limit,
            offset=offset,
        )
    return service.stream_positions(
        session, plan_id=plan_id, product=product, backordered=backordered, fmt=format
    )


@router.get(
    "/{plan_id}/materials",
    response_model=MaterialPage,
    responses={**problem_responses(404), **STREAM_RESPONSES},
    dependencies=[require_roles(*READ_ROLES)],
    summary="Purchased materials per site-month: stock, open orders, purchases, use, binding",
)
def get_production_plan_materials(
    plan_id: uuid.UUID,
    session: SessionDep,
    material: str | None = None,
    format: LineFormat = "json",
    limit: Limit = 1000,
    offset: Offset = 0,
) -> Any:
    if format == "json":
        return service.materials_page(
            session, plan_id=plan_id, material=material, limit=limit, offset=offset
        )
    return service.stream_materials(session, plan_id=plan_id, material=material, fmt=format)


@router.get(
    "/{plan_id}/loads",
    response_model=LoadPage,
    responses=problem_responses(404),
    dependencies=[require_roles(*READ_ROLES)],
    summary="Hours per resource-month before (rough-cut) and after the plan, with crews",
)
def get_production_plan_loads(
    plan_id: uuid.UUID,
    session: SessionDep,
    resource: str | None = None,
    limit: Limit = 1000,
    offset: Offset = 0,
) -> LoadPage:
    return service.loads_page(
        session, plan_id=plan_id, resource=resource, limit=limit, offset=offset
    )


UnmetLimit = Annotated[int, Query(ge=1, le=5000, description="Late products listed")]


@router.get(
    "/{plan_id}/summary",
    response_model=ProductionPlanSummary,
    responses=problem_responses(404),
    dependencies=[require_roles(*READ_ROLES)],
    summary="Utilisation, bottlenecks, overtime, headcount, costs and unmet demand",
)
def get_production_plan_summary(
    plan_id: uuid.UUID, session: SessionDep, unmet_limit: UnmetLimit = 50
) -> ProductionPlanSummary:
    return review.summary(session, plan_id=plan_id, unmet_limit=unmet_limit)


@router.get(
    "/{plan_id}/review",
    response_model=ProductionReview,
    responses=problem_responses(404),
    dependencies=[require_roles(*READ_ROLES)],
    summary="Production review: before/after, crews, overtime, unmet demand and why, options",
)
def get_production_review(
    plan_id: uuid.UUID, session: SessionDep, unmet_limit: UnmetLimit = 200
) -> ProductionReview:
    return review.review(session, plan_id=plan_id, unmet_limit=unmet_limit)
