"""Step 6: the pre-S&OP view of a scenario, assembled over REST from the plan summaries.

The plan ids come from this service's own records (events); the numbers from the peers'
summaries, fetched side by side after the read transaction has ended.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlmodel import Session

from sop_cycle.api.deps import end_read
from sop_cycle.cycles.service import get_cycle, plan_read
from sop_cycle.peers import Peers
from sop_cycle.plans.schemas import CurrentPlans
from sop_cycle.plans.service import current_plans
from sop_cycle.presop import analysis
from sop_cycle.presop.schemas import OpenDecision, PreSopView
from sop_cycle.presop.sources import Sources, build_sources
from sop_cycle.scenarios.repository import ScenarioRepository
from sop_cycle.settings import CycleSettings
from sop_shared.problems import NotFound

KINDS = ("demand", "supply", "production")
BASE = "base"


@dataclass
class Assembled:
    """The numbers of one scenario, ready for a view, a comparison, a pack or a snapshot."""

    plans: CurrentPlans
    sources: Sources
    recon: pd.DataFrame
    util: pd.DataFrame
    months: pd.DataFrame
    kpis: dict[str, float | None]
    issues: list[dict[str, Any]]
    proposals: list[dict[str, Any]]
    missing: list[str]

    @property
    def ready(self) -> bool:
        return not self.missing

    @property
    def warnings(self) -> list[str]:
        return self.sources.warnings


def thresholds(settings: CycleSettings) -> analysis.Thresholds:
    return analysis.Thresholds(
        fill_rate_target=settings.fill_rate_target,
        utilisation_limit=settings.utilisation_limit,
        budget_tolerance=settings.budget_tolerance,
    )


def missing_parts(plans: CurrentPlans) -> list[str]:
    missing = [f"{kind} plan" for kind in KINDS if plans.get(kind) is None]
    if not missing and not plans.settled:
        missing.append("constrained supply plan (supply has not answered the production plan)")
    return missing


def computing(scenario: str, plans: CurrentPlans) -> bool:
    """A what-if scenario whose own chain (demand → supply → production → constrained
    supply) is not complete yet: it is being computed, and shows no numbers until then."""
    return scenario != BASE and not plans.settled


def assemble_scenario(
    peers: Peers, scenario: str, plans: CurrentPlans, limits: analysis.Thresholds
) -> Assembled:
    """``assemble``, except that a scenario still computing fetches nothing and shows no
    numbers (never half of one chain beside the other)."""
    if not computing(scenario, plans):
        return assemble(peers, plans, limits)
    done = assemble(peers, CurrentPlans(), limits)
    done.plans, done.missing = plans, missing_parts(plans)
    done.kpis = dict.fromkeys(done.kpis)
    return done


def status_of(scenario: str, done: Assembled) -> str:
    if done.ready:
        return "ready"
    return (
        "computing" if computing(scenario, done.plans) or not done.plans.settled else "unavailable"
    )


def assemble(peers: Peers, plans: CurrentPlans, limits: analysis.Thresholds) -> Assembled:
    """Fetch the summaries of a chain (no transaction may be open) and compute everything."""
    ids = {kind: ref.plan_id if (ref := plans.get(kind)) else None for kind in KINDS}
    summaries = peers.plan_documents(
        {**{k: (pid, None) for k, pid in ids.items()}, "contracts": (ids["supply"], None)}
    )
    sources = build_sources(summaries)
    recon = analysis.reconcile(sources)
    util = analysis.utilisation(sources, limits.utilisation_limit)
    months = analysis.by_month(recon, util)
    figures = analysis.kpis(recon, util, months)
    issues, proposals = analysis.issues_and_proposals(recon, util, sources, figures, limits)
    missing = missing_parts(plans) + [
        f"{kind} summary"
        for kind, body in summaries.items()
        if isinstance(body, str) and kind in KINDS
    ]
    return Assembled(plans, sources, recon, util, months, figures, issues, proposals, missing)


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as dicts with None for missing numbers (JSON has no NaN)."""
    if frame.empty:
        return []
    clean = frame.astype(object).where(frame.notna(), None)
    return [
        {k: (float(v) if isinstance(v, (np.floating, np.integer)) else v) for k, v in row.items()}
        for row in clean.to_dict("records")
    ]


def require_scenario(session: Session, *, month: str, scenario: str) -> None:
    cycle = get_cycle(session, month=month)
    if ScenarioRepository(session).get_by(cycle_id=cycle.id, code=scenario) is None:
        raise NotFound(
            f"Scenario {scenario!r} does not exist in cycle {month}.", code="scenario-not-found"
        )


def load_chain(session: Session, *, month: str, scenario: str) -> CurrentPlans:
    require_scenario(session, month=month, scenario=scenario)
    return current_plans(session, cycle=month, scenario=scenario)


def presop_view(
    session: Session,
    peers: Peers,
    *,
    month: str,
    scenario: str,
    settings: CycleSettings,
) -> PreSopView:
    from sop_cycle.executive.repository import DecisionRepository

    plans = load_chain(session, month=month, scenario=scenario)
    cycle = get_cycle(session, month=month)
    assert cycle.id is not None
    decisions = [
        OpenDecision(
            id=d.id or 0,
            topic=d.topic,
            options=list(d.options),
            chosen_option=d.chosen_option,
            owner=d.owner,
            due_date=d.due_date.isoformat() if d.due_date else None,
            status=d.status,
        )
        for d in DecisionRepository(session).open_for_cycle(cycle.id)
    ]
    end_read(session)
    done = assemble_scenario(peers, scenario, plans, thresholds(settings))
    return PreSopView(
        cycle=month,
        scenario=scenario,
        status=status_of(scenario, done),
        ready=done.ready,
        missing=done.missing,
        warnings=done.warnings,
        generated_at=datetime.now(UTC),
        plans={kind: plan_read(plans.get(kind)) for kind in KINDS},
        kpis=done.kpis,
        demand_vs_supply=records(done.recon),  # type: ignore[arg-type]
        months=records(done.months),  # type: ignore[arg-type]
        capacity=records(done.util),  # type: ignore[arg-type]
        bottlenecks=done.sources.bottlenecks,
        capacity_costs=done.sources.capacity_costs,
        overtime=done.sources.overtime,
        capacity_unmet=done.sources.unmet,
        contract_issues=done.sources.contract_issues,
        exceptions=done.sources.exceptions,
        issues=done.issues,  # type: ignore[arg-type]
        proposed_decisions=done.proposals,  # type: ignore[arg-type]
        open_decisions=decisions,
    )
