"""Plan events drive the cycle: steps move forward, later steps go stale, old news is dropped."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import Session, col, select

from sop_cycle.plans.models import PlanRecord
from sop_shared.outbox.models import OutboxEvent

from ..builders import deliver, full_chain, plan_event
from ..fakes import FakePeers

MONTH = "2026-12"
BASE = f"/api/v1/cycles/{MONTH}"
COORD = "sop_coordinator"


def _status(client: Any, token: Any) -> dict[str, str]:
    body = client.get(BASE, headers=token("viewer")).json()
    return {s["name"]: s["workflow_status"] for s in body["steps"]}


def _complete(client: Any, token: Any, *steps: str) -> None:
    for step in steps:
        role = "executive" if step == "executive_sop" else COORD
        response = client.post(f"{BASE}/steps/{step}/complete", headers=token(role))
        assert response.status_code == 200, (step, response.text)


@pytest.fixture
def cycle(client: Any, token: Any, peers: FakePeers) -> None:
    peers.all_ready("2026-11")
    assert (
        client.post("/api/v1/cycles", json={"month": MONTH}, headers=token(COORD)).status_code
        == 201
    )


class TestForward:
    def test_each_plan_makes_its_step_ready(
        self, client: Any, token: Any, session: Session, cycle: None
    ) -> None:
        deliver(session, plan_event("demand", "D1"))
        assert _status(client, token)["demand_review"] == "ready"
        deliver(session, plan_event("supply", "S1", upstream="D1"))
        deliver(session, plan_event("production", "P1", upstream="S1"))
        status = _status(client, token)
        assert (status["supply_review"], status["production_review"]) == ("ready", "ready")
        assert status["pre_sop"] == "not_started"
        deliver(
            session, plan_event("supply", "S1c", version=2, status="constrained", upstream="D1")
        )
        assert _status(client, token)["pre_sop"] == "ready"

        trail = client.get(f"{BASE}/audit?step=demand_review", headers=token("viewer")).json()
        (entry,) = trail["items"]
        assert entry["action"] == "advance"
        assert entry["actor"] == "/sop/demand"
        assert entry["reason"] == "sop.demand.plan.changed.v1: demand plan D1 v1 (submitted)"
        assert entry["event_id"]

        current = client.get(BASE, headers=token("viewer")).json()["current_plans"]
        assert current["supply"]["plan_id"] == "S1c"
        assert current["production"]["plan_id"] == "P1"

    def test_plans_recorded_before_the_cycle_opens_make_steps_ready(
        self, client: Any, token: Any, session: Session
    ) -> None:
        deliver(session, plan_event("demand", "D1", cycle="2027-01"))
        client.post("/api/v1/cycles", json={"month": "2027-01"}, headers=token(COORD))
        steps = client.get("/api/v1/cycles/2027-01", headers=token("viewer")).json()["steps"]
        assert {s["name"]: s["workflow_status"] for s in steps}["demand_review"] == "ready"

    def test_other_scenarios_are_recorded_but_move_no_step(
        self, client: Any, token: Any, session: Session, cycle: None
    ) -> None:
        deliver(session, plan_event("demand", "D-up", scenario="upside"))
        assert _status(client, token)["demand_review"] == "not_started"
        plans = client.get(f"{BASE}/plans?scenario=upside", headers=token("viewer")).json()
        assert [p["plan_id"] for p in plans["items"]] == ["D-up"]


def _notices(session: Session, kind: str) -> list[dict[str, Any]]:
    """The data of the step notices of ``kind`` in the outbox, in order."""
    rows = session.exec(select(OutboxEvent).order_by(col(OutboxEvent.seq))).all()
    return [r.payload["data"] for r in rows if r.event_type == f"sop.cycle.step.{kind}.v1"]


class TestStaleness:
    def test_a_newer_demand_plan_reopens_what_rested_on_the_older_one(
        self, client: Any, token: Any, session: Session, cycle: None
    ) -> None:
        full_chain(session, tag="1")
        _complete(client, token, "data_gathering", "product_review", "demand_review")
        _complete(client, token, "supply_review")
        # step 5 and 6 are merely ready, step 7 not started; a demand plan v2 arrives late
        deliver(session, plan_event("demand", "D2", version=2, totals={"quantity": 1200.0}))
        status = _status(client, token)
        assert status == {
            "data_gathering": "completed",
            "product_review": "completed",
            # completed on D1: reopened, and ready again on D2 (its input is here)
            "demand_review": "ready",
            # completed on S1 (from D1): stale until a supply plan of D2 arrives
            "supply_review": "stale",
            # ready on the old chain, never completed: back to waiting, not stale
            "production_review": "not_started",
            "pre_sop": "not_started",
            # never started: nothing to be stale about
            "executive_sop": "not_started",
        }
        demand_review = client.get(f"{BASE}/steps/demand_review", headers=token("viewer")).json()
        assert demand_review["basis"]["demand"] == {
            "plan_id": "D2",
            "version": 2,
            "status": "submitted",
        }
        trail = client.get(f"{BASE}/audit", headers=token("viewer")).json()["items"]
        stale = [t for t in trail if t["action"] == "stale"]
        assert [(t["step"], t["from_status"]) for t in stale] == [
            ("demand_review", "completed"),
            ("supply_review", "completed"),
        ]
        assert {t["actor"] for t in stale} == {"/sop/demand"}
        assert {t["reason"] for t in stale} == {
            "sop.demand.plan.changed.v1: demand plan D2 v2 (submitted)"
        }
        retracted = [(t["step"], t["from_status"]) for t in trail if t["action"] == "retract"]
        assert retracted == [("production_review", "ready"), ("pre_sop", "ready")]
        # the owners hear of it: one stale notice per step, with the owner and a link
        notices = _notices(session, "stale")
        assert [(n["step"], n["owner_role"], n["notice"]) for n in notices] == [
            ("demand_review", "demand_planner", "stale"),
            ("supply_review", "supply_planner", "stale"),
        ]
        assert notices[1]["link"] == f"{BASE}/steps/supply_review"
        assert notices[1]["reason"] == "sop.demand.plan.changed.v1: demand plan D2 v2 (submitted)"

        # the new chain makes the steps ready again, one by one
        deliver(session, plan_event("supply", "S2", upstream="D2"))
        status = _status(client, token)
        assert status["supply_review"] == "ready"
        assert status["production_review"] == "not_started"
        deliver(session, plan_event("production", "P2", upstream="S2"))
        assert _status(client, token)["production_review"] == "ready"

    def test_a_step_not_yet_started_never_goes_stale(
        self, client: Any, token: Any, session: Session, cycle: None
    ) -> None:
        full_chain(session, tag="1")
        _complete(
            client,
            token,
            "data_gathering",
            "product_review",
            "demand_review",
            "supply_review",
            "production_review",
            "pre_sop",
        )
        assert _status(client, token)["executive_sop"] == "not_started"
        deliver(session, plan_event("production", "P1b", version=2, upstream="S1"))
        status = _status(client, token)
        # production review was completed on P1: reopened, ready on P1b
        assert status["production_review"] == "ready"
        assert status["pre_sop"] == "stale"
        assert status["executive_sop"] == "not_started"  # it was shown stale before
        assert [n["step"] for n in _notices(session, "stale")] == ["production_review", "pre_sop"]
        # supply answers the new production plan: the pre-S&OP inputs are ready again
        deliver(
            session, plan_event("supply", "S1d", version=3, status="constrained", upstream="D1")
        )
        status = _status(client, token)
        assert (status["pre_sop"], status["executive_sop"]) == ("ready", "not_started")

    def test_the_same_plan_again_reopens_nothing(
        self, client: Any, token: Any, session: Session, cycle: None
    ) -> None:
        full_chain(session, tag="1")
        _complete(client, token, "data_gathering", "product_review", "demand_review")
        deliver(session, plan_event("demand", "D1"))  # a repeat of the plan it rests on
        assert _status(client, token)["demand_review"] == "completed"
        assert _notices(session, "stale") == []

    def test_supply_of_an_old_chain_changes_nothing(
        self, client: Any, token: Any, session: Session, cycle: None
    ) -> None:
        full_chain(session, tag="1")
        _complete(client, token, "data_gathering", "product_review", "demand_review")
        _complete(client, token, "supply_review", "production_review")
        deliver(session, plan_event("supply", "S-old", version=5, upstream="D0"))
        assert _status(client, token)["production_review"] == "completed"


class TestStaleVersionGuard:
    def test_older_version_is_ignored(
        self, client: Any, token: Any, session: Session, cycle: None
    ) -> None:
        deliver(session, plan_event("demand", "D3", version=3))
        deliver(session, plan_event("demand", "D2", version=2))
        rows = session.exec(select(PlanRecord).where(PlanRecord.kind == "demand")).all()
        assert [(r.plan_id, r.version) for r in rows] == [("D3", 3)]
        current = client.get(BASE, headers=token("viewer")).json()["current_plans"]
        assert current["demand"]["plan_id"] == "D3"

    def test_same_news_twice_is_recorded_once(
        self, client: Any, token: Any, session: Session, cycle: None
    ) -> None:
        deliver(session, plan_event("demand", "D1"))
        deliver(session, plan_event("demand", "D1"))  # another event id, same content
        assert len(session.exec(select(PlanRecord)).all()) == 1
        trail = client.get(f"{BASE}/audit", headers=token("viewer")).json()
        assert trail["total"] == 1

    def test_status_change_of_a_version_updates_the_record(
        self, client: Any, token: Any, session: Session, cycle: None
    ) -> None:
        deliver(session, plan_event("supply", "S1", upstream="D1"))
        deliver(session, plan_event("supply", "S1", upstream="D1", status="constrained"))
        (row,) = session.exec(select(PlanRecord)).all()
        assert row.status == "constrained"


class TestReopen:
    def test_reopening_a_step_makes_the_completed_steps_after_it_stale(
        self, client: Any, token: Any, session: Session, cycle: None
    ) -> None:
        full_chain(session, tag="1")
        _complete(client, token, "data_gathering", "product_review", "demand_review")
        _complete(client, token, "supply_review")
        response = client.post(
            f"{BASE}/steps/product_review/reopen",
            json={"reason": "NPI launch date moved"},
            headers=token(COORD, subject="carla"),
        )
        assert response.status_code == 200
        status = _status(client, token)
        assert status["product_review"] == "in_progress"
        assert status["demand_review"] == status["supply_review"] == "stale"
        # only completed steps go stale: the ones never completed keep their status
        assert (status["production_review"], status["executive_sop"]) == ("ready", "not_started")
        assert status["data_gathering"] == "completed"
        assert [n["step"] for n in _notices(session, "stale")] == ["demand_review", "supply_review"]
        trail = client.get(f"{BASE}/audit?step=supply_review", headers=token("viewer")).json()
        assert trail["items"][-1]["reason"] == "product_review reopened: NPI launch date moved"
        assert trail["items"][-1]["actor"] == "carla"


def _job_failed(kind: str, *, scenario: str = "base") -> Any:
    from sop_shared.events import new_event

    domain = "supply" if kind == "supply-plan" else "capacity"
    return new_event(
        source=f"/sop/{domain}",
        type=f"sop.{domain}.job.failed.v1",
        subject="J1",
        data={
            "job_id": "J1",
            "kind": kind,
            "error": "interrupted: the service stopped while the job ran, 3 time(s) of 3",
            "attempts": 3,
            "cycle": MONTH,
            "scenario": scenario,
        },
    )


class TestJobFailed:
    def test_a_failed_plan_job_blocks_its_step_with_the_reason_until_a_plan_arrives(
        self, client: Any, token: Any, session: Session, cycle: None
    ) -> None:
        deliver(session, plan_event("demand", "D1"))
        deliver(session, _job_failed("supply-plan"))
        assert _status(client, token)["supply_review"] == "blocked"
        trail = client.get(f"{BASE}/audit?step=supply_review", headers=token("viewer")).json()
        entry = trail["items"][-1]
        assert (entry["action"], entry["to_status"]) == ("block", "blocked")
        assert "supply-plan job J1 failed after 3 attempt(s): interrupted" in entry["reason"]

        deliver(session, _job_failed("production-plan", scenario="what-if"))
        assert _status(client, token)["production_review"] == "not_started"  # base only

        deliver(session, plan_event("supply", "S1", upstream="D1"))  # someone re-ran it
        assert _status(client, token)["supply_review"] == "ready"
