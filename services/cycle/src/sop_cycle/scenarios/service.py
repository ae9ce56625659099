"""Scenario use cases: what-if variants of a cycle's plan, and their side-by-side KPIs."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial

from sqlmodel import Session

from sop_cycle.api.deps import end_read
from sop_cycle.cycles.service import APPROVED, get_cycle
from sop_cycle.peers import Peers, parallel
from sop_cycle.plans.service import current_plans
from sop_cycle.presop.service import (
    KINDS,
    assemble_scenario,
    plan_read,
    status_of,
    thresholds,
)
from sop_cycle.scenarios import events
from sop_cycle.scenarios.models import Scenario
from sop_cycle.scenarios.repository import ScenarioRepository
from sop_cycle.scenarios.schemas import (
    ScenarioComparison,
    ScenarioCreate,
    ScenarioKpis,
    ScenarioPage,
    ScenarioRead,
    ScenarioUpdate,
)
from sop_cycle.settings import CycleSettings
from sop_shared.auth import Caller
from sop_shared.problems import Conflict, NotFound, PreconditionFailed

BASE = "base"
#: The KPIs compared side by side, in display order.
COMPARED = (
    "fill_rate",
    "unmet_demand",
    "revenue",
    "gross_margin",
    "margin_pct",
    "inventory_value",
    "inventory_days",
    "utilisation",
    "peak_utilisation",
    "revenue_vs_budget",
)


def get_scenario(session: Session, *, month: str, code: str) -> Scenario:
    cycle = get_cycle(session, month=month)
    scenario = ScenarioRepository(session).get_by(cycle_id=cycle.id, code=code)
    if scenario is None:
        raise NotFound(
            f"Scenario {code!r} does not exist in cycle {month}.", code="scenario-not-found"
        )
    return scenario


def create_scenario(
    session: Session, *, month: str, data: ScenarioCreate, actor: Caller
) -> Scenario:
    cycle = get_cycle(session, month=month, for_update=True)
    if cycle.status == APPROVED:
        raise Conflict(f"Cycle {month} is approved; no new scenarios.", code="cycle-approved")
    repo = ScenarioRepository(session)
    if repo.get_by(cycle_id=cycle.id, code=data.code) is not None:
        raise Conflict(
            f"Scenario {data.code!r} already exists in cycle {month}.", code="scenario-exists"
        )
    scenario = repo.add(
        Scenario(
            cycle_id=cycle.id,  # type: ignore[arg-type]
            code=data.code,
            name=data.name,
            description=data.description,
            parameters=data.parameters.contract(),
            created_by=actor.subject,
        )
    )
    session.flush()
    events.scenario_changed(session, month=month, scenario=scenario)
    return scenario


def update_scenario(
    session: Session,
    *,
    month: str,
    code: str,
    data: ScenarioUpdate,
    if_match: int | None,
) -> Scenario:
    cycle = get_cycle(session, month=month, for_update=True)
    scenario = get_scenario(session, month=month, code=code)
    if code == BASE:
        raise Conflict("The base scenario has no parameters to change.", code="base-scenario")
    if cycle.status == APPROVED:
        raise Conflict(f"Cycle {month} is approved; scenarios are frozen.", code="cycle-approved")
    if if_match is not None and if_match != scenario.version:
        raise PreconditionFailed(
            f"Scenario {code!r} is at version {scenario.version}, not {if_match}.",
            current_version=scenario.version,
        )
    changes = data.model_dump(exclude_unset=True)
    if "name" in changes and data.name:
        scenario.name = data.name
    if "description" in changes:
        scenario.description = data.description
    if data.parameters is not None:
        scenario.parameters = data.parameters.contract()
    if data.status is not None:
        scenario.status = data.status
    scenario.version += 1
    scenario.updated_at = datetime.now(UTC)
    session.add(scenario)
    session.flush()
    events.scenario_changed(session, month=month, scenario=scenario)
    return scenario


def list_scenarios(
    session: Session, *, month: str, status: str | None, limit: int, offset: int
) -> ScenarioPage:
    cycle = get_cycle(session, month=month)
    rows, total = ScenarioRepository(session).page(
        cycle_id=cycle.id,  # type: ignore[arg-type]
        status=status,
        limit=limit,
        offset=offset,
    )
    return ScenarioPage(
        items=[ScenarioRead.model_validate(r) for r in rows],
        total=total,
        limit=limit,
        offset=offset,
    )


def compare_scenarios(
    session: Session,
    peers: Peers,
    *,
    month: str,
    codes: list[str] | None,
    settings: CycleSettings,
) -> ScenarioComparison:
    """Each scenario's KPIs from its plans' summaries, with the difference to base."""
    cycle = get_cycle(session, month=month)
    rows = ScenarioRepository(session).by_codes(cycle_id=cycle.id, codes=codes)  # type: ignore[arg-type]
    unknown = sorted(set(codes or []) - {r.code for r in rows})
    if unknown:
        raise NotFound(
            f"Unknown scenario(s) in {month}: {', '.join(unknown)}.", code="scenario-not-found"
        )
    wanted = [(r.code, r.name, dict(r.parameters)) for r in rows]
    if BASE not in {c for c, _, _ in wanted}:
        base = ScenarioRepository(session).get_by(cycle_id=cycle.id, code=BASE)
        if base is not None:
            wanted.insert(0, (base.code, base.name, dict(base.parameters)))
    chains = {code: current_plans(session, cycle=month, scenario=code) for code, _, _ in wanted}
    end_read(session)
    limits = thresholds(settings)
    results = parallel(
        [partial(assemble_scenario, peers, code, chains[code], limits) for code, _, _ in wanted]
    )
    done = {code: result for (code, _, _), result in zip(wanted, results, strict=True)}
    base_kpis = done[BASE].kpis if BASE in done else {}
    out = []
    for code, name, parameters in wanted:
        figures = {k: done[code].kpis.get(k) for k in COMPARED}
        delta = {
            k: (v - b) if v is not None and (b := base_kpis.get(k)) is not None else None
            for k, v in figures.items()
        }
        out.append(
            ScenarioKpis(
                code=code,
                name=name,
                parameters=parameters,
                status=status_of(code, done[code]),
                ready=done[code].ready,
                missing=done[code].missing,
                plans={k: plan_read(chains[code].get(k)) for k in KINDS},
                kpis=figures,
                delta_vs_base=delta,
                warnings=done[code].warnings,
            )
        )
    return ScenarioComparison(cycle=month, kpis=list(COMPARED), scenarios=out)
