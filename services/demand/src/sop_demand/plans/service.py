"""The consensus demand plan: versions built from the forecast and the product review,
overrides with their audit trail, submit (immutable from then on), approval, scenarios,
and the views other steps read (lines, summary with budget, LE vs budget).
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import func
from sqlmodel import Session, col, select

from sop_demand.budget.repository import BudgetRepository
from sop_demand.forecasts.models import ForecastRun, RunStatus
from sop_demand.forecasts.repository import ForecastRunRepository
from sop_demand.forecasts.service import months_of
from sop_demand.months import month_range
from sop_demand.plans import build, events
from sop_demand.plans.models import (
    DemandPlan,
    DemandPlanLine,
    DemandScenario,
    PlanOverride,
    PlanStatus,
)
from sop_demand.plans.repository import PlanRepository
from sop_demand.plans.schemas import (
    LatestEstimate,
    LatestEstimateRow,
    LatestEstimateTotal,
    OverridePage,
    OverrideRead,
    OverrideRequest,
    PlanCreate,
    PlanLinePage,
    PlanLineRead,
    PlanPage,
    PlanRead,
    PlanSummary,
    SummaryRow,
    Totals,
)
from sop_demand.promotions.repository import PromotionRepository
from sop_demand.review.effects import review
from sop_shared.auth import Caller
from sop_shared.events.catalog import PlanApprovedData, ScenarioChangedData
from sop_shared.problems import (
    Conflict,
    FieldError,
    NotFound,
    PreconditionFailed,
    Unprocessable,
    ValidationFailed,
)
from sop_shared.streaming import LineFormat, stream_query

log = logging.getLogger("sop.demand.plans")

BASE = "base"
LINE_FIELDS = (
    "product",
    "family",
    "site",
    "month",
    "quantity",
    "revenue",
    "baseline",
    "adjusted",
    "price",
    "forecast_sigma",
)


def get_plan(session: Session, *, plan_id: uuid.UUID, for_update: bool = False) -> DemandPlan:
    """``for_update`` locks the row (PostgreSQL) so a concurrent edit waits, then sees the
    new version and gets its 412, instead of both passing the If-Match check."""
    plan = session.get(DemandPlan, plan_id, with_for_update=True if for_update else None)
    if plan is None:
        raise NotFound(f"Demand plan {plan_id} does not exist.")
    return plan


def _check_version(plan: DemandPlan, if_match: int | None) -> None:
    if if_match is not None and if_match != plan.version:
        raise PreconditionFailed(
            f"Demand plan {plan.id} is at version {plan.version}, not {if_match}.",
            current_version=plan.version,
        )


def _editable(plan: DemandPlan) -> None:
    if plan.status != PlanStatus.draft:
        raise Conflict(
            f"Demand plan {plan.id} is {plan.status}; a {plan.status} version cannot change. "
            "Create a new version based on it (POST /demand-plans with based_on).",
            code="plan-not-editable",
            status_of_plan=plan.status,
        )


def _refresh_totals(session: Session, plan: DemandPlan) -> int:
    lines, quantity, revenue, products = PlanRepository(session).totals(plan.id)
    plan.lines, plan.total_quantity, plan.total_revenue = lines, quantity, revenue
    return products


# ----------------------------------------------------------------------------- create


def build_from_forecast(session: Session, run: ForecastRun, *, default_site: str) -> pd.DataFrame:
    """Plan lines of a run: baseline + promotions, NPI and EOL, split to sites, with the
    forecast error (σ) of each line from the run's 80 % intervals."""
    repo = PlanRepository(session)
    months = months_of(run)
    products = repo.products_frame()
    baseline = ForecastRunRepository(session).values_frame(run.id, months=months, intervals=True)
    promotions = PromotionRepository(session).frame(month_from=months[0], month_to=months[-1])
    reviewed = review(products, baseline, months, promotions)
    shares = build.site_shares(repo.recent_site_history(run.history_end), products, default_site)
    return build.plan_lines(reviewed, shares, build.forecast_sigma(baseline, products))


