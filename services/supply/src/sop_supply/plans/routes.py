"""Supply plans: run one, read versions, lines (page or stream), requirements and the review."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response, status
from sqlmodel import Session

from sop_shared.auth import READ_ROLES, Role, require_roles
from sop_shared.deps import CallerDep, SessionDep
from sop_shared.jobs import JobRead
from sop_shared.problems import problem_responses
from sop_shared.streaming import STREAM_RESPONSES, LineFormat
from sop_shared.types import Month
from sop_supply.plans import review, service
from sop_supply.plans.schemas import (
    BudgetComparison,
    ContractReview,
    ExceptionKind,
    ExceptionPage,
    MaterialConstraints,
    MaterialRequirementPage,
    MaterialRequirementRead,
    PlanLinePage,
    PlanLineRead,
    PlanRunRequest,
    PlanSummary,
    ProductionRequirementPage,
    ProductionRequirementRead,
    PurchaseRequirementPage,
    PurchaseRequirementRead,
    ScenarioPage,
    ScenarioRead,
    SupplyPlanPage,
    SupplyPlanRead,
)

router = APIRouter(
    prefix="/supply-plans", tags=["supply-plans"], responses=problem_responses(401, 403, 422)
)
Limit = Annotated[int, Query(ge=1, le=1000)]
Offset = Annotated[int, Query(ge=0, le=1_000_000_000)]
Format = Annotated[
    LineFormat, Query(alias="format", description="json: a page; jsonl or csv: every row, streamed")
]


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=JobRead,
    summary="Compute a supply plan for a demand plan (a job; the demand event does it unasked)",
    dependencies=[require_roles(Role.supply_planner, Role.integration)],
)
def run_supply_plan(
    data: PlanRunRequest, session: SessionDep, caller: CallerDep, response: Response
) -> JobRead:
    job = service.request_run(session, data=data, actor=caller.name)
    response.headers["Location"] = f"/api/v1/jobs/{job.id}"
    return JobRead.model_validate(job)


@router.get("", response_model=SupplyPlanPage, dependencies=[require_roles(*READ_ROLES)])
def list_supply_plans(
    session: SessionDep,
    cycle: Month | None = None,
    scenario: str | None = None,
    status: Annotated[
        Literal["unconstrained", "constrained", "approved"] | None,
        Query(description="approved: the versions executives approved (any computation)"),
    ] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> SupplyPlanPage:
    rows, total = service.list_plans(
        session, cycle=cycle, scenario=scenario, status=status, limit=limit, offset=offset
    )
    return SupplyPlanPage(
        items=[SupplyPlanRead.model_validate(r) for r in rows],
        total=total,
        limit=limit,
        offset=offset,
    )


@router.get(
    "/{plan_id}",
    response_model=SupplyPlanRead,
    responses=problem_responses(404),
    dependencies=[require_roles(*READ_ROLES)],
)
def get_supply_plan(plan_id: uuid.UUID, session: SessionDep) -> SupplyPlanRead:
    return SupplyPlanRead.model_validate(service.get_plan(session, plan_id))


def _lines(
    session: Session,
    plan_id: uuid.UUID,
    *,
    fmt: LineFormat,
    convert: Callable[[Any], dict[str, Any]],
    columns: list[str],
    filename: str,
    limit: int,
    offset: int,
    filters: dict[str, Any],
) -> Any:
    if fmt != "json":
        return service.stream_lines(
            session,
            plan_id,
            convert=convert,
            columns=columns,
            fmt=fmt,
            filename=filename,
            **filters,
        )
    items, total = service.lines_page(
        session, plan_id, convert=convert, limit=limit, offset=offset, **filters
    )
    return {"items": items, "total": total, "limit": limit, "offset": offset}


@router.get(
    "/{plan_id}/lines",
    response_model=PlanLinePage,
    responses={**STREAM_RESPONSES, **problem_responses(404)},
    summary="Projected inventory per item-site × month (page, or every line with ?format=)",
    dependencies=[require_roles(*READ_ROLES)],
)
def get_supply_plan_lines(
    plan_id: uuid.UUID,
    session: SessionDep,
    product: str | None = None,
    site: str | None = None,
    month: Month | None = None,
    kind: Literal["product", "material"] | None = None,
    make_or_buy: Literal["make", "buy"] | None = None,
    fmt: Format = "json",
    limit: Limit = 100,
    offset: Offset = 0,
) -> Any:
    return _lines(
        session,
        plan_id,
        fmt=fmt,
        convert=service.line_dict,
        columns=list(PlanLineRead.model_fields),
        filename=f"supply-plan-{plan_id}-lines",
        limit=limit,
        offset=offset,
        filters={
            "product": product,
            "site": site,
            "month": month,
            "kind": kind,
            "make_or_buy": make_or_buy,
        },
    )


@router.get(
    "/{plan_id}/production-requirements",
    response_model=ProductionRequirementPage,
    responses={**STREAM_RESPONSES, **problem_responses(404)},
    summary="Production requirements of the make item-sites (for the capacity service)",
    dependencies=[require_roles(*READ_ROLES)],
)
def get_production_requirements(
    plan_id: uuid.UUID,
    session: SessionDep,
    product: str | None = None,
    site: str | None = None,
    month: Month | None = None,
    fmt: Format = "json",
    limit: Limit = 100,
    offset: Offset = 0,
) -> Any:
    return _lines(
        session,
        plan_id,
        fmt=fmt,
        convert=service.production_requirement,
        columns=list(ProductionRequirementRead.model_fields),
        filename=f"supply-plan-{plan_id}-production",
        limit=limit,
        offset=offset,
        filters={"product": product, "site": site, "month": month, "make_or_buy": "make"},
    )


@router.get(
    "/{plan_id}/purchase-requirements",
    response_model=PurchaseRequirementPage,
    responses={**STREAM_RESPONSES, **problem_responses(404)},
    summary="Purchase requirements of the buy item-sites (traded products and materials)",
    dependencies=[require_roles(*READ_ROLES)],
)
def get_purchase_requirements(
    plan_id: uuid.UUID,
    session: SessionDep,
    product: str | None = None,
    site: str | None = None,
    month: Month | None = None,
    kind: Literal["product", "material"] | None = None,
    fmt: Format = "json",
    limit: Limit = 100,
    offset: Offset = 0,
) -> Any:
    return _lines(
        session,
        plan_id,
        fmt=fmt,
        convert=service.purchase_requirement,
        columns=list(PurchaseRequirementRead.model_fields),
        filename=f"supply-plan-{plan_id}-purchases",
        limit=limit,
        offset=offset,
        filters={
            "product": product,
            "site": site,
            "month": month,
            "kind": kind,
            "make_or_buy": "buy",
        },
    )


@router.get(
    "/{plan_id}/material-requirements",
    response_model=MaterialRequirementPage,
    responses={**STREAM_RESPONSES, **problem_responses(404)},
    summary="Material requirements from the bills of material, netted into purchase orders",
    dependencies=[require_roles(*READ_ROLES)],
)
def get_material_requirements(
    plan_id: uuid.UUID,
    session: SessionDep,
    material: str | None = None,
    site: str | None = None,
    month: Month | None = None,
    fmt: Format = "json",
    limit: Limit = 100,
    offset: Offset = 0,
) -> Any:
    return _lines(
        session,
        plan_id,
        fmt=fmt,
        convert=service.material_requirement,
        columns=list(MaterialRequirementRead.model_fields),
        filename=f"supply-plan-{plan_id}-materials",
        limit=limit,
        offset=offset,
        filters={"product": material, "site": site, "month": month, "kind": "material"},
    )


@router.get(
    "/{plan_id}/material-constraints",
    response_model=MaterialConstraints,
    responses=problem_responses(404),
    summary="Purchased materials that can limit production: stock, open orders, lead times, "
    "bills of material and contract maxima (for the capacity plan)",
    dependencies=[require_roles(*READ_ROLES)],
)
def get_material_constraints(plan_id: uuid.UUID, session: SessionDep) -> Any:
    return service.material_constraints(session, plan_id)


@router.get(
    "/{plan_id}/exceptions",
    response_model=ExceptionPage,
    responses={**STREAM_RESPONSES, **problem_responses(404)},
    summary="Exceptions: stock-out, below safety stock, above max, shelf life, past-due release, "
    "contract use",
    dependencies=[require_roles(*READ_ROLES)],
)
def get_supply_plan_exceptions(
    plan_id: uuid.UUID,
    session: SessionDep,
    kind: ExceptionKind | None = None,
    product: str | None = None,
    site: str | None = None,
    family: str | None = None,
    month: Month | None = None,
    fmt: Format = "json",
    limit: Limit = 100,
    offset: Offset = 0,
) -> Any:
    filters = {"kind": kind, "product": product, "site": site, "family": family, "month": month}
    if fmt != "json":
        return service.stream_exceptions(session, plan_id, fmt=fmt, **filters)
    items, total = service.exceptions_page(session, plan_id, limit=limit, offset=offset, **filters)
    return {"items": items, "total": total, "limit": limit, "offset": offset}


@router.get(
    "/{plan_id}/contract-review",
    response_model=ContractReview,
    responses=problem_responses(404),
    summary="Planned purchases per contract period against the committed minimum and maximum",
    dependencies=[require_roles(*READ_ROLES)],
)
def get_contract_review(plan_id: uuid.UUID, session: SessionDep) -> Any:
    return service.contract_review(session, plan_id)


@router.get(
    "/{plan_id}/summary",
    response_model=PlanSummary,
    responses=problem_responses(404),
    summary="By family × month: demand, supply, shortage, stock, value, exceptions, contracts",
    dependencies=[require_roles(*READ_ROLES)],
)
def get_supply_plan_summary(plan_id: uuid.UUID, session: SessionDep) -> Any:
    return review.summary(session, plan_id)


@router.get(
    "/{plan_id}/budget-comparison",
    response_model=BudgetComparison,
    responses=problem_responses(404),
    summary="Supply latest estimate vs budget (volume and value) and projected inventory value",
    description=review.BUDGET_RULE,
    dependencies=[require_roles(*READ_ROLES)],
)
def get_budget_comparison(
    plan_id: uuid.UUID,
    session: SessionDep,
    level: Literal["family", "product"] = "family",
    limit: Limit = 100,
    offset: Offset = 0,
) -> Any:
    return review.budget_comparison(session, plan_id, level=level, limit=limit, offset=offset)


scenarios_router = APIRouter(
    prefix="/scenarios", tags=["scenarios"], responses=problem_responses(401, 403, 422)
)


@scenarios_router.get(
    "",
    response_model=ScenarioPage,
    summary="Scenario parameters received from the cycle service (service_level override)",
    dependencies=[require_roles(*READ_ROLES)],
)
def list_scenarios(
    session: SessionDep, cycle: Month | None = None, limit: Limit = 100, offset: Offset = 0
) -> ScenarioPage:
    rows, total = service.list_scenarios(session, cycle=cycle, limit=limit, offset=offset)
    return ScenarioPage(
        items=[ScenarioRead.model_validate(r) for r in rows],
        total=total,
        limit=limit,
        offset=offset,
    )
