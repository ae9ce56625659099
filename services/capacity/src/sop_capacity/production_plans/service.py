"""Production-plan use cases: ask for a run, write a computed plan, freeze, read.

The computation itself runs as a job (``jobs.py``); this module holds what happens
inside one transaction: the plan header, its rows and its event, all or nothing.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import numpy as np
from fastapi.responses import StreamingResponse
from sqlmodel import Session

from sop_capacity.planning import RccpResult
from sop_capacity.planning_input import CapacityModel
from sop_capacity.production_plans import events
from sop_capacity.production_plans.models import (
    PlanStatus,
    PlanTrigger,
    ProductionPlan,
)
from sop_capacity.production_plans.repository import (
    LINE_COLUMNS,
    MATERIAL_COLUMNS,
    POSITION_COLUMNS,
    LineRepository,
    LoadRepository,
    MaterialRepository,
    PositionRepository,
    ProductionPlanRepository,
)
from sop_capacity.production_plans.schemas import (
    LoadPage,
    LoadRead,
    MaterialPage,
    MaterialRead,
    PlanLinePage,
    PlanLineRead,
    PositionPage,
    PositionRead,
    ProductionPlanPage,
    ProductionPlanRead,
    ProductionPlanRequest,
    RunParams,
)
from sop_capacity.production_plans.strategies import Outcome
from sop_capacity.production_plans.writer import load_figures, write_detail
from sop_shared.events.catalog import PlanChangedData
from sop_shared.events.lineage import require_run_scenario
from sop_shared.jobs import Job, JobState, create_job
from sop_shared.problems import NotFound
from sop_shared.streaming import LineFormat, stream_query

JOB_KIND = "production-plan"


def request_run(session: Session, *, data: ProductionPlanRequest, actor: str) -> Job:
    """Queue a manual run; the job poller starts it once this transaction commits.

    A supply plan this service already knows of (from its event) must be of the run's
    cycle and scenario; the job checks the others against supply before planning.
    """
    known = ProductionPlanRepository(session).triggers_of(data.supply_plan_id)
    if known and all((t.cycle, t.scenario) != (data.cycle, data.scenario) for t in known):
        require_run_scenario(
            upstream="supply plan",
            plan_id=data.supply_plan_id,
            of=(known[0].cycle, known[0].scenario),
            run=(data.cycle, data.scenario),
        )
    params = {**data.model_dump(mode="json"), "trigger": "manual"}
    return create_job(session, kind=JOB_KIND, params=params, created_by=actor)


def queue_for_supply_plan(session: Session, *, data: PlanChangedData, event_id: str) -> Job | None:
    """The automatic run for an unconstrained supply plan, queued once per (plan, scenario).

    The same plan announced again (a replayed or republished event) queues nothing, unless
    the run it queued failed for good: that one is queued again, so a chain is never left
    without a job.
    """
    repo = ProductionPlanRepository(session)
    trigger = repo.trigger(data.plan_id, data.scenario)
    if trigger is not None:
        earlier = session.get(Job, trigger.job_id)
        if earlier is not None and earlier.state != JobState.failed:
            return None
    params = RunParams(
        supply_plan_id=data.plan_id,
        supply_plan_version=data.version,
        cycle=data.cycle,
        scenario=data.scenario,
    )
    job = create_job(
        session,
        kind=JOB_KIND,
        params={**params.model_dump(mode="json"), "trigger": "event", "event_id": event_id},
        created_by="event:sop.supply.plan.changed.v1",
    )
    trigger = trigger or PlanTrigger(
        supply_plan_id=data.plan_id,
        scenario=data.scenario,
        cycle=data.cycle,
        supply_plan_version=data.version,
    )
    trigger.event_id, trigger.job_id = event_id, job.id  # a new trigger, or a failed run retried
    session.add(trigger)
    session.flush()
    return job


def write_plan(
    session: Session,
    *,
    params: RunParams,
    model: CapacityModel,
    outcome: Outcome,
    before: RccpResult,
    comparison: dict[str, Any],
    trigger: str,
    job_id: uuid.UUID | None,
    created_by: str,
    build_seconds: float,
) -> ProductionPlan:
    """Header, lines, positions, loads and the outbox event in the caller's one transaction."""
    started = datetime.now(UTC)
    figures = load_figures(model, outcome)
    totals = {
        "requirement": float(model.requirement.sum()),
        "production": float(outcome.production.sum()),
        "backordered_unit_months": float(outcome.backorder.sum()),
        "ending_backorder": float(outcome.backorder[:, -1].sum()),
        "safety_stock_shortfall_unit_months": float(outcome.shortfall.sum()),
        "overtime_hours": float(outcome.overtime_hours.sum()),
        "hours_used": float(outcome.hours_used.sum()),
        "hires": float(outcome.hires.sum()),
        "fires": float(outcome.fires.sum()),
        "binding_cells": int(figures.binding.sum()),
        "overloaded_cells": int(figures.overloaded.sum()),
        "rccp_overloaded_cells": int(before.overloaded.sum()),
        "unplannable_products": len(model.unplannable),
        "products": len(model.pairs),
        "resources": len(model.resources),
        "months": len(model.months),
        "rounding": outcome.rounding,
    }
    plan = ProductionPlan(
        cycle=params.cycle,
        scenario=params.scenario,
        version=ProductionPlanRepository(session).next_version(params.cycle, params.scenario),
        supply_plan_id=params.supply_plan_id,
        supply_plan_version=params.supply_plan_version,
        strategy=outcome.strategy,
        solve_status=outcome.solve_status,
        solve_message=outcome.message[:500],
        first_month=model.months[0],
        last_month=model.months[-1],
        costs=outcome.costs.as_dict(),
        comparison=comparison,
        totals=totals,
        warnings=(model.warnings + outcome.warnings)[:50],
        model_size=outcome.model_size,
        overtime_allowed=model.overtime_allowed,
        build_seconds=build_seconds + outcome.build_seconds,
        solve_seconds=outcome.solve_seconds,
        trigger=trigger,
        job_id=job_id,
        created_by=created_by,
    )
    session.add(plan)
    session.flush()
    counts = write_detail(session, plan.id, model, outcome, before, figures)
    plan.write_seconds = (datetime.now(UTC) - started).total_seconds()
    session.add(plan)
    events.plan_changed(
        session,
        plan,
        counts={
            "lines": counts["lines"],
            "products": len(model.pairs),
            "binding_cells": int(figures.binding.sum()),
            "backordered_products": int(np.count_nonzero(outcome.backorder.sum(axis=1) > 1e-7)),
            "unplannable_products": len(model.unplannable),
        },
    )
    return plan