def create_plan(
    session: Session, *, data: PlanCreate, caller: Caller, default_site: str
) -> DemandPlan:
    """A new draft version: from a forecast run, or a copy of an earlier version."""
    repo = PlanRepository(session)
    draft = repo.open_draft(data.cycle, data.scenario)
    if draft is not None:
        raise Conflict(
            f"Version {draft.version_no} of {data.cycle}/{data.scenario} is still a draft; "
            "change or submit it first.",
            code="draft-exists",
            plan_id=str(draft.id),
        )
    source: DemandPlan | None = None
    if data.based_on is not None:
        source = session.get(DemandPlan, data.based_on)
        if source is None or (source.cycle, source.scenario) != (data.cycle, data.scenario):
            raise ValidationFailed(
                "based_on must be a version of the same cycle and scenario.",
                errors=[FieldError(field="body.based_on", message="not a version of this plan")],
            )
        run_id = source.forecast_run_id
    else:
        run = _run_for(session, data)
        run_id = run.id
    plan = repo.add(
        DemandPlan(
            cycle=data.cycle,
            scenario=data.scenario,
            version_no=repo.next_version_no(data.cycle, data.scenario),
            forecast_run_id=run_id,
            based_on_id=source.id if source else None,
            parameters=dict(source.parameters) if source else {},
            note=data.note,
            created_by=caller.subject,
        )
    )
    session.flush()
    if source is not None:
        repo.copy_lines(source.id, plan.id)
    else:
        repo.write_lines(plan.id, build_from_forecast(session, run, default_site=default_site))
    _refresh_totals(session, plan)
    session.add(plan)
    session.flush()
    return plan


def _run_for(session: Session, data: PlanCreate) -> ForecastRun:
    if data.forecast_run_id is not None:
        run = session.get(ForecastRun, data.forecast_run_id)
        if run is None or run.status != RunStatus.succeeded:
            raise ValidationFailed(
                "forecast_run_id must be a succeeded forecast run.",
                errors=[
                    FieldError(
                        field="body.forecast_run_id", message="no succeeded run with this id"
                    )
                ],
            )
        return run
    run = ForecastRunRepository(session).for_cycle(data.cycle)
    if run is None:
        raise Unprocessable(
            f"Cycle {data.cycle} has no succeeded forecast run; start one first "
            "(POST /api/v1/forecast-runs).",
            code="no-forecast",
        )
    return run


# ----------------------------------------------------------------------------- change


def apply_overrides(
    session: Session,
    *,
    plan_id: uuid.UUID,
    data: OverrideRequest,
    if_match: int | None,
    caller: Caller,
) -> DemandPlan:
    """Set product or family totals; a family's is split by baseline. All or nothing."""
    plan = get_plan(session, plan_id=plan_id, for_update=True)
    _check_version(plan, if_match)
    _editable(plan)
    repo = PlanRepository(session)
    lines = repo.lines_frame(plan.id)
    index = build.LineIndex(lines)
    quantity = lines["quantity"].to_numpy(dtype=float).copy()
    weights = lines["adjusted"].to_numpy(dtype=float)
    touched = np.zeros(len(lines), dtype=bool)
    records: list[PlanOverride] = []
    errors: list[FieldError] = []
    for i, item in enumerate(data.items):
        effect = build.override_effect(
            index,
            quantity,
            weights,
            level=item.level,
            node=item.node,
            month=item.month,
            site=item.site,
            new_quantity=item.quantity,
            change_pct=item.change_pct,
        )
        if effect is None:
            where = f"{item.level} {item.node!r}" + (f" at site {item.site!r}" if item.site else "")
            errors.append(
                FieldError(
                    field=f"body.items.{i}",
                    message=f"the plan has no line for {where} in {item.month}",
                )
            )
            continue
        quantity[effect.rows] = effect.quantities
        touched[effect.rows] = True
        records.append(
            PlanOverride(
                plan_id=plan.id,
                plan_version=plan.version + 1,
                level=item.level,
                node=item.node,
                site=item.site,
                month=item.month,
                old_quantity=effect.old,
                new_quantity=effect.new,
                reason=data.reason,
                created_by=caller.subject,
            )
        )
    if errors:
        raise ValidationFailed(
            f"{len(errors)} override(s) match no plan line; nothing was changed.", errors=errors
        )
    changed = lines[touched].assign(quantity=quantity[touched])
    changed["revenue"] = changed["quantity"] * changed["price"]
    repo.update_quantities(plan.id, changed)
    session.add_all(records)
    plan.version += 1
    _refresh_totals(session, plan)
    session.add(plan)
    session.flush()
    return plan


