"""Step 7: decisions, approval or send-back by executives, KPIs across cycles.

Approval freezes the cycle: its plans become the approved plan, ``plan.approved`` is
published, and a job snapshots the plan's KPIs (REST calls belong after the commit).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy.engine import Engine
from sqlmodel import Session

from sop_cycle.cycles.calendar import shift_month
from sop_cycle.cycles.models import Approval
from sop_cycle.cycles.schemas import ApprovalRead
from sop_cycle.cycles.service import (
    APPROVED,
    approval_of,
    find_step,
    gate_checks,
    get_cycle,
    load_steps,
    mark_stale_from,
    move_step,
)
from sop_cycle.cycles.workflow import Action, StepStatus
from sop_cycle.executive import events
from sop_cycle.executive.events import approval_links
from sop_cycle.executive.models import CycleKpi, Decision
from sop_cycle.executive.repository import DecisionRepository, KpiRepository
from sop_cycle.executive.schemas import (
    ApprovedPlan,
    ApprovedPlanPart,
    ApproveRequest,
    DecisionCreate,
    DecisionPage,
    DecisionRead,
    DecisionUpdate,
    FinancialSummary,
    KpiPoint,
    KpiSeries,
    SendBackRequest,
)
from sop_cycle.peers import Peers
from sop_cycle.plans.repository import PlanRecordRepository
from sop_cycle.plans.schemas import CurrentPlans
from sop_cycle.plans.service import current_plans, pinned_plans
from sop_cycle.presop.service import Assembled, assemble, require_scenario, thresholds
from sop_cycle.presop.sources import actuals_from_estimate
from sop_cycle.settings import STEP_NAMES, CycleSettings
from sop_shared.auth import Caller
from sop_shared.db import transaction
from sop_shared.jobs import Job, create_job
from sop_shared.problems import Conflict, NotFound, PreconditionFailed, Unprocessable

log = logging.getLogger("sop.cycle.executive")
KPI_JOB = "cycle-kpis"


# --- decisions -------------------------------------------------------------------------


def _decision(
    session: Session, *, month: str, decision_id: int, for_update: bool = False
) -> Decision:
    """``for_update`` locks the row so two If-Match edits cannot both pass the check."""
    cycle = get_cycle(session, month=month)
    decision = session.get(Decision, decision_id, with_for_update=True if for_update else None)
    if decision is None or decision.cycle_id != cycle.id:
        raise NotFound(f"Decision {decision_id} does not exist in cycle {month}.")
    return decision


def create_decision(
    session: Session, *, month: str, data: DecisionCreate, actor: Caller
) -> Decision:
    cycle = get_cycle(session, month=month)
    decision = DecisionRepository(session).add(
        Decision(
            cycle_id=cycle.id,  # type: ignore[arg-type]
            topic=data.topic,
            options=list(data.options),
            chosen_option=data.chosen_option,
            owner=data.owner,
            due_date=data.due_date,
            issue_id=data.issue_id,
            notes=data.notes,
            status="decided" if data.chosen_option else "open",
            decided_by=actor.subject if data.chosen_option else None,
            created_by=actor.subject,
        )
    )
    session.flush()
    return decision


def update_decision(
    session: Session,
    *,
    month: str,
    decision_id: int,
    data: DecisionUpdate,
    if_match: int | None,
    actor: Caller,
) -> Decision:
    decision = _decision(session, month=month, decision_id=decision_id, for_update=True)
    if if_match is not None and if_match != decision.version:
        raise PreconditionFailed(
            f"Decision {decision_id} is at version {decision.version}, not {if_match}.",
            current_version=decision.version,
        )
    changes = data.model_dump(exclude_unset=True)
    for key in ("topic", "owner", "due_date", "notes"):
        if key in changes:
            setattr(decision, key, changes[key])
    if data.options is not None:
        decision.options = list(data.options)
    if "chosen_option" in changes:
        decision.chosen_option = data.chosen_option
        decision.decided_by = actor.subject if data.chosen_option else None
        decision.status = "decided" if data.chosen_option else "open"
    if data.status is not None:
        decision.status = data.status
    if "deferred_reason" in changes:
        decision.deferred_reason = data.deferred_reason
    if decision.status == "deferred" and not decision.deferred_reason:
        raise Unprocessable(
            "A deferred decision needs its deferred_reason.", code="no-deferral-reason"
        )
    if decision.chosen_option is not None and decision.chosen_option not in decision.options:
        raise Unprocessable(
            "chosen_option must be one of the options.",
            code="invalid-option",
            options=decision.options,
        )
    if decision.status == "decided" and decision.chosen_option is None:
        raise Unprocessable("A decided decision needs its chosen_option.", code="no-option")
    decision.version += 1
    decision.updated_at = datetime.now(UTC)
    session.add(decision)
    session.flush()
    return decision


def get_decision(session: Session, *, month: str, decision_id: int) -> Decision:
    return _decision(session, month=month, decision_id=decision_id)


def list_decisions(
    session: Session, *, month: str, status: str | None, limit: int, offset: int
) -> DecisionPage:
    cycle = get_cycle(session, month=month)
    rows, total = DecisionRepository(session).page(
        cycle_id=cycle.id,  # type: ignore[arg-type]
        status=status,
        limit=limit,
        offset=offset,
    )
    return DecisionPage(
        items=[DecisionRead.model_validate(r) for r in rows],
        total=total,
        limit=limit,
        offset=offset,
    )


# --- approval and send-back -----------------------------------------------------------


def approve(session: Session, *, month: str, data: ApproveRequest, actor: Caller) -> ApprovalRead:
    """The scenario's current plans become the cycle's approved plan (once per cycle)."""
    cycle = get_cycle(session, month=month, for_update=True)
    if cycle.status == APPROVED or approval_of(session, cycle) is not None:
        raise Conflict(f"Cycle {month} is already approved.", code="already-approved")
    require_scenario(session, month=month, scenario=data.scenario)
    steps = load_steps(session, cycle)
    executive = find_step(steps, "executive_sop")
    base_plans = current_plans(session, cycle=month)
    checks = [
        c
        for c in gate_checks(executive, steps, base_plans, None)
        if not c.ok and c.name == "previous_steps_completed"
    ]
    if checks:
        raise Conflict(
            f"Cycle {month} cannot be approved yet: {checks[0].detail}.",
            code="gate-not-met",
            gates=[c.model_dump() for c in checks],
        )
    open_decisions = DecisionRepository(session).open_for_cycle(cycle.id)  # type: ignore[arg-type]
    if open_decisions:
        first = open_decisions[0]
        raise Conflict(
            f"Cycle {month} cannot be approved: decision {first.id} ({first.topic!r}) is "
            "still open; decide it or defer it with a reason.",
            code="decision-open",
            decisions=[{"id": d.id, "topic": d.topic} for d in open_decisions],
        )
    plans = current_plans(session, cycle=month, scenario=data.scenario)
    missing = [k for k in ("demand", "supply", "production") if plans.get(k) is None]
    if missing:
        raise Conflict(
            f"Scenario {data.scenario!r} has no {', '.join(missing)} plan to approve.",
            code="plan-incomplete",
            missing=missing,
        )
    assert plans.demand is not None
    assert plans.supply is not None
    assert plans.production is not None
    approval = Approval(
        cycle_id=cycle.id,  # type: ignore[arg-type]
        scenario=data.scenario,
        demand_plan_id=plans.demand.plan_id,
        demand_version=plans.demand.version,
        supply_plan_id=plans.supply.plan_id,
        supply_version=plans.supply.version,
        production_plan_id=plans.production.plan_id,
        production_version=plans.production.version,
        approved_by=actor.subject,
        comment=data.comment,
        plan_record_cutoff=PlanRecordRepository(session).last_id(),
        financial=financial_summary(plans),
    )
    session.add(approval)
    if executive.status != StepStatus.completed:
        move_step(
            session,
            cycle,
            executive,
            StepStatus.completed,
            action=Action.approve,
            actor=actor.subject,
            reason=data.comment or f"plan of scenario {data.scenario} approved",
            basis=plans.basis(),
        )
    cycle.status = APPROVED
    cycle.version += 1
    session.add(cycle)
    session.flush()
    events.plan_approved(session, month=month, approval=approval, version=cycle.version)
    create_job(session, kind=KPI_JOB, params={"month": month}, created_by=actor.subject)
    return ApprovalRead.model_validate(approval)


def financial_summary(plans: CurrentPlans) -> dict[str, float | None]:
    """The approved plans' totals (from their events; each the sum of a line column)."""

    def total(kind: str, key: str) -> float | None:
        ref = plans.get(kind)
        value = ref.totals.get(key) if ref is not None else None
        return float(value) if value is not None else None

    return FinancialSummary(
        demand_quantity=total("demand", "quantity"),
        planned_revenue=total("demand", "revenue"),
        production_quantity=total("production", "quantity"),
        production_cost=total("production", "production_cost"),
        ending_inventory_value=total("supply", "ending_inventory_value"),
        average_inventory_value=total("supply", "average_inventory_value"),
    ).model_dump()


