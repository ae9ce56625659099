"""Event handlers: what each consumed event writes (the broker path is in tests/kafka)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from builders import monthly, seed_live
from pydantic import ValidationError
from sqlmodel import Session, col, select

from sop_capacity.consumers.handlers import (
    consumers,
    on_plan_approved,
    on_scenario_changed,
    on_supply_plan_changed,
)
from sop_capacity.production_plans.models import PlanTrigger, ProductionPlan
from sop_capacity.scenarios.models import ScenarioSetting
from sop_shared.db import transaction
from sop_shared.events import new_event
from sop_shared.jobs import Job


def supply_event(plan_id: str = "SP-1", status: str = "unconstrained", **data: Any) -> Any:
    return new_event(
        source="/sop/supply",
        type="sop.supply.plan.changed.v1",
        subject=plan_id,
        data={
            "plan_id": plan_id,
            "cycle": "2027-01",
            "scenario": "base",
            "version": 2,
            "status": status,
            **data,
        },
    )


def jobs(session: Session) -> list[Job]:
    return list(session.exec(select(Job)).all())


def test_each_consumer_reads_its_domains_contract_topic() -> None:
    # The broker test wires these handlers to topics of its own; production uses these.
    topics = {spec.purpose: spec.topics for spec in consumers()}
    assert topics["supply-plans"] == ["sop.supply.v1"]
    assert topics["cycle"] == ["sop.cycle.v1"]
    handled = {spec.purpose: set(spec.handlers) for spec in consumers()}
    assert handled["supply-plans"] == {"sop.supply.plan.changed.v1"}
    assert handled["cycle"] == {"sop.cycle.scenario.changed.v1", "sop.cycle.plan.approved.v1"}


class TestSupplyPlanChanged:
    def test_unconstrained_plan_queues_one_job(self, session: Session) -> None:
        on_supply_plan_changed(session, supply_event())
        [job] = jobs(session)
        assert job.kind == "production-plan"
        assert job.state == "queued"
        assert job.params["supply_plan_id"] == "SP-1"
        assert job.params["supply_plan_version"] == 2
        assert job.params["strategy"] == "optimal"
        assert job.params["trigger"] == "event"
        trigger = session.get(PlanTrigger, ("SP-1", "base"))
        assert trigger is not None
        assert trigger.job_id == job.id

    def test_constrained_plan_is_ignored_loop_guard(self, session: Session) -> None:
        on_supply_plan_changed(session, supply_event(status="constrained"))
        assert jobs(session) == []

    def test_another_event_for_the_same_supply_plan_queues_nothing_more(
        self, session: Session
    ) -> None:
        on_supply_plan_changed(session, supply_event())
        on_supply_plan_changed(session, supply_event())  # a new event id, same plan
        on_supply_plan_changed(session, supply_event(scenario="strike"))
        assert sorted(j.params["scenario"] for j in jobs(session)) == ["base", "strike"]


def test_a_new_supply_plan_in_the_same_cycle_and_scenario_gives_version_2(
    live: Any, token: Any, fake_supply: Any
) -> None:
    # Supply recomputes the cycle's base plan (new id SP-2): capacity plans it again, as the
    # next version of the (cycle, scenario)'s production plan, from SP-2's requirements.
    seed_live(
        live,
        token,
        products={"X": (40.0, 10.0)},
        resources=[{"code": "LINE-1", "name": "Line 1", "site": "PA"}],
        calendars=[
            {"resource": "LINE-1", "month": m, "working_days": 12.5}  # 100 h
            for m in ("2027-01", "2027-02")
        ],
        routings=[{"product": "X", "resource": "LINE-1", "hours_per_unit": 1, "cost_per_unit": 1}],
    )
    fake_supply.plans["SP-1"] = monthly("X", [10, 10])
    fake_supply.plans["SP-2"] = monthly("X", [20, 30])
    for plan_id, version in (("SP-1", 2), ("SP-2", 3)):
        with transaction(live.engine) as session:
            on_supply_plan_changed(session, supply_event(plan_id, version=version))
        [job] = live.run_jobs()
        assert job.state == "succeeded", job.error
    with Session(live.engine) as session:
        plans = session.exec(select(ProductionPlan).order_by(col(ProductionPlan.version))).all()
        got = [
            (p.supply_plan_id, p.supply_plan_version, p.cycle, p.scenario, p.version, p.trigger)
            for p in plans
        ]
        assert got == [
            ("SP-1", 2, "2027-01", "base", 1, "event"),
            ("SP-2", 3, "2027-01", "base", 2, "event"),
        ]
        assert [p.totals["production"] for p in plans] == [20.0, 50.0]


class TestScenarioChanged:
    def event(self, parameters: dict[str, Any], time: datetime | None = None) -> Any:
        event = new_event(
            source="/sop/cycle",
            type="sop.cycle.scenario.changed.v1",
            subject="2027-01/strike",
            data={
                "cycle": "2027-01",
                "scenario": "strike",
                "name": "Strike",
                "parameters": parameters,
            },
        )
        if time is not None:
            event.time = time
        return event

    def test_parameters_are_stored_and_an_older_event_does_not_win(self, session: Session) -> None:
        now = datetime.now(UTC)
        on_scenario_changed(
            session,
            self.event(
                {
                    "unavailable_resources": [{"resource": "LINE-2", "months": ["2027-03"]}],
                    "overtime_allowed": False,
                    "demand_change_pct": {"FAM": 10},
                },
                time=now,
            ),
        )
        on_scenario_changed(
            session, self.event({"overtime_allowed": True}, time=now - timedelta(1))
        )
        row = session.get(ScenarioSetting, ("2027-01", "strike"))
        assert row is not None
        assert row.overtime_allowed is False
        assert row.unavailable_resources == [{"resource": "LINE-2", "months": ["2027-03"]}]
        assert row.parameters["demand_change_pct"] == {"FAM": 10}

    def test_malformed_capacity_parameters_are_refused(self, session: Session) -> None:
        bad = {"unavailable_resources": [{"resource": "LINE-2", "months": ["March"]}]}
        with pytest.raises(ValidationError):
            on_scenario_changed(session, self.event(bad))
        assert session.exec(select(ScenarioSetting)).all() == []


def test_approval_freezes_the_named_plan(session: Session) -> None:
    plan = ProductionPlan(
        cycle="2027-01",
        version=1,
        supply_plan_id="SP-1",
        strategy="optimal",
        solve_status="optimal",
        first_month="2027-01",
        last_month="2027-12",
    )
    session.add(plan)
    session.flush()
    approved = new_event(
        source="/sop/cycle",
        type="sop.cycle.plan.approved.v1",
        subject="2027-01",
        data={
            "cycle": "2027-01",
            "approved_by": "ceo",
            "approved_at": "2027-01-20T10:00:00+00:00",
            "production_plan_id": str(plan.id),
        },
    )
    on_plan_approved(session, approved)
    session.flush()
    session.expire_all()
    assert plan.status == "frozen"
    assert plan.frozen_by == "ceo"
    # An unknown plan id changes nothing and does not fail the consumer.
    approved.data["production_plan_id"] = "not-a-uuid"
    on_plan_approved(session, approved)


def test_a_supply_plan_whose_run_failed_for_good_is_queued_again(session: Session) -> None:
    """The once-per-plan rule never leaves the chain without a job: a failed run is retried
    by the next announcement of the same plan (a replayed or republished event)."""
    on_supply_plan_changed(session, supply_event())
    [first] = jobs(session)
    first.state = "failed"
    session.add(first)
    session.flush()
    on_supply_plan_changed(session, supply_event())
    queued = [j for j in jobs(session) if j.state == "queued"]
    assert len(queued) == 1
    assert queued[0].id != first.id
    trigger = session.get(PlanTrigger, ("SP-1", "base"))
    assert trigger is not None
    assert trigger.job_id == queued[0].id