def submit_plan(
    session: Session, *, plan_id: uuid.UUID, if_match: int | None, caller: Caller
) -> DemandPlan:
    """Freeze the draft, supersede the previous submission, publish ``plan.changed``."""
    plan = get_plan(session, plan_id=plan_id, for_update=True)
    _check_version(plan, if_match)
    _editable(plan)
    repo = PlanRepository(session)
    if repo.totals(plan.id)[0] == 0:
        raise Unprocessable(
            f"Demand plan {plan.id} has no lines; there is nothing for supply to plan.",
            code="plan-empty",
        )
    plan.status = PlanStatus.submitted
    plan.submitted_by, plan.submitted_at = caller.subject, datetime.now(UTC)
    plan.version += 1
    products = _refresh_totals(session, plan)
    session.add(plan)
    session.flush()
    repo.supersede(plan.cycle, plan.scenario, keep=plan.id)
    _freeze_run(session, plan)
    events.plan_changed(session, plan, products=products)
    if plan.scenario == BASE:
        for scenario in repo.scenarios(plan.cycle):
            if scenario.scenario != BASE:
                build_scenario_version(session, base=plan, scenario=scenario)
    return plan


def _freeze_run(session: Session, plan: DemandPlan) -> None:
    """The first run a cycle submits from becomes the cycle's frozen forecast."""
    if plan.forecast_run_id is None:
        return
    frozen = session.exec(
        select(ForecastRun).where(ForecastRun.cycle == plan.cycle, col(ForecastRun.frozen))
    ).first()
    if frozen is None:
        run = session.get(ForecastRun, plan.forecast_run_id)
        if run is not None and run.cycle == plan.cycle:
            run.frozen = True
            session.add(run)


def build_scenario_version(
    session: Session, *, base: DemandPlan, scenario: DemandScenario
) -> DemandPlan | None:
    """Submit a version of ``scenario``: the base plan with its demand change per family."""
    repo = PlanRepository(session)
    previous = repo.latest_submitted(base.cycle, scenario.scenario)
    if (
        previous is not None
        and previous.based_on_id == base.id
        and previous.parameters == scenario.parameters
    ):
        return None  # the same scenario of the same base: already there
    change = scenario.parameters.get("demand_change_pct") or {}
    if not isinstance(change, dict):
        log.warning("scenario %s/%s: demand_change_pct is not a map", base.cycle, scenario.scenario)
        change = {}
    plan = repo.add(
        DemandPlan(
            cycle=base.cycle,
            scenario=scenario.scenario,
            version_no=repo.next_version_no(base.cycle, scenario.scenario),
            status=PlanStatus.submitted,
            forecast_run_id=base.forecast_run_id,
            based_on_id=base.id,
            parameters=dict(scenario.parameters),
            note=f"scenario {scenario.name}: base v{base.version_no} with demand_change_pct",
            created_by="cycle-scenario",
            submitted_by="cycle-scenario",
            submitted_at=datetime.now(UTC),
        )
    )
    session.flush()
    lines = build.scenario_lines(repo.lines_frame(base.id), change)
    repo.write_lines(plan.id, lines)
    products = _refresh_totals(session, plan)
    session.add(plan)
    session.flush()
    repo.supersede(plan.cycle, plan.scenario, keep=plan.id)
    events.plan_changed(session, plan, products=products)
    return plan