def freeze(session: Session, *, plan_id: str, actor: str, at: datetime) -> ProductionPlan | None:
    """Mark the approved version frozen; an unknown or malformed id changes nothing."""
    try:
        key = uuid.UUID(plan_id)
    except ValueError:
        return None
    repo = ProductionPlanRepository(session)
    plan = repo.get_for_update(id=key)
    if plan is None or plan.status == PlanStatus.frozen:
        return plan
    plan.status = PlanStatus.frozen
    plan.frozen_at = at
    plan.frozen_by = actor[:200]
    session.add(plan)
    return plan


def get_plan(session: Session, *, plan_id: uuid.UUID) -> ProductionPlan:
    plan = ProductionPlanRepository(session).find(plan_id)
    if plan is None:
        raise NotFound(f"Production plan {plan_id} does not exist.")
    return plan


def list_plans(
    session: Session,
    *,
    cycle: str | None,
    scenario: str | None,
    supply_plan_id: str | None,
    strategy: str | None,
    limit: int,
    offset: int,
    status: str | None = None,
) -> ProductionPlanPage:
    rows, total = ProductionPlanRepository(session).page(
        cycle=cycle,
        scenario=scenario,
        supply_plan_id=supply_plan_id,
        strategy=strategy,
        # the one approval vocabulary of the three plan lists: approved = frozen here
        status=PlanStatus.frozen if status == "approved" else status,
        limit=limit,
        offset=offset,
    )
    return ProductionPlanPage(
        items=[ProductionPlanRead.model_validate(r) for r in rows],
        total=total,
        limit=limit,
        offset=offset,
    )


