"""Supply-plan use cases: queue a run, compute and write a version, read it back, freeze it.

A run reads its inputs in one short transaction, computes without any open transaction and
writes the whole version (header, lines, exceptions, contract review and the
``sop.supply.plan.changed.v1`` outbox row) in one transaction.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
from fastapi.responses import StreamingResponse
from sqlalchemy import and_, func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from sop_shared.bulk import copy_rows
from sop_shared.db import transaction
from sop_shared.events.catalog import PlanChangedData
from sop_shared.events.lineage import require_run_scenario
from sop_shared.jobs import Job, create_job, finish_in
from sop_shared.jobs.models import JobState
from sop_shared.outbox import publish
from sop_shared.problems import NotFound
from sop_shared.readmodels.products import ProductRef
from sop_shared.streaming import LineFormat, stream_query
from sop_supply.masterdata.models import (
    BomLine,
    Contract,
    InventorySnapshot,
    ItemSite,
    Material,
    OpenSupply,
)
from sop_supply.plans import compute, repository
from sop_supply.plans.models import (
    DemandPlanRef,
    DemandPlanTrigger,
    ScenarioParameters,
    SupplyPlan,
    SupplyPlanContract,
    SupplyPlanException,
    SupplyPlanForecastError,
    SupplyPlanLine,
)
from sop_supply.plans.pgcopy import Field, copy_grid
from sop_supply.plans.schemas import ExceptionRead, PlanJobParams, PlanRunRequest
from sop_supply.sites.models import Site

log = logging.getLogger("sop.supply.plans")

JOB_KIND = "supply-plan"
PLAN_CHANGED = "sop.supply.plan.changed.v1"
APPROVED = "approved"
Report = Callable[[float, str | None], None]


# --- queueing --------------------------------------------------------------------------------


def queue_plan(session: Session, *, params: PlanJobParams, actor: str) -> Job:
    """A queued ``supply-plan`` job (the poller starts it after this transaction commits).

    The same request already queued or running is not queued twice.
    """
    wanted = params.model_dump(mode="json")
    pending = session.execute(
        select(Job).where(
            col(Job.kind) == JOB_KIND,
            col(Job.state).in_([JobState.queued, JobState.running]),
        )
    ).scalars()
    for job in pending:
        if job.params == wanted:
            return job
    return create_job(session, kind=JOB_KIND, params=wanted, created_by=actor)


def request_run(session: Session, *, data: PlanRunRequest, actor: str) -> Job:
    """A planner's run: the demand plan must be of the run's cycle and scenario (a run for
    scenario X only ever makes plans of X from X's own demand)."""
    ref = session.get(DemandPlanRef, data.demand_plan_id)
    if ref is not None:
        require_run_scenario(
            upstream="demand plan",
            plan_id=data.demand_plan_id,
            of=(ref.cycle, ref.scenario),
            run=(data.cycle, data.scenario),
        )
    params = PlanJobParams(
        cycle=data.cycle, scenario=data.scenario, demand_plan_id=data.demand_plan_id
    )
    return queue_plan(session, params=params, actor=actor)


def queue_for_demand_plan(session: Session, *, data: PlanChangedData, event_id: str) -> Job | None:
    """The supply plan of a submitted demand plan version: one per (cycle, scenario, demand
    plan, version), like capacity's once-per-supply-plan guard.

    The inbox absorbs a redelivered event (same id); this absorbs the same version announced
    again under a new id (a republished or replayed outbox): nothing is queued and no new
    supply plan version appears, unless the run it queued failed, which is then retried.
    A new demand plan version is a new key: it makes the next supply plan version.
    """
    key = (data.cycle, data.scenario, data.plan_id, data.version)
    trigger = session.get(DemandPlanTrigger, key)
    if trigger is not None:
        earlier = session.get(Job, trigger.job_id)
        if earlier is None or earlier.state != JobState.failed:
            log.info("demand plan %s v%s already has its supply plan run", *key[2:])
            return None
    params = PlanJobParams(
        cycle=data.cycle,
        scenario=data.scenario,
        demand_plan_id=data.plan_id,
        demand_plan_version=data.version,
        demand_lines_url=data.lines_url,
    )
    job = queue_plan(session, params=params, actor=f"event:{event_id}")
    trigger = trigger or DemandPlanTrigger(
        cycle=data.cycle,
        scenario=data.scenario,
        demand_plan_id=data.plan_id,
        demand_plan_version=data.version,
    )
    trigger.event_id, trigger.job_id = event_id, job.id  # a new trigger, or a failed run retried
    session.add(trigger)
    session.flush()
    return job


# --- inputs ----------------------------------------------------------------------------------


def _frame(session: Session, query: Any, columns: list[str]) -> pd.DataFrame:
    """Rows of a plain-column query as a DataFrame, straight from the driver's cursor
    (SQLAlchemy's Row objects cost more than the query for 100k item-sites)."""
    result = session.connection().execute(query)
    try:
        rows = result.cursor.fetchall() if result.cursor is not None else []
    finally:
        result.close()
    return pd.DataFrame(rows, columns=columns)


ITEM_SITE_COLUMNS = [
    "product",
    "site",
    "make_or_buy",
    "lead_time_months",
    "lead_time_std_months",
    "moq",
    "lot_multiple",
    "ss_policy",
    "ss_value",
    "review_period_months",
    "service_level",
    "max_stock",
    "unit_cost",
    "holding_cost_rate",
    "shelf_life_months",
]


def load_plan_data(session: Session, *, start: str) -> compute.PlanData:
    """Master data and positions for a plan starting in ``start`` (one read transaction)."""
    cols = lambda model, names: [getattr(model, n) for n in names]  # noqa: E731
    latest = (
        select(
            col(InventorySnapshot.product),
            col(InventorySnapshot.site),
            func.max(InventorySnapshot.month).label("month"),
        )
        .where(col(InventorySnapshot.month) < start)
        .group_by(col(InventorySnapshot.product), col(InventorySnapshot.site))
        .subquery()
    )
    inventory_names = ["product", "site", "month", "on_hand", "in_transit", "quality_hold"]
    inventory = select(*cols(InventorySnapshot, inventory_names)).join(
        latest,
        and_(
            col(InventorySnapshot.product) == latest.c.product,
            col(InventorySnapshot.site) == latest.c.site,
            col(InventorySnapshot.month) == latest.c.month,
        ),
    )
    contract_names = [
        "code",
        "supplier",
        "material",
        "period_start",
        "period_end",
        "min_volume",
        "max_volume",
        "price",
    ]
    return compute.PlanData(
        item_sites=_frame(session, select(*cols(ItemSite, ITEM_SITE_COLUMNS)), ITEM_SITE_COLUMNS),
        products=_frame(
            session,
            select(col(ProductRef.code), col(ProductRef.family), col(ProductRef.cost)).where(
                col(ProductRef.deleted).is_(False)
            ),
            ["code", "family", "cost"],
        ),
        materials=_frame(
            session,
            select(col(Material.code), col(Material.family), col(Material.unit_cost)),
            ["code", "family", "unit_cost"],
        ),
        inventory=_frame(session, inventory, inventory_names),
        open_supply=_frame(
            session,
            select(
                col(OpenSupply.product),
                col(OpenSupply.site),
                col(OpenSupply.due_month),
                col(OpenSupply.quantity),
            ),
            ["product", "site", "due_month", "quantity"],
        ),
        bom=_frame(
            session,
            select(col(BomLine.product), col(BomLine.material), col(BomLine.qty_per)),
            ["product", "material", "qty_per"],
        ),
        contracts=_frame(session, select(*cols(Contract, contract_names)), contract_names),
        sites=frozenset(session.execute(select(col(Site.code))).scalars()),
    )


def scenario_service_level(session: Session, *, cycle: str, scenario: str) -> float | None:
    row = session.get(ScenarioParameters, (cycle, scenario))
    return row.service_level if row is not None else None


def base_plan_demand(engine: Engine, plan_id: uuid.UUID) -> tuple[SupplyPlan, pd.DataFrame]:
    """The unconstrained plan a constrained run revises, and its independent demand.

    The forecast error the base plan used per item-site comes along as a zero-quantity line
    in the first month carrying ``forecast_sigma`` (the lines themselves carry none), so the
    statistical safety stocks come out the same without fetching the demand plan again.
    """
    with Session(engine) as session:
        plan = session.get(SupplyPlan, plan_id)
        if plan is None:
            raise NotFound(f"Supply plan {plan_id} does not exist.")
        independent = col(SupplyPlanLine.demand) - col(SupplyPlanLine.dependent_demand)
        query = select(
            col(SupplyPlanLine.product),
            col(SupplyPlanLine.site),
            col(SupplyPlanLine.month),
            independent,
        ).where(col(SupplyPlanLine.plan_id) == plan_id, independent != 0)
        demand = _frame(session, query, ["product", "site", "month", "quantity"])
        errors = _frame(
            session,
            select(
                col(SupplyPlanForecastError.product),
                col(SupplyPlanForecastError.site),
                col(SupplyPlanForecastError.forecast_sigma),
            ).where(col(SupplyPlanForecastError.plan_id) == plan_id),
            ["product", "site", "forecast_sigma"],
        )
    if errors.empty:
        return plan, demand
    sigma_lines = errors.assign(month=plan.horizon_start, quantity=0.0)
    return plan, pd.concat([demand, sigma_lines], ignore_index=True)


# --- the run ---------------------------------------------------------------------------------


def run_plan(
    engine: Engine,
    *,
    params: PlanJobParams,
    demand: pd.DataFrame,
    production: pd.DataFrame | None = None,
    purchases: pd.DataFrame | None = None,
    months: list[str] | None = None,
    job_id: uuid.UUID | None = None,
    report: Report | None = None,
    created_by: str = "system",
) -> dict[str, Any]:
    """Compute and write one supply plan version from demand lines already fetched."""
    started = time.perf_counter()
    months = months or compute.horizon_of(demand)
    with Session(engine) as session:
        data = load_plan_data(session, start=months[0])
        override = scenario_service_level(session, cycle=params.cycle, scenario=params.scenario)
    loaded = time.perf_counter()
    if report:
        report(0.3, "computing the plan")
    cpu = time.process_time()
    outcome = compute.compute_plan(
        demand,
        data,
        months=months,
        service_level=override,
        constrained=production,
        purchases=purchases,
    )
    computed, compute_cpu = time.perf_counter(), time.process_time() - cpu
    if report:
        report(0.6, "writing the plan")
    with transaction(engine) as session:
        plan = write_plan(
            session,
            params=params,
            outcome=outcome,
            service_level=override,
            job_id=job_id,
            created_by=created_by,
        )
        plan_id, version = plan.id, plan.version
        if job_id is not None:  # a crash after this commit must not run the job again
            finish_in(session, job_id, {"supply_plan_id": str(plan_id), "version": version})
    written = time.perf_counter()
    timings = {
        "load_seconds": round(loaded - started, 3),
        "compute_seconds": round(computed - loaded, 3),
        "compute_cpu_seconds": round(compute_cpu, 3),
        "write_seconds": round(written - computed, 3),
    }
    log.info(
        "supply plan %s v%s (%s) written: %s lines",
        plan_id,
        version,
        params.mode,
        outcome.counts["lines"],
        extra=timings,
    )
    return {
        "supply_plan_id": str(plan_id),
        "version": version,
        "status": params.mode,
        "lines": outcome.counts["lines"],
        "exceptions": outcome.counts["exceptions"],
        **timings,
    }


def write_plan(
    session: Session,
    *,
    params: PlanJobParams,
    outcome: compute.PlanOutcome,
    service_level: float | None,
    job_id: uuid.UUID | None,
    created_by: str,
) -> SupplyPlan:
    """Header, lines, exceptions, contract review and the event, in the caller's transaction."""
    plans = repository.SupplyPlanRepository(session)
    plan = SupplyPlan(
        cycle=params.cycle,
        scenario=params.scenario,
        version=plans.next_version(cycle=params.cycle, scenario=params.scenario),
        demand_plan_id=params.demand_plan_id,
        demand_plan_version=params.demand_plan_version,
        status=params.mode,
        based_on_production_plan_id=params.production_plan_id,
        base_supply_plan_id=uuid.UUID(params.base_supply_plan_id)
        if params.base_supply_plan_id
        else None,
        horizon_start=outcome.months[0],
        horizon_end=outcome.months[-1],
        months=len(outcome.months),
        service_level_override=service_level,
        totals=outcome.totals,
        counts=outcome.counts,
        job_id=job_id,
        created_by=created_by,
    )
    session.add(plan)
    session.flush()
    _write_lines(session, plan.id, outcome)
    _write_forecast_errors(session, plan.id, outcome.items)
    _write_exceptions(session, plan.id, outcome.exceptions)
    _write_contract_review(session, plan.id, outcome.contracts)
    publish(
        session,
        domain="supply",
        type=PLAN_CHANGED,
        subject=str(plan.id),
        data=PlanChangedData(
            plan_id=str(plan.id),
            cycle=plan.cycle,
            scenario=plan.scenario,
            version=plan.version,
            status=plan.status,
            upstream_plan_id=plan.demand_plan_id,
            totals=outcome.totals,
            counts=outcome.counts,
            lines_url=f"/api/v1/supply-plans/{plan.id}/production-requirements",
        ),
        cycle=plan.cycle,
        scenario=plan.scenario,
        version=plan.version,
    )
    return plan


def _write_lines(session: Session, plan_id: uuid.UUID, outcome: compute.PlanOutcome) -> None:
    items = outcome.items
    n, t = len(items), len(outcome.months)
    fields = [
        Field("plan_id", "uuid", plan_id),
        Field("product", "text", items["product"].tolist()),
        Field("site", "text", items["site"].tolist()),
        Field("month", "text", outcome.months, per_sub=True),
        Field("kind", "text", items["kind"].tolist()),
        Field("make_or_buy", "text", items["make_or_buy"].tolist()),
        Field("family", "text", items["family"].tolist()),
        *(Field(name, "float8", outcome.measures[name]) for name in compute.LINE_MEASURES),
        Field("unit_cost", "float8", items["unit_cost"].to_numpy(dtype=np.float64)),
        Field("moq", "float8", items["moq"].to_numpy(dtype=np.float64)),
        Field("lot_multiple", "float8", items["lot_multiple"].to_numpy(dtype=np.float64)),
    ]
    copy_grid(session, SupplyPlanLine.__table__, fields, n, t)  # type: ignore[attr-defined]


def _write_forecast_errors(session: Session, plan_id: uuid.UUID, items: pd.DataFrame) -> None:
    """The σ each item-site got from the demand plan (rows only where there was one)."""
    known = items[np.isfinite(items["forecast_sigma"].to_numpy(dtype=np.float64))]
    if known.empty:
        return
    rows = zip(
        [plan_id] * len(known),
        known["product"].tolist(),
        known["site"].tolist(),
        known["forecast_sigma"].astype(float).tolist(),
        strict=True,
    )
    table = SupplyPlanForecastError.__table__  # type: ignore[attr-defined]
    copy_rows(session, table, ["plan_id", "product", "site", "forecast_sigma"], rows)


def _write_exceptions(session: Session, plan_id: uuid.UUID, exceptions: pd.DataFrame) -> None:
    fields = [
        Field("plan_id", "uuid", plan_id),
        Field("size", "float8", exceptions["size"].to_numpy(dtype=np.float64)),
        Field("value", "float8", exceptions["value"].to_numpy(dtype=np.float64)),
        *(
            Field(name, "text", exceptions[name].tolist())
            for name in ("kind", "product", "site", "family", "month", "reference", "sites")
        ),
    ]
    copy_grid(session, SupplyPlanException.__table__, fields, len(exceptions), 1)  # type: ignore[attr-defined]


def _write_contract_review(session: Session, plan_id: uuid.UUID, review: pd.DataFrame) -> None:
    if review.empty:
        return
    columns = ["plan_id", *compute.REVIEW_COLUMNS]
    rows = ((plan_id, *r) for r in review[compute.REVIEW_COLUMNS].itertuples(index=False))
    copy_rows(session, SupplyPlanContract.__table__, columns, rows)  # type: ignore[attr-defined]


# --- events ----------------------------------------------------------------------------------


def record_demand_plan(session: Session, *, data: PlanChangedData) -> DemandPlanRef:
    row = session.get(DemandPlanRef, data.plan_id) or DemandPlanRef(
        plan_id=data.plan_id,
        cycle=data.cycle,
        scenario=data.scenario,
        version=data.version,
        status=data.status,
    )
    row.status, row.version, row.lines_url = data.status, data.version, data.lines_url
    row.received_at = datetime.now(UTC)
    session.add(row)
    return row


def store_scenario(
    session: Session,
    *,
    cycle: str,
    scenario: str,
    name: str,
    status: str,
    parameters: dict[str, Any],
) -> ScenarioParameters:
    row = session.get(ScenarioParameters, (cycle, scenario)) or ScenarioParameters(
        cycle=cycle, scenario=scenario, name=name
    )
    level = parameters.get("service_level")
    row.name, row.status, row.parameters = name, status, parameters
    row.service_level = float(level) if isinstance(level, int | float) and 0 < level < 1 else None
    row.updated_at = datetime.now(UTC)
    session.add(row)
    return row


def approve(
    session: Session,
    *,
    cycle: str,
    scenario: str,
    supply_plan_id: str | None,
    approved_by: str,
    approved_at: datetime,
) -> SupplyPlan | None:
    """Freeze the version the cycle approved (or the latest of the scenario when unnamed)."""
    plans = repository.SupplyPlanRepository(session)
    plan = None
    if supply_plan_id:
        try:
            plan = session.get(SupplyPlan, uuid.UUID(supply_plan_id))
        except ValueError:
            plan = None
    else:
        plan = plans.latest(cycle=cycle, scenario=scenario)
    if plan is None:
        log.warning(
            "approved supply plan %s of %s/%s is unknown here", supply_plan_id, cycle, scenario
        )
        return None
    if not plan.approved:
        plan.approved, plan.approved_by, plan.approved_at = True, approved_by, approved_at
        session.add(plan)
    return plan


# --- reads -----------------------------------------------------------------------------------


def get_plan(session: Session, plan_id: uuid.UUID) -> SupplyPlan:
    plan = session.get(SupplyPlan, plan_id)
    if plan is None:
        raise NotFound(f"Supply plan {plan_id} does not exist.")
    return plan


def list_plans(
    session: Session,
    *,
    cycle: str | None,
    scenario: str | None,
    status: str | None,
    limit: int,
    offset: int,
) -> tuple[list[SupplyPlan], int]:
    query = select(SupplyPlan)
    for name, value in (("cycle", cycle), ("scenario", scenario)):
        if value is not None:
            query = query.where(getattr(SupplyPlan, name) == value)
    if status == APPROVED:  # the one approval vocabulary of the three plan lists
        query = query.where(col(SupplyPlan.approved).is_(True))
    elif status is not None:
        query = query.where(col(SupplyPlan.status) == status)
    rows, total = repository.page(
        session,
        query,
        order_by=[
            col(SupplyPlan.cycle).desc(),
            col(SupplyPlan.scenario),
            col(SupplyPlan.version).desc(),
        ],
        limit=limit,
        offset=offset,
    )
    return [r[0] for r in rows], total


def list_scenarios(
    session: Session, *, cycle: str | None, limit: int, offset: int
) -> tuple[list[ScenarioParameters], int]:
    query = select(ScenarioParameters)
    if cycle is not None:
        query = query.where(col(ScenarioParameters.cycle) == cycle)
    rows, total = repository.page(
        session,
        query,
        order_by=[col(ScenarioParameters.cycle), col(ScenarioParameters.scenario)],
        limit=limit,
        offset=offset,
    )
    return [r[0] for r in rows], total


def line_dict(line: Any) -> dict[str, Any]:
    """A plan line (a row of lines_query) as the API shows it."""
    return {
        "product": line.product,
        "site": line.site,
        "month": line.month,
        "kind": line.kind,
        "make_or_buy": line.make_or_buy,
        "family": line.family,
        "demand": line.demand,
        "dependent_demand": line.dependent_demand,
        "opening": line.opening,
        "scheduled": line.scheduled,
        "receipts": line.scheduled + line.planned_receipts,
        "planned": line.planned_receipts,
        "planned_receipts": line.planned_receipts,
        "planned_releases": line.planned_releases,
        "closing": line.closing,
        "safety_stock": line.safety_stock,
        "max_stock": None if np.isinf(line.max_stock) else line.max_stock,
        "shortage": line.shortage,
        "excess": line.excess,
        "days_of_supply": None if np.isinf(line.days_of_supply) else line.days_of_supply,
        "inventory_value": line.inventory_value,
    }


def production_requirement(line: Any) -> dict[str, Any]:
    return {
        "product": line.product,
        "site": line.site,
        "month": line.month,
        "family": line.family,
        "quantity": line.planned_receipts,
        "release_quantity": line.planned_releases,
        "demand": line.demand,
        "scheduled": line.scheduled,
        "safety_stock": line.safety_stock,
        "opening_stock": line.opening,
        "closing_stock": line.closing,
        "moq": line.moq,
        "lot_multiple": line.lot_multiple,
    }


def purchase_requirement(line: Any) -> dict[str, Any]:
    return {
        "product": line.product,
        "kind": line.kind,
        "site": line.site,
        "month": line.month,
        "family": line.family,
        "quantity": line.planned_receipts,
        "order_quantity": line.planned_releases,
        "value": line.planned_receipts * line.unit_cost,
        "demand": line.demand,
        "scheduled": line.scheduled,
        "safety_stock": line.safety_stock,
        "opening_stock": line.opening,
        "closing_stock": line.closing,
        "shortage": line.shortage,
        "moq": line.moq,
        "lot_multiple": line.lot_multiple,
    }


def material_requirement(line: Any) -> dict[str, Any]:
    return {
        "material": line.product,
        "site": line.site,
        "month": line.month,
        "family": line.family,
        "gross_requirement": line.demand,
        "dependent_demand": line.dependent_demand,
        "scheduled": line.scheduled,
        "planned_receipts": line.planned_receipts,
        "planned_orders": line.planned_releases,
        "opening": line.opening,
        "closing": line.closing,
        "shortage": line.shortage,
    }


def exception_dict(row: SupplyPlanException) -> dict[str, Any]:
    """An item-site exception has its site; a contract's is site-independent (``scope``
    ``all_sites``, ``site`` null) and lists the sites buying the material in its period."""
    contract = row.site is None
    return {
        "kind": row.kind,
        "product": row.product,
        "site": row.site,
        "scope": "all_sites" if contract else "item_site",
        "sites": (row.sites or "").split() if contract else [row.site],
        "family": row.family,
        "month": row.month,
        "size": row.size,
        "value": row.value,
        "reference": row.reference,
    }


def lines_page(
    session: Session,
    plan_id: uuid.UUID,
    *,
    convert: Callable[[Any], dict[str, Any]],
    limit: int,
    offset: int,
    **filters: Any,
) -> tuple[list[dict[str, Any]], int]:
    get_plan(session, plan_id)
    rows, total = repository.page(
        session,
        repository.lines_query(plan_id, **filters),
        order_by=repository.LINE_ORDER,
        limit=limit,
        offset=offset,
    )
    return [convert(r) for r in rows], total


def stream_lines(
    session: Session,
    plan_id: uuid.UUID,
    *,
    convert: Callable[[Any], dict[str, Any]],
    columns: list[str],
    fmt: LineFormat,
    filename: str,
    **filters: Any,
) -> StreamingResponse:
    """404 now; then every line, read after the request's transaction has committed."""
    get_plan(session, plan_id)
    query = repository.lines_query(plan_id, **filters).order_by(*repository.LINE_ORDER)
    return stream_query(
        session, query, columns=columns, fmt=fmt, filename=filename, convert=convert
    )


def exceptions_page(
    session: Session, plan_id: uuid.UUID, *, limit: int, offset: int, **filters: Any
) -> tuple[list[dict[str, Any]], int]:
    get_plan(session, plan_id)
    rows, total = repository.page(
        session,
        repository.exceptions_query(plan_id, **filters),
        order_by=repository.EXCEPTION_ORDER,
        limit=limit,
        offset=offset,
    )
    return [exception_dict(r[0]) for r in rows], total


def stream_exceptions(
    session: Session, plan_id: uuid.UUID, *, fmt: LineFormat, **filters: Any
) -> StreamingResponse:
    get_plan(session, plan_id)
    query = repository.exceptions_query(plan_id, **filters).order_by(*repository.EXCEPTION_ORDER)

    def convert(row: Any) -> dict[str, Any]:
        record = exception_dict(row[0])
        if fmt == "csv":  # one cell: the buying sites, space-separated
            record["sites"] = " ".join(record["sites"])
        return record

    return stream_query(
        session,
        query,
        columns=list(ExceptionRead.model_fields),
        fmt=fmt,
        filename=f"supply-plan-{plan_id}-exceptions",
        convert=convert,
    )


def contract_review(session: Session, plan_id: uuid.UUID) -> dict[str, Any]:
    """The contracts of the plan; ``shortfall_value`` sums the judged (``under``) contracts
    only, partial periods and contracts without a buy item-site are counted apart."""
    get_plan(session, plan_id)
    rows = repository.contract_review(session, plan_id)
    partial = [r for r in rows if r.status == "partial"]
    return {
        "plan_id": plan_id,
        "items": rows,
        "shortfall_value": sum(
            r.shortfall_value for r in rows if r.status == compute.CONTRACT_JUDGED
        ),
        "excess_value": sum(r.excess_value for r in rows),
        "partial_count": len(partial),
        "partial_shortfall_value": sum(r.shortfall_value for r in partial),
        "no_buy_item_count": sum(r.status == "no_buy_item" for r in rows),
    }


def material_constraints(session: Session, plan_id: uuid.UUID) -> dict[str, Any]:
    """The purchased materials of the plan's bills of material as capacity plans them: the
    plan's opening stock and open orders of each (buy) material-site, its purchase lead
    time, the BOM lines and the lead times of their parents, the contract maxima."""
    plan = get_plan(session, plan_id)
    months = compute.month_range(plan.horizon_start, plan.horizon_end)
    bom = _frame(
        session,
        select(col(BomLine.product), col(BomLine.material), col(BomLine.qty_per)),
        ["product", "material", "qty_per"],
    )
    used = sorted(set(bom["material"]))
    lines = _frame(
        session,
        select(
            col(SupplyPlanLine.product),
            col(SupplyPlanLine.site),
            col(SupplyPlanLine.month),
            col(SupplyPlanLine.opening),
            col(SupplyPlanLine.scheduled),
        ).where(
            col(SupplyPlanLine.plan_id) == plan_id,
            col(SupplyPlanLine.make_or_buy) == "buy",
            col(SupplyPlanLine.product).in_(used),
        ),
        ["material", "site", "month", "opening", "scheduled"],
    )
    lead = _frame(
        session,
        select(col(ItemSite.product), col(ItemSite.site), col(ItemSite.lead_time_months)).where(
            col(ItemSite.product).in_(sorted(set(used) | set(bom["product"])))
        ),
        ["product", "site", "lead_time_months"],
    )
    contracts = _frame(
        session,
        select(
            col(Contract.code),
            col(Contract.material),
            col(Contract.period_start),
            col(Contract.period_end),
            col(Contract.max_volume),
        ).where(col(Contract.material).in_(used)),
        ["contract", "material", "period_start", "period_end", "max_volume"],
    )
    return compute.material_constraints(plan_id, months, lines, bom, lead, contracts)
