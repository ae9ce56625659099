"""Cycles and their seven steps over HTTP: opening, transitions, gates, audit and events."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import Session, col, select

from sop_shared.outbox.models import OutboxEvent

from ..builders import deliver, plan_event
from ..fakes import FakePeers

MONTH = "2026-12"
BASE = f"/api/v1/cycles/{MONTH}"
COORD = "sop_coordinator"


def _events(session: Session, event_type: str) -> list[dict[str, Any]]:
    rows = session.exec(
        select(OutboxEvent)
        .where(OutboxEvent.event_type == event_type)
        .order_by(col(OutboxEvent.seq))
    ).all()
    return [r.payload for r in rows]


def _steps(client: Any, token: Any) -> dict[str, dict[str, Any]]:
    body = client.get(BASE, headers=token("viewer")).json()
    return {s["name"]: s for s in body["steps"]}


def _complete(client: Any, token: Any, step: str, role: str = COORD, subject: str = "t") -> Any:
    return client.post(f"{BASE}/steps/{step}/complete", headers=token(role, subject=subject))


@pytest.fixture
def cycle(client: Any, token: Any) -> dict[str, Any]:
    response = client.post("/api/v1/cycles", json={"month": MONTH}, headers=token(COORD))
    assert response.status_code == 201, response.text
    return response.json()


class TestOpen:
    def test_seven_steps_with_owners_and_due_dates(
        self, client: Any, token: Any, cycle: Any
    ) -> None:
        steps = client.get(f"{BASE}/steps", headers=token("viewer")).json()
        assert [s["name"] for s in steps] == [
            "data_gathering",
            "product_review",
            "demand_review",
            "supply_review",
            "production_review",
            "pre_sop",
            "executive_sop",
        ]
        assert [s["due_date"] for s in steps] == [
            "2026-12-03",
            "2026-12-08",
            "2026-12-11",
            "2026-12-16",
            "2026-12-21",
            "2026-12-23",
            "2026-12-25",
        ]
        assert steps[2]["owner_role"] == "demand_planner"
        assert steps[6]["owner_role"] == "executive"
        assert {s["status"] for s in steps} == {"not_started"}

    def test_second_open_of_the_same_month_is_409(
        self, client: Any, token: Any, cycle: Any
    ) -> None:
        again = client.post("/api/v1/cycles", json={"month": MONTH}, headers=token(COORD))
        assert again.status_code == 409
        assert again.json()["code"] == "cycle-exists"

    def test_unknown_cycle_is_404_problem(self, client: Any, token: Any) -> None:
        response = client.get("/api/v1/cycles/2030-01", headers=token("viewer"))
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"

    def test_bad_month_names_the_field(self, client: Any, token: Any) -> None:
        response = client.post("/api/v1/cycles", json={"month": "2026-13"}, headers=token(COORD))
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "body.month"


class TestOverdue:
    def test_open_steps_past_due_show_overdue(self, client: Any, token: Any, cycle: Any) -> None:
        from datetime import date

        from sop_cycle.api.deps import get_today

        # Dec 9th: data gathering (due 3rd) and product review (due 8th) are late.
        client.app.dependency_overrides[get_today] = lambda: date(2026, 12, 9)
        steps = _steps(client, token)
        assert steps["data_gathering"]["status"] == "overdue"
        assert steps["data_gathering"]["workflow_status"] == "not_started"
        assert steps["product_review"]["overdue"] is True
        assert steps["demand_review"]["status"] == "not_started"
        assert steps["demand_review"]["overdue"] is False


class TestTransitions:
    def test_start_complete_reopen_are_audited_and_published(
        self, client: Any, token: Any, session: Session, peers: FakePeers, cycle: Any
    ) -> None:
        peers.all_ready("2026-11")
        started = client.post(
            f"{BASE}/steps/data_gathering/start",
            json={"reason": "loads running"},
            headers=token(COORD, subject="carla"),
        )
        assert started.status_code == 200, started.text
        assert started.json()["status"] == "in_progress"
        assert started.headers["ETag"] == '"2"'
        done = _complete(client, token, "data_gathering", subject="carla")
        assert done.status_code == 200, done.text
        assert done.json()["status"] == "completed"
        reopened = client.post(
            f"{BASE}/steps/data_gathering/reopen",
            json={"reason": "supply reloaded November"},
            headers=token(COORD, subject="carla"),
        )
        assert reopened.json()["status"] == "in_progress"

        trail = client.get(f"{BASE}/audit", headers=token("viewer")).json()
        assert [(t["action"], t["from_status"], t["to_status"]) for t in trail["items"]] == [
            ("start", "not_started", "in_progress"),
            ("complete", "in_progress", "completed"),
            ("reopen", "completed", "in_progress"),
        ]
        assert {t["actor"] for t in trail["items"]} == {"carla"}
        assert trail["items"][2]["reason"] == "supply reloaded November"
        published = _events(session, "sop.cycle.step.changed.v1")
        assert [e["data"]["status"] for e in published] == [
            "in_progress",
            "completed",
            "in_progress",
        ]
        assert published[0]["data"] == {
            "cycle": MONTH,
            "step": "data_gathering",
            "status": "in_progress",
            "actor": "carla",
            "reason": "loads running",
        }
        assert published[0]["sopcycle"] == MONTH
        # the data-status of the previous month was asked of every peer
        asked = {(s, p["month"]) for s, path, p in peers.calls if path == "/api/v1/data-status"}
        assert asked == {("demand", "2026-11"), ("supply", "2026-11"), ("capacity", "2026-11")}

    def test_invalid_transition_is_409(self, client: Any, token: Any, cycle: Any) -> None:
        response = client.post(
            f"{BASE}/steps/product_review/reopen", json={"reason": "x"}, headers=token(COORD)
        )
        assert response.status_code == 409
        assert response.json()["code"] == "invalid-transition"
        assert response.json()["status_now"] == "not_started"

    def test_stale_if_match_is_412_and_changes_nothing(
        self, client: Any, token: Any, cycle: Any
    ) -> None:
        step = client.get(f"{BASE}/steps/product_review", headers=token("viewer"))
        assert step.headers["ETag"] == '"1"'
        ok = client.patch(
            f"{BASE}/steps/product_review",
            json={"owner_user": "dana"},
            headers={**token(COORD), "If-Match": '"1"'},
        )
        assert ok.status_code == 200
        assert ok.headers["ETag"] == '"2"'
        stale = client.post(
            f"{BASE}/steps/product_review/start", headers={**token(COORD), "If-Match": '"1"'}
        )
        assert stale.status_code == 412
        assert stale.json()["current_version"] == 2
        assert _steps(client, token)["product_review"]["status"] == "not_started"
        assert _steps(client, token)["product_review"]["owner_user"] == "dana"

    def test_only_the_owner_role_or_the_coordinator_moves_a_step(
        self, client: Any, token: Any, cycle: Any
    ) -> None:
        refused = client.post(f"{BASE}/steps/product_review/start", headers=token("supply_planner"))
        assert refused.status_code == 403
        assert "demand_planner" in refused.json()["required_roles"]
        allowed = client.post(f"{BASE}/steps/product_review/start", headers=token("demand_planner"))
        assert allowed.status_code == 200

    def test_viewer_cannot_move_steps(self, client: Any, token: Any, cycle: Any) -> None:
        assert (
            client.post(f"{BASE}/steps/pre_sop/start", headers=token("viewer")).status_code == 403
        )


class TestGates:
    def test_step_1_waits_for_every_service_data(
        self, client: Any, token: Any, peers: FakePeers, cycle: Any
    ) -> None:
        peers.data_status("demand", ready=True, month="2026-11", last="2026-11")
        peers.data_status("supply", ready=False, month="2026-11", last="2026-10")
        peers.down("capacity", "/api/v1/data-status")
        response = _complete(client, token, "data_gathering")
        assert response.status_code == 409
        problem = response.json()
        assert problem["code"] == "gate-not-met"
        gates = {g["name"]: g for g in problem["gates"]}
        assert gates["data_status.demand"]["ok"] is True
        assert gates["data_status.supply"]["ok"] is False
        assert "failing checks: history_loaded" in gates["data_status.supply"]["detail"]
        assert gates["data_status.capacity"]["ok"] is False
        assert _steps(client, token)["data_gathering"]["status"] == "not_started"

    def test_a_peer_without_the_endpoint_is_not_ready(
        self, client: Any, token: Any, peers: FakePeers, cycle: Any
    ) -> None:
        peers.data_status("demand", ready=True, month="2026-11", last="2026-11")
        peers.data_status("supply", ready=True, month="2026-11", last="2026-11")
        response = _complete(client, token, "data_gathering")  # capacity answers 404
        gates = {g["name"]: g for g in response.json()["gates"]}
        assert gates["data_status.capacity"]["ok"] is False
        assert "not-found" in gates["data_status.capacity"]["detail"]

    def test_steps_complete_in_order(self, client: Any, token: Any, cycle: Any) -> None:
        response = _complete(client, token, "product_review")
        assert response.status_code == 409
        gates = {g["name"]: g for g in response.json()["gates"]}
        assert gates["previous_steps_completed"]["detail"] == "not completed: data_gathering"

    def test_plan_gates_open_one_by_one_as_plans_arrive(
        self, client: Any, token: Any, session: Session, peers: FakePeers, cycle: Any
    ) -> None:
        peers.all_ready("2026-11")
        assert _complete(client, token, "data_gathering").status_code == 200
        assert _complete(client, token, "product_review").status_code == 200

        no_demand = _complete(client, token, "demand_review")
        assert no_demand.status_code == 409
        assert "demand_plan_submitted" in no_demand.json()["detail"]
        deliver(session, plan_event("demand", "D1", status="draft"))  # a draft is not enough
        assert _complete(client, token, "demand_review").status_code == 409
        deliver(session, plan_event("demand", "D1", version=2))
        assert _complete(client, token, "demand_review").status_code == 200

        deliver(session, plan_event("supply", "S0", upstream="D-older"))  # another chain
        no_supply = _complete(client, token, "supply_review")
        assert no_supply.status_code == 409
        assert "demand plan D1 v2" in no_supply.json()["detail"]
        deliver(session, plan_event("supply", "S1", upstream="D1"))
        assert _complete(client, token, "supply_review").status_code == 200

        assert _complete(client, token, "production_review").status_code == 409
        deliver(session, plan_event("production", "P1", upstream="S1"))
        assert _complete(client, token, "production_review").status_code == 200

        unsettled = _complete(client, token, "pre_sop")
        assert unsettled.status_code == 409
        assert "supply_plan_constrained" in unsettled.json()["detail"]
        deliver(session, plan_event("supply", "S1", version=1, status="constrained", upstream="D1"))
        assert _complete(client, token, "pre_sop").status_code == 200
        assert _complete(client, token, "executive_sop", role="executive").status_code == 200

        steps = _steps(client, token)
        assert {s["status"] for s in steps.values()} == {"completed"}
        assert steps["pre_sop"]["basis"] == {
            "demand": {"plan_id": "D1", "version": 2, "status": "submitted"},
            "supply": {"plan_id": "S1", "version": 1, "status": "constrained"},
            "production": {"plan_id": "P1", "version": 1, "status": "optimal"},
        }

    def test_executive_step_waits_for_pre_sop(self, client: Any, token: Any, cycle: Any) -> None:
        response = _complete(client, token, "executive_sop", role="executive")
        assert response.status_code == 409
        assert "pre_sop" in response.json()["detail"]