def approved_plan(session: Session, *, month: str) -> ApprovedPlan:
    """The cycle's approved plan: 404 until executives approve one."""
    cycle = get_cycle(session, month=month)
    approval = approval_of(session, cycle)
    if approval is None:
        raise NotFound(f"Cycle {month} has no approved plan yet.", code="not-approved")
    pinned = pinned_plans(session, approval)
    links = approval_links(approval)
    return ApprovedPlan(
        cycle=month,
        scenario=approval.scenario,
        approved_by=approval.approved_by,
        approved_at=approval.approved_at,
        comment=approval.comment,
        plans={
            kind: ApprovedPlanPart(
                **link.model_dump(),
                kind=kind,
                status=ref.status if (ref := pinned.get(kind)) is not None else None,
            )
            for kind, link in links.items()
        },
        financial=FinancialSummary.model_validate(approval.financial or {}),
    )


def send_back(session: Session, *, month: str, data: SendBackRequest, actor: Caller) -> None:
    """Executives send the plan back: the named step reopens, every later step goes stale."""
    cycle = get_cycle(session, month=month, for_update=True)
    if cycle.status == APPROVED:
        raise Conflict(f"Cycle {month} is approved; it cannot be sent back.", code="cycle-approved")
    name = str(data.step)
    if name == "executive_sop":
        raise Unprocessable(
            "Send the plan back to an earlier step, not to executive_sop itself.",
            code="invalid-step",
        )
    steps = load_steps(session, cycle)
    target = find_step(steps, name)
    reason = f"sent back by executives: {data.comment}"
    move_step(
        session,
        cycle,
        target,
        StepStatus.in_progress,
        action=Action.send_back,
        actor=actor.subject,
        reason=reason,
    )
    mark_stale_from(
        session,
        cycle,
        steps,
        STEP_NAMES[STEP_NAMES.index(name) + 1],
        actor=actor.subject,
        reason=reason,
    )
    session.flush()


