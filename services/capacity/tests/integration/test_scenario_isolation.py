"""Scenario isolation: a run for scenario X plans only a supply plan of X; a supply event
whose envelope and payload name different scenarios is refused (dead-lettered); the one
approval vocabulary (``status=approved``) filters the plan list."""

from __future__ import annotations

from typing import Any

import pytest
from builders import monthly, ok, plan_run, seed_live
from sqlmodel import Session, select

from sop_capacity.consumers.handlers import on_plan_approved, on_supply_plan_changed
from sop_capacity.production_plans.models import ProductionPlan
from sop_shared.db import transaction
from sop_shared.events import new_event
from sop_shared.inbox import EventRejected
from sop_shared.jobs import Job

LINE = {"code": "LINE-1", "name": "Line 1", "site": "PA"}
ROUTING = {"product": "X", "resource": "LINE-1", "hours_per_unit": 1, "cost_per_unit": 2}


def _seed(live: Any, token: Any) -> None:
    seed_live(
        live,
        token,
        products={"X": (40.0, 10.0)},
        resources=[LINE],
        calendars=[
            {"resource": "LINE-1", "month": m, "working_days": 12.5} for m in ("2027-01", "2027-02")
        ],
        routings=[ROUTING],
    )


def _supply_event(plan_id: str, *, scenario: str, envelope_scenario: str | None = None) -> Any:
    return new_event(
        source="/sop/supply",
        type="sop.supply.plan.changed.v1",
        subject=plan_id,
        cycle="2027-01",
        scenario=envelope_scenario or scenario,
        data={
            "plan_id": plan_id,
            "cycle": "2027-01",
            "scenario": scenario,
            "version": 1,
            "status": "unconstrained",
        },
    )


def test_a_manual_run_of_another_scenarios_supply_plan_is_refused(
    live: Any, token: Any, fake_supply: Any
) -> None:
    """The supply plan is known from its event as base's: 422 at once, nothing queued."""
    _seed(live, token)
    fake_supply.plans["SP-B"] = monthly("X", [10, 10])
    with transaction(live.engine) as session:
        on_supply_plan_changed(session, _supply_event("SP-B", scenario="base"))
    live.run_jobs()
    refused = live.client.post(
        "/api/v1/production-plans",
        json={"supply_plan_id": "SP-B", "cycle": "2027-01", "scenario": "what-if"},
        headers=token("capacity_planner"),
    )
    assert refused.status_code == 422, refused.text
    assert refused.json()["code"] == "scenario-mismatch"
    assert refused.json()["errors"][0]["field"] == "body.scenario"
    with Session(live.engine) as session:
        assert [j.params["scenario"] for j in session.exec(select(Job)).all()] == ["base"]


def test_a_run_checks_the_supply_plans_scenario_with_supply(
    live: Any, token: Any, fake_supply: Any
) -> None:
    """Unknown here: the job asks supply, and fails naming both scenarios, writing nothing;
    a run for the plan's own scenario makes a plan of that scenario."""
    _seed(live, token)
    fake_supply.plans["SP-W"] = monthly("X", [10, 10])
    fake_supply.headers["SP-W"] = {"cycle": "2027-01", "scenario": "base"}
    job, plan = plan_run(live, token, "SP-W", scenario="what-if", strategy="chase")
    assert (job.state, plan) == ("failed", None)
    assert "scenario 'base'" in job.error
    assert "'what-if'" in job.error
    fake_supply.headers["SP-W"] = {"cycle": "2027-01", "scenario": "what-if"}
    job, plan = plan_run(live, token, "SP-W", scenario="what-if", strategy="chase")
    assert job.state == "succeeded", job.error
    assert plan is not None
    assert plan["scenario"] == "what-if"


def test_an_event_mixing_scenarios_is_rejected(session: Session) -> None:
    with pytest.raises(EventRejected, match="lineage mixes scenarios"):
        on_supply_plan_changed(
            session, _supply_event("SP-X", scenario="base", envelope_scenario="what-if")
        )
    assert session.exec(select(Job)).all() == []


def test_status_approved_lists_the_frozen_plan_only(
    live: Any, token: Any, fake_supply: Any
) -> None:
    _seed(live, token)
    fake_supply.plans["SP-1"] = monthly("X", [10, 10])
    _, first = plan_run(live, token, "SP-1")
    _, second = plan_run(live, token, "SP-1", strategy="level")
    assert first is not None
    assert second is not None
    with transaction(live.engine) as session:
        on_plan_approved(
            session,
            new_event(
                source="/sop/cycle",
                type="sop.cycle.plan.approved.v1",
                subject="2027-01",
                data={
                    "cycle": "2027-01",
                    "approved_by": "ceo",
                    "approved_at": "2027-01-20T10:00:00+00:00",
                    "production_plan_id": first["id"],
                },
            ),
        )
    url = "/api/v1/production-plans?cycle=2027-01"
    approved = ok(live.client.get(f"{url}&status=approved", headers=token("viewer")))
    assert [p["id"] for p in approved["items"]] == [first["id"]]
    everything = ok(live.client.get(url, headers=token("viewer")))
    assert {p["id"] for p in everything["items"]} == {first["id"], second["id"]}
    with Session(live.engine) as session:
        statuses = {str(p.id): p.status for p in session.exec(select(ProductionPlan)).all()}
    assert statuses == {first["id"]: "frozen", second["id"]: "published"}
