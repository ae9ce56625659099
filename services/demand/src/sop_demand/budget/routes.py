from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request

from sop_demand.api.params import Limit, Offset
from sop_demand.budget import service
from sop_demand.budget.schemas import BudgetLoadResult, BudgetPage, BudgetRow
from sop_shared.auth import READ_ROLES, Caller, Role, require_roles
from sop_shared.bulk import IdempotencyKey, RawBody, bulk_openapi
from sop_shared.deps import SessionDep
from sop_shared.problems import problem_responses

router = APIRouter(
    prefix="/demand-budgets", tags=["demand-budgets"], responses=problem_responses(401, 403, 422)
)


@router.post(
    "",
    response_model=BudgetLoadResult,
    responses=problem_responses(409, 413),
    openapi_extra=bulk_openapi(BudgetRow),
    summary="Upsert budget cells per product or family × month (JSON, JSON lines or CSV)",
)
def load_demand_budget(
    request: Request,
    body: RawBody,
    session: SessionDep,
    caller: Caller = require_roles(Role.demand_planner, Role.integration, Role.sop_coordinator),
    idempotency_key: IdempotencyKey = None,
) -> BudgetLoadResult:
    return service.load_budget(
        session,
        body=body,
        content_type=request.headers.get("content-type"),
        idempotency_key=idempotency_key,
        caller=caller,
    )


@router.get("", response_model=BudgetPage, dependencies=[require_roles(*READ_ROLES)])
def list_demand_budget(
    session: SessionDep,
    level: Literal["product", "family"] | None = None,
    node: str | None = None,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> BudgetPage:
    return service.list_budget(
        session, level=level, node=node, year=year, limit=limit, offset=offset
    )