def lines_page(
    session: Session,
    *,
    plan_id: uuid.UUID,
    product: str | None,
    resource: str | None,
    month: str | None,
    limit: int,
    offset: int,
) -> PlanLinePage:
    get_plan(session, plan_id=plan_id)
    rows, total = LineRepository(session).lines_page(
        plan_id, product=product, resource=resource, month=month, limit=limit, offset=offset
    )
    return PlanLinePage(
        items=[PlanLineRead.model_validate(r) for r in rows],
        total=total,
        limit=limit,
        offset=offset,
    )


def stream_lines(
    session: Session,
    *,
    plan_id: uuid.UUID,
    product: str | None,
    resource: str | None,
    month: str | None,
    fmt: LineFormat,
) -> StreamingResponse:
    """404 now; then every line, read after the request's transaction has committed."""
    get_plan(session, plan_id=plan_id)
    query = LineRepository(session).stream_query(
        plan_id, product=product, resource=resource, month=month
    )
    return stream_query(
        session, query, columns=LINE_COLUMNS, fmt=fmt, filename=f"production-{plan_id}"
    )


def positions_page(
    session: Session,
    *,
    plan_id: uuid.UUID,
    product: str | None,
    backordered: bool,
    limit: int,
    offset: int,
) -> PositionPage:
    get_plan(session, plan_id=plan_id)
    rows, total = PositionRepository(session).positions_page(
        plan_id, product=product, backordered=backordered, limit=limit, offset=offset
    )
    return PositionPage(
        items=[PositionRead.model_validate(r) for r in rows],
        total=total,
        limit=limit,
        offset=offset,
    )


def stream_positions(
    session: Session,
    *,
    plan_id: uuid.UUID,
    product: str | None,
    backordered: bool,
    fmt: LineFormat,
) -> StreamingResponse:
    """Like ``stream_lines``, for product-site-months."""
    get_plan(session, plan_id=plan_id)
    query = PositionRepository(session).stream_query(
        plan_id, product=product, backordered=backordered
    )
    return stream_query(
        session, query, columns=POSITION_COLUMNS, fmt=fmt, filename=f"positions-{plan_id}"
    )


def materials_page(
    session: Session, *, plan_id: uuid.UUID, material: str | None, limit: int, offset: int
) -> MaterialPage:
    get_plan(session, plan_id=plan_id)
    rows, total = MaterialRepository(session).materials_page(
        plan_id, material=material, limit=limit, offset=offset
    )
    return MaterialPage(
        items=[MaterialRead.model_validate(r) for r in rows],
        total=total,
        limit=limit,
        offset=offset,
    )


def stream_materials(
    session: Session, *, plan_id: uuid.UUID, material: str | None, fmt: LineFormat
) -> StreamingResponse:
    """Like ``stream_lines``, for material-site-months."""
    get_plan(session, plan_id=plan_id)
    query = MaterialRepository(session).stream_query(plan_id, material=material)
    return stream_query(
        session, query, columns=list(MATERIAL_COLUMNS), fmt=fmt, filename=f"materials-{plan_id}"
    )


def loads_page(
    session: Session, *, plan_id: uuid.UUID, resource: str | None, limit: int, offset: int
) -> LoadPage:
    get_plan(session, plan_id=plan_id)
    rows, total = LoadRepository(session).loads_page(
        plan_id, resource=resource, limit=limit, offset=offset
    )
    return LoadPage(
        items=[LoadRead.model_validate(r) for r in rows], total=total, limit=limit, offset=offset
    )