def scenario_changed(session: Session, data: ScenarioChangedData) -> None:
    """Remember the scenario; build its version now if the base plan is submitted."""
    if data.scenario == BASE:
        return
    scenario = session.get(DemandScenario, (data.cycle, data.scenario))
    if scenario is None:
        scenario = DemandScenario(cycle=data.cycle, scenario=data.scenario, name=data.name)
    scenario.name, scenario.status = data.name, data.status
    scenario.parameters = dict(data.parameters)
    scenario.updated_at = datetime.now(UTC)
    session.add(scenario)
    session.flush()
    if data.status != "active":
        return
    base = PlanRepository(session).latest_submitted(data.cycle, BASE)
    if base is None:
        log.info("scenario %s/%s waits for a submitted base plan", data.cycle, data.scenario)
        return
    build_scenario_version(session, base=base, scenario=scenario)


def plan_approved(session: Session, data: PlanApprovedData) -> None:
    """Executive approval: the named (else latest submitted) version becomes approved."""
    repo = PlanRepository(session)
    plan = None
    if data.demand_plan_id:
        plan = session.get(DemandPlan, uuid.UUID(data.demand_plan_id))
    if plan is None:
        plan = repo.latest_submitted(data.cycle, data.scenario)
    if plan is None or plan.status != PlanStatus.submitted:
        log.info(
            "approval of %s/%s: no submitted demand plan to approve", data.cycle, data.scenario
        )
        return
    plan.status = PlanStatus.approved
    plan.approved_by = data.approved_by
    plan.approved_at = _parse_time(data.approved_at)
    plan.version += 1
    session.add(plan)
    session.flush()
    _, _, _, products = repo.totals(plan.id)
    events.plan_changed(session, plan, products=products)


def _parse_time(value: str) -> datetime:
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return datetime.now(UTC)


# ----------------------------------------------------------------------------- reads


def list_plans(
    session: Session,
    *,
    cycle: str | None,
    scenario: str | None,
    status: str | None,
    limit: int,
    offset: int,
) -> PlanPage:
    query = select(DemandPlan)
    if cycle:
        query = query.where(DemandPlan.cycle == cycle)
    if scenario:
        query = query.where(DemandPlan.scenario == scenario)
    if status:
        query = query.where(DemandPlan.status == status)
    query = query.order_by(col(DemandPlan.cycle).desc(), col(DemandPlan.scenario))
    rows, total = PlanRepository(session).list_page(
        query, order_by=col(DemandPlan.version_no).desc(), limit=limit, offset=offset
    )
    return PlanPage(
        items=[PlanRead.model_validate(r) for r in rows], total=total, limit=limit, offset=offset
    )


def read_lines(
    session: Session,
    *,
    plan_id: uuid.UUID,
    product: str | None,
    family: str | None,
    site: str | None,
    month: str | None,
    fmt: LineFormat,
    limit: int,
    offset: int,
    fields: str | None = None,
) -> PlanLinePage | Any:
    """Plan lines as a page, or all of them streamed (JSON lines or CSV) for supply; a
    stream may be cut to the ``fields`` its reader uses (half the bytes for supply)."""
    get_plan(session, plan_id=plan_id)
    columns = stream_fields(fields) if fmt != "json" else list(LINE_FIELDS)
    query = select(*(getattr(DemandPlanLine, f) for f in columns)).where(
        DemandPlanLine.plan_id == plan_id
    )
    for column, value in (
        ("product", product),
        ("family", family),
        ("site", site),
        ("month", month),
    ):
        if value:
            query = query.where(getattr(DemandPlanLine, column) == value)
    query = query.order_by(
        col(DemandPlanLine.product), col(DemandPlanLine.site), col(DemandPlanLine.month)
    )
    if fmt != "json":
        return stream_query(
            session, query, columns=columns, fmt=fmt, filename=f"demand-plan-{plan_id}"
        )
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(query.limit(limit).offset(offset)).all()
    return PlanLinePage(
        items=[PlanLineRead(**dict(zip(LINE_FIELDS, r, strict=True))) for r in rows],
        total=int(total),
        limit=limit,
        offset=offset,
    )


def stream_fields(fields: str | None) -> list[str]:
    """The line fields a stream sends, in the contract's order; unknown names are a 422."""
    if not fields:
        return list(LINE_FIELDS)
    wanted = {name.strip() for name in fields.split(",") if name.strip()}
    if unknown := sorted(wanted - set(LINE_FIELDS)):
        raise ValidationFailed(
            f"Unknown line field(s): {', '.join(unknown)}",
            errors=[
                FieldError(
                    field="query.fields",
                    message=f"{name!r} is not one of {', '.join(LINE_FIELDS)}",
                )
                for name in unknown
            ],
        )
    return [name for name in LINE_FIELDS if name in wanted]