def request_kpi_refresh(session: Session, *, month: str, actor: Caller) -> Job:
    cycle = get_cycle(session, month=month)
    if approval_of(session, cycle) is None:
        raise Conflict(f"Cycle {month} has no approved plan yet.", code="not-approved")
    return create_job(session, kind=KPI_JOB, params={"month": month}, created_by=actor.subject)


# --- KPIs ------------------------------------------------------------------------------


def _quantities(frame: pd.DataFrame, column: str) -> dict[str, dict[str, float]]:
    kept = frame[frame[column].notna()]
    out: dict[str, dict[str, float]] = {}
    for family, part in kept.groupby("family"):
        out[str(family)] = dict(
            zip(part["month"].astype(str), part[column].astype(float), strict=True)
        )
    return out


def approved_chain(session: Session, *, month: str) -> tuple[int, str, CurrentPlans]:
    """The approved scenario's chain of a cycle (what its KPIs are computed from)."""
    cycle = get_cycle(session, month=month)
    approval = approval_of(session, cycle)
    if approval is None:
        raise Conflict(f"Cycle {month} has no approved plan.", code="not-approved")
    assert cycle.id is not None
    return (
        cycle.id,
        approval.scenario,
        current_plans(session, cycle=month, scenario=approval.scenario),
    )


