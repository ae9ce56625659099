"""The ``production-plan`` job: fetch, build, solve, write — in that order, each on its own.

Supply is called before any transaction is open; master data is read in a short read
transaction; the solve runs with no transaction at all; the plan, its rows and its event
are written in one transaction. A failure anywhere leaves nothing half-written and the
job's error says why in a planner's words (which product, resource, month).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from sop_capacity.planning_input import (
    CostRates,
    RunTerms,
    apply_run_terms,
    attach_materials,
    build_model,
    load_master_data,
)
from sop_capacity.production_plans import service
from sop_capacity.production_plans.lots import run_executable
from sop_capacity.production_plans.models import Strategy
from sop_capacity.production_plans.schemas import RunParams
from sop_capacity.production_plans.strategies import Outcome, PlanRunError
from sop_capacity.rccp.service import Thresholds, analyse
from sop_capacity.settings import CapacitySettings
from sop_capacity.supply import SupplyGateway
from sop_shared.db import transaction
from sop_shared.jobs import Job, finish_in
from sop_shared.jobs.runner import Work
from sop_shared.problems import DomainError

log = logging.getLogger("sop.capacity.plans")

Report = Callable[[float, str | None], None]
WRITE_ATTEMPTS = 3


class Phases:
    """Wall and CPU seconds per phase of a run, so a slow run says where its time went
    (CPU below wall means the machine was busy with something else)."""

    def __init__(self) -> None:
        self.seconds: dict[str, dict[str, float]] = {}

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            self.seconds[name] = {
                "wall": round(time.perf_counter() - wall, 3),
                "cpu": round(time.process_time() - cpu, 3),
            }


def _comparison(model: Any, chosen: Outcome, capacity: Any) -> dict[str, Any]:
    """The chosen plan's figures next to the heuristics' (cheap) on the same inputs."""
    out = {chosen.strategy: chosen.metrics(capacity)}
    for strategy in (Strategy.chase, Strategy.level):
        if strategy == chosen.strategy:
            continue
        try:
            out[strategy] = run_executable(model, strategy).metrics(capacity)
        except PlanRunError as exc:
            out[strategy] = {"error": str(exc)[:500]}
    return out


def same_scenario(params: RunParams, header: dict[str, Any]) -> None:
    """A run for scenario X plans only a supply plan of X (of the same cycle): its plans
    are then X's alone, and supply's constrained answer is X's too."""
    planned = (str(header.get("cycle")), str(header.get("scenario")))
    if planned != (params.cycle, params.scenario):
        raise PlanRunError(
            f"supply plan {params.supply_plan_id} is of cycle {planned[0]} scenario "
            f"{planned[1]!r}; a run for {params.cycle} {params.scenario!r} needs a supply plan "
            "of that scenario."
        )


def compute_and_write(
    engine: Engine,
    gateway: SupplyGateway,
    settings: CapacitySettings,
    *,
    params: RunParams,
    trigger: str,
    job_id: uuid.UUID | None,
    created_by: str,
    report: Report,
) -> dict[str, Any]:
    phase = Phases()
    report(0.05, f"fetching production requirements of supply plan {params.supply_plan_id}")
    with phase("fetch"):
        header = gateway.plan_header(params.supply_plan_id)
        same_scenario(params, header)
        requirements = gateway.production_requirements(params.supply_plan_id)
        materials = gateway.material_constraints(params.supply_plan_id)

    if requirements.empty:
        raise PlanRunError(
            f"Nothing to plan: supply plan {params.supply_plan_id} has no production requirements."
        )
    report(0.15, "reading resources, calendars, routings and workforce")
    started = time.perf_counter()
    with phase("read"), Session(engine) as session:
        master = load_master_data(
            session,
            products=requirements["product"].unique().tolist(),
            first_month=requirements["month"].min(),
            last_month=requirements["month"].max(),
            cycle=params.cycle,
            scenario=params.scenario,
        )
    rates = CostRates(
        holding_rate_per_month=settings.holding_rate_per_month
        if params.holding_rate_per_month is None
        else params.holding_rate_per_month,
        backorder_rate_per_month=settings.backorder_rate_per_month
        if params.backorder_rate_per_month is None
        else params.backorder_rate_per_month,
    )
    with phase("build"):
        model = build_model(
            requirements, master, rates=rates, overtime_allowed=params.overtime_allowed is not False
        )
        attach_materials(model, materials)
        apply_run_terms(
            model,
            master.products,
            RunTerms(
                holding_cost=params.holding_cost,
                backorder_cost=params.backorder_cost,
                ending_inventory=params.ending_inventory,
                ending_backorder_max=params.ending_backorder_max,
                integer_workforce=params.integer_workforce,
            ),
        )
        before, _ = analyse(model, Thresholds())
    build_seconds = time.perf_counter() - started

    report(0.25, f"computing the {params.strategy} plan")
    with phase("solve"):
        outcome = run_executable(
            model,
            params.strategy,
            time_limit=settings.lp_time_limit_seconds,
            threads=settings.lp_threads,
        )
    with phase("compare"):
        comparison = _comparison(model, outcome, model.capacity_limit())

    report(0.85, "writing the plan")
    for attempt in range(1, WRITE_ATTEMPTS + 1):
        try:
            with phase("write"), transaction(engine) as session:
                plan = service.write_plan(
                    session,
                    params=params,
                    model=model,
                    outcome=outcome,
                    before=before,
                    comparison=comparison,
                    trigger=trigger,
                    job_id=job_id,
                    created_by=created_by,
                    build_seconds=build_seconds,
                )
                if job_id is not None:  # a crash after this commit must not run it again
                    finish_in(
                        session,
                        job_id,
                        {"production_plan_id": str(plan.id), "version": plan.version},
                    )
            break
        except IntegrityError:  # another run took this version number first
            if attempt == WRITE_ATTEMPTS:
                raise
            log.info("version race on %s/%s, retrying", params.cycle, params.scenario)
    return {
        "production_plan_id": str(plan.id),
        "version": plan.version,
        "strategy": plan.strategy,
        "solve_status": plan.solve_status,
        "total_cost": plan.costs.get("total"),
        "build_seconds": plan.build_seconds,
        "solve_seconds": plan.solve_seconds,
        "write_seconds": plan.write_seconds,
        "warnings": plan.warnings[:10],
        "phases": phase.seconds,
    }


def make_production_plan_work(
    settings: CapacitySettings, *, transport: httpx.BaseTransport | None = None
) -> Work:
    """The job handler registered under ``production-plan``."""
    gateway = SupplyGateway(settings, transport=transport)

    def work(engine: Engine, job_id: uuid.UUID, report: Report) -> dict[str, Any]:
        with Session(engine) as session:
            job = session.get(Job, job_id)
            assert job is not None
            raw, created_by = dict(job.params), job.created_by
        params = RunParams.model_validate(raw)
        try:
            return compute_and_write(
                engine,
                gateway,
                settings,
                params=params,
                trigger=str(raw.get("trigger", "manual")),
                job_id=job_id,
                created_by=created_by,
                report=report,
            )
        except PlanRunError as exc:
            raise PlanRunError(f"The production plan cannot be computed. {exc}") from exc
        except DomainError as exc:
            rows = "; ".join(
                f"row {e.row} {e.field}: {e.message}" if e.row else f"{e.field}: {e.message}"
                for e in (exc.errors or [])[:5]
            )
            detail = f"{exc.detail} ({rows})" if rows else exc.detail
            raise PlanRunError(f"The production plan cannot be computed: {detail}") from exc

    return work
