"""Which plans form a cycle's current chain (demand → supply → production)."""

from __future__ import annotations

from typing import Any

from sop_cycle.plans.schemas import PlanRef, resolve_current

_seq = iter(range(1, 10_000))


def ref(kind: str, plan_id: str, version: int = 1, status: str = "x", **kw: Any) -> PlanRef:
    return PlanRef(
        id=next(_seq),
        kind=kind,
        plan_id=plan_id,
        cycle="2026-12",
        scenario="base",
        version=version,
        status=status,
        **kw,
    )


def test_drafts_do_not_count_and_the_highest_version_wins() -> None:
    plans = resolve_current(
        [
            ref("demand", "D1", 1, "submitted"),
            ref("demand", "D3", 3, "draft"),
            ref("demand", "D2", 2, "submitted"),
        ]
    )
    assert plans.demand is not None
    assert plans.demand.plan_id == "D2"
    assert plans.supply is None
    assert not plans.settled


def test_supply_of_a_superseded_demand_plan_is_not_current() -> None:
    plans = resolve_current(
        [
            ref("demand", "D1", 1, "submitted"),
            ref("supply", "S1", 1, "unconstrained", upstream_plan_id="D1"),
            ref("demand", "D2", 2, "submitted"),
        ]
    )
    assert plans.demand.plan_id == "D2"  # type: ignore[union-attr]
    assert plans.supply is None


def test_constrained_supply_settles_the_chain() -> None:
    records = [
        ref("demand", "D1", 1, "submitted"),
        ref("supply", "S1", 1, "unconstrained", upstream_plan_id="D1"),
        ref("production", "P1", 1, "optimal", upstream_plan_id="S1"),
    ]
    assert not resolve_current(records).settled
    records.append(ref("supply", "S1c", 2, "constrained", upstream_plan_id="D1"))
    plans = resolve_current(records)
    assert plans.supply.plan_id == "S1c"  # type: ignore[union-attr]
    assert plans.production.plan_id == "P1"  # type: ignore[union-attr]  # computed from S1
    assert plans.settled
    assert plans.basis()["supply"] == {"plan_id": "S1c", "version": 2, "status": "constrained"}


def test_a_scenario_without_its_own_demand_plan_has_no_chain() -> None:
    """A scenario never borrows another's demand plan: until its own exists, nothing."""
    plans = resolve_current([ref("supply", "S9", 1, "unconstrained", upstream_plan_id="D1")])
    assert (plans.demand, plans.supply, plans.production) == (None, None, None)


def test_a_constrained_plan_older_than_the_production_plan_does_not_settle() -> None:
    from datetime import UTC, datetime

    t = [datetime(2026, 12, 1, 8, m, tzinfo=UTC) for m in range(4)]
    records = [
        ref("demand", "D1", 1, "submitted", received_at=t[0]),
        ref("supply", "S1c", 2, "constrained", upstream_plan_id="D1", received_at=t[2]),
        ref("production", "P2", 2, "optimal", upstream_plan_id="S1c", received_at=t[3]),
    ]
    assert not resolve_current(records).settled  # supply has not answered P2 yet