def store_kpis(
    session: Session,
    *,
    cycle_id: int,
    month: str,
    scenario: str,
    done: Assembled,
    actuals: pd.DataFrame | None = None,
) -> CycleKpi:
    repo = KpiRepository(session)
    row = repo.get_by(cycle_id=cycle_id) or CycleKpi(
        cycle_id=cycle_id, month=month, scenario=scenario
    )
    row.figures = dict(done.kpis)
    row.plan_quantities = _quantities(done.sources.demand, "quantity")
    reported = _quantities(done.sources.demand, "actual_quantity")
    if actuals is not None and not actuals.empty:
        for family, by_month in _quantities(actuals, "quantity").items():
            reported.setdefault(family, {}).update(by_month)
    row.actual_quantities = reported
    row.computed_at = datetime.now(UTC)
    repo.add(row)
    session.flush()
    return row


def snapshot_kpis(
    engine: Engine,
    job_id: uuid.UUID,
    report: Callable[[float, str | None], None],
    *,
    peers: Peers,
    settings: CycleSettings,
) -> dict[str, Any]:
    """Job: the approved plan's KPIs, read over REST (between two short transactions)."""
    with transaction(engine) as session:
        job = session.get(Job, job_id)
        assert job is not None
        month = str(job.params["month"])
        cycle_id, scenario, plans = approved_chain(session, month=month)
    report(0.2, "fetching plan summaries")
    done = assemble(peers, plans, thresholds(settings))
    actuals = None
    if plans.demand is not None:  # the actuals of the months before the cycle
        year = int(shift_month(month, -1)[:4])
        estimate = peers.plan_documents(
            {"latest_estimate": (plans.demand.plan_id, {"year": year})}
        ).get("latest_estimate", "")
        actuals = actuals_from_estimate(estimate)
    report(0.8, "storing KPIs")
    with transaction(engine) as session:
        store_kpis(
            session, cycle_id=cycle_id, month=month, scenario=scenario, done=done, actuals=actuals
        )
    return {
        "month": month,
        "missing": done.missing,
        **{k: done.kpis.get(k) for k in ("fill_rate", "revenue", "utilisation")},
    }


def _long(rows: list[CycleKpi], attribute: str) -> pd.DataFrame:
    records = [
        (r.month, family, month, float(q))
        for r in rows
        for family, by_month in getattr(r, attribute).items()
        for month, q in by_month.items()
    ]
    return pd.DataFrame.from_records(records, columns=["cycle", "family", "month", "quantity"])