def list_overrides(
    session: Session, *, plan_id: uuid.UUID, limit: int, offset: int
) -> OverridePage:
    get_plan(session, plan_id=plan_id)
    repo = PlanRepository(session)
    rows, total = repo.list_page(
        repo.overrides_query(plan_id), order_by=col(PlanOverride.id), limit=limit, offset=offset
    )
    return OverridePage(
        items=[OverrideRead.model_validate(r) for r in rows],
        total=total,
        limit=limit,
        offset=offset,
    )


def _none_if_nan(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def summary(session: Session, *, plan_id: uuid.UUID) -> PlanSummary:
    """Family × month quantity, revenue and baseline beside the budget."""
    plan = get_plan(session, plan_id=plan_id)
    frame = PlanRepository(session).family_month(plan.id)
    if not frame.empty:
        budget = BudgetRepository(session).family_frame(
            month_from=frame["month"].min(), month_to=frame["month"].max()
        )
        frame = frame.merge(budget, on=["family", "month"], how="left")
    else:
        frame = frame.assign(budget_quantity=np.nan, budget_revenue=np.nan)
    has_budget = frame["budget_quantity"].notna().any()
    return PlanSummary(
        plan_id=plan.id,
        cycle=plan.cycle,
        scenario=plan.scenario,
        version_no=plan.version_no,
        status=plan.status,
        items=[
            SummaryRow(
                family=r["family"],
                month=r["month"],
                quantity=r["quantity"],
                revenue=r["revenue"],
                baseline=r["baseline"],
                budget_quantity=_none_if_nan(r["budget_quantity"]),
                budget_revenue=_none_if_nan(r["budget_revenue"]),
            )
            for r in frame.to_dict("records")
        ],
        totals=Totals(
            quantity=float(frame["quantity"].sum()),
            revenue=float(frame["revenue"].sum()),
            budget_quantity=float(frame["budget_quantity"].sum()) if has_budget else None,
            budget_revenue=float(frame["budget_revenue"].sum()) if has_budget else None,
        ),
    )


#: Budget and variance columns of the latest estimate: null where nothing is budgeted.
NULLABLE = frozenset(
    f"{kind}_{measure}{suffix}"
    for kind in ("budget", "variance")
    for measure in ("quantity", "revenue")
    for suffix in ("", "_pct")
)


def latest_estimate(session: Session, *, plan_id: uuid.UUID, year: int | None) -> LatestEstimate:
    """Actuals year-to-date plus the plan for the rest of the year, against budget: like
    for like, only the family × month cells that have a budget are compared."""
    plan = get_plan(session, plan_id=plan_id)
    year = year or int(plan.cycle[:4])
    months = month_range(f"{year:04d}-01", 12)
    repo = PlanRepository(session)
    actuals = repo.family_actuals(months[0], months[-1])
    lines = repo.family_month(plan.id)
    budget = BudgetRepository(session).family_frame(month_from=months[0], month_to=months[-1])
    rows = build.latest_estimate(
        actuals,
        lines[["family", "month", "quantity", "revenue"]],
        budget,
        months=months,
        first_plan_month=plan.cycle,
    )
    totals = build.latest_estimate_totals(rows)
    actual_months = [m for m in months if m < plan.cycle]
    records = [
        LatestEstimateTotal(**{k: _none_if_nan(v) if k in NULLABLE else v for k, v in r.items()})
        for r in totals.to_dict("records")
    ]
    return LatestEstimate(
        plan_id=plan.id,
        year=year,
        actuals_through=actual_months[-1] if actual_months else None,
        items=[
            LatestEstimateRow(**{k: _none_if_nan(v) if k in NULLABLE else v for k, v in r.items()})
            for r in rows.to_dict("records")
        ],
        families=[r for r in records if r.family != "TOTAL"],
        total=next(r for r in records if r.family == "TOTAL"),
    )