def forecast_accuracy(rows: list[CycleKpi], lag: int) -> pd.DataFrame:
    """Per target month M: 1 − WAPE and bias of the plan approved at lag ``lag`` for M.

    One meaning of lag in every service (docs/CONTRACTS.md): lag = target month − the last
    month of actuals the plan was made with. A cycle plans with actuals up to the month
    before it, so the plan of cycle C is at lag 1 for month C (the cycle month), at lag 2
    for C + 1, and month M at lag L is read from the plan of cycle M − (L − 1).
    Actuals are the latest reported for each family × month across the snapshots.
    """
    plans, actuals = _long(rows, "plan_quantities"), _long(rows, "actual_quantities")
    if plans.empty or actuals.empty:
        return pd.DataFrame(columns=["month", "forecast_accuracy", "forecast_bias"])
    actuals = actuals.sort_values("cycle").drop_duplicates(["family", "month"], keep="last")
    plans = plans[plans["month"] == plans["cycle"].map(lambda c: shift_month(c, lag - 1))]
    both = plans.merge(actuals, on=["family", "month"], suffixes=("_f", "_a"))
    if both.empty:
        return pd.DataFrame(columns=["month", "forecast_accuracy", "forecast_bias"])
    both["abs_err"] = (both["quantity_f"] - both["quantity_a"]).abs()
    both["err"] = both["quantity_f"] - both["quantity_a"]
    sums = both.groupby("month")[["abs_err", "err", "quantity_a"]].sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        sums["forecast_accuracy"] = np.where(
            sums["quantity_a"] > 0, 1 - sums["abs_err"] / sums["quantity_a"], np.nan
        )
        sums["forecast_bias"] = np.where(
            sums["quantity_a"] > 0, sums["err"] / sums["quantity_a"], np.nan
        )
    return sums[["forecast_accuracy", "forecast_bias"]].reset_index()


def kpi_series(session: Session, *, start: str | None, end: str | None, lag: int) -> KpiSeries:
    everything = KpiRepository(session).series(start=None, end=None)
    accuracy = forecast_accuracy(everything, lag).set_index("month")
    points = []
    for row in everything:
        if (start and row.month < start) or (end and row.month > end):
            continue
        f = row.figures
        acc = accuracy.loc[row.month] if row.month in accuracy.index else None
        points.append(
            KpiPoint(
                month=row.month,
                scenario=row.scenario,
                computed_at=row.computed_at,
                fill_rate=f.get("fill_rate"),
                unmet_demand=f.get("unmet_demand"),
                forecast_accuracy=_num(acc["forecast_accuracy"]) if acc is not None else None,
                forecast_bias=_num(acc["forecast_bias"]) if acc is not None else None,
                inventory_days=f.get("inventory_days"),
                inventory_value=f.get("inventory_value"),
                utilisation=f.get("utilisation"),
                revenue=f.get("revenue"),
                gross_margin=f.get("gross_margin"),
                revenue_vs_budget=f.get("revenue_vs_budget"),
                quantity_vs_budget=f.get("quantity_vs_budget"),
            )
        )
    return KpiSeries(lag=lag, points=points)


def _num(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


# --- review pack -----------------------------------------------------------------------


def review_pack(
    session: Session,
    peers: Peers,
    *,
    month: str,
    scenario: str | None,
    settings: CycleSettings,
    today: Any,
) -> str:
    """The cycle's review pack as one HTML document (approved scenario by default)."""
    from sop_cycle.api.deps import end_read
    from sop_cycle.cycles.service import step_read
    from sop_cycle.executive.pack import PackInput, render
    from sop_cycle.scenarios.repository import ScenarioRepository

    cycle = get_cycle(session, month=month)
    approval = approval_of(session, cycle)
    chosen = scenario or (approval.scenario if approval else "base")
    require_scenario(session, month=month, scenario=chosen)
    plans = current_plans(session, cycle=month, scenario=chosen)
    assert cycle.id is not None
    steps = [step_read(s, today) for s in load_steps(session, cycle)]
    decisions = [
        DecisionRead.model_validate(d).model_dump(mode="json")
        for d in DecisionRepository(session).page(
            cycle_id=cycle.id, status=None, limit=500, offset=0
        )[0]
    ]
    scenarios = [
        {"code": s.code, "name": s.name, "parameters": s.parameters}
        for s in ScenarioRepository(session).by_codes(cycle_id=cycle.id, codes=None)
    ]
    pack = PackInput(
        month=month,
        scenario=chosen,
        cycle_status=cycle.status,
        generated_at=datetime.now(UTC),
        steps=steps,
        approval=ApprovalRead.model_validate(approval) if approval else None,
        done=None,  # type: ignore[arg-type]
        decisions=decisions,
        scenarios=scenarios,
    )
    end_read(session)
    pack.done = assemble(peers, plans, thresholds(settings))
    return render(pack)
