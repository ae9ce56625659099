"""Plan integrity: scenarios never mix, an approved plan never moves, one approved-plan
contract, and no approval with an open decision (issue 14, items 1-3)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import Session, col, select

from sop_cycle.executive import service as executive
from sop_cycle.settings import STEP_NAMES
from sop_shared.inbox import EventRejected
from sop_shared.outbox.models import OutboxEvent

from ..builders import (
    capacity_summary,
    contract_review,
    deliver,
    demand_summary,
    full_chain,
    plan_event,
    supply_summary,
)
from ..fakes import FakePeers

MONTH = "2026-12"
BASE = f"/api/v1/cycles/{MONTH}"
COORD = "sop_coordinator"
STEPS = STEP_NAMES[:-1]  # every step before the executive meeting


def _approved_events(session: Session) -> list[dict[str, Any]]:
    rows = session.exec(
        select(OutboxEvent)
        .where(OutboxEvent.event_type == "sop.cycle.plan.approved.v1")
        .order_by(col(OutboxEvent.seq))
    ).all()
    return [r.payload for r in rows]


@pytest.fixture
def reviewed(client: Any, token: Any, session: Session, peers: FakePeers) -> None:
    """Base chain D1 → S1 → P1 → S1c with totals, steps 1-6 completed."""
    peers.all_ready("2026-11")
    assert client.post("/api/v1/cycles", json={"month": MONTH}, headers=token(COORD)).is_success
    deliver(session, plan_event("demand", "D1", totals={"quantity": 300.0, "revenue": 6000.0}))
    deliver(session, plan_event("supply", "S1", upstream="D1"))
    deliver(
        session,
        plan_event(
            "production",
            "P1",
            upstream="S1",
            totals={"quantity": 280.0, "cost": 5300.0, "production_cost": 5000.0},
        ),
    )
    deliver(
        session,
        plan_event(
            "supply",
            "S1c",
            upstream="D1",
            status="constrained",
            version=2,
            totals={"ending_inventory_value": 900.0, "average_inventory_value": 750.0},
        ),
    )
    peers.summaries(
        demand=("D1", demand_summary()),
        supply=("S1c", supply_summary()),
        production=("P1", capacity_summary()),
        contracts=("S1c", contract_review()),
    )
    for step in STEPS:
        response = client.post(f"{BASE}/steps/{step}/complete", headers=token(COORD))
        assert response.status_code == 200, (step, response.text)


class TestDecisionsGateApproval:
    def test_an_open_decision_is_a_409_naming_it(
        self, client: Any, token: Any, session: Session, reviewed: None
    ) -> None:
        created = client.post(
            f"{BASE}/decisions",
            json={"topic": "Overtime on L1", "options": ["yes", "no"]},
            headers=token(COORD),
        ).json()
        refused = client.post(f"{BASE}/approve", headers=token("executive"))
        assert refused.status_code == 409
        problem = refused.json()
        assert problem["code"] == "decision-open"
        assert f"decision {created['id']}" in problem["detail"]
        assert "Overtime on L1" in problem["detail"]
        assert problem["decisions"] == [{"id": created["id"], "topic": "Overtime on L1"}]
        assert _approved_events(session) == []

        # deferring needs a reason; with one, the decision no longer blocks
        no_reason = client.patch(
            f"{BASE}/decisions/{created['id']}",
            json={"status": "deferred"},
            headers=token("executive"),
        )
        assert no_reason.status_code == 422
        assert no_reason.json()["code"] == "no-deferral-reason"
        deferred = client.patch(
            f"{BASE}/decisions/{created['id']}",
            json={"status": "deferred", "deferred_reason": "wait for the union's answer"},
            headers=token("executive"),
        )
        assert deferred.status_code == 200, deferred.text
        assert deferred.json()["deferred_reason"] == "wait for the union's answer"
        approved = client.post(f"{BASE}/approve", headers=token("executive"))
        assert approved.status_code == 200, approved.text


class TestFreeze:
    def test_nothing_computed_after_approval_changes_the_approved_cycle(
        self, client: Any, token: Any, session: Session, peers: FakePeers, reviewed: None
    ) -> None:
        client.post(
            f"{BASE}/scenarios", json={"code": "what-if", "name": "What if"}, headers=token(COORD)
        )
        before = {
            "cycle": client.get(BASE, headers=token("viewer")).json()["current_plans"],
            "pre_sop": client.get(f"{BASE}/pre-sop", headers=token("viewer")).json(),
        }
        assert client.post(f"{BASE}/approve", headers=token("executive")).status_code == 200
        approved = client.get(f"{BASE}/approved-plan", headers=token("viewer")).json()

        # After approval: a newer base chain, and a what-if chain, are computed.
        deliver(session, plan_event("demand", "D2", version=2))
        deliver(session, plan_event("supply", "S2", upstream="D2", version=3))
        deliver(session, plan_event("production", "P2", upstream="S2", version=2))
        deliver(
            session,
            plan_event("supply", "S2c", upstream="D2", version=4, status="constrained"),
        )
        full_chain(session, tag="W", scenario="what-if")

        cycle = client.get(BASE, headers=token("viewer")).json()
        assert cycle["current_plans"] == before["cycle"]
        assert {k: v["plan_id"] for k, v in cycle["current_plans"].items()} == {
            "demand": "D1",
            "supply": "S1c",
            "production": "P1",
        }
        pre_sop = client.get(f"{BASE}/pre-sop", headers=token("viewer")).json()
        assert pre_sop["plans"] == before["pre_sop"]["plans"]
        assert pre_sop["kpis"] == before["pre_sop"]["kpis"]
        # the what-if chain arrived after approval: frozen out of the approved cycle
        what_if = client.get(f"{BASE}/pre-sop?scenario=what-if", headers=token("viewer")).json()
        assert what_if["status"] == "computing"
        assert what_if["plans"] == {"demand": None, "supply": None, "production": None}
        compared = client.get(f"{BASE}/scenarios/compare", headers=token("viewer")).json()
        base = next(s for s in compared["scenarios"] if s["code"] == "base")
        assert base["plans"] == before["pre_sop"]["plans"]
        assert client.get(f"{BASE}/approved-plan", headers=token("viewer")).json() == approved
        # the KPI snapshot and the review pack read the same pinned chain
        _, scenario, chain = executive.approved_chain(session, month=MONTH)
        assert scenario == "base"
        assert (chain.demand.plan_id, chain.supply.plan_id, chain.production.plan_id) == (  # type: ignore[union-attr]
            "D1",
            "S1c",
            "P1",
        )
        pack = client.get(f"{BASE}/review-pack", headers=token("viewer")).text
        assert "S1c" in pack
        assert "S2c" not in pack


class TestLineage:
    def test_a_plan_computed_from_another_scenarios_plan_is_refused(
        self, client: Any, token: Any, session: Session, reviewed: None
    ) -> None:
        """The manual run of the issue: a what-if production plan from base's supply plan,
        and supply's answer labelled base; both refused for good (dead-lettered)."""
        before = client.get(BASE, headers=token("viewer")).json()["current_plans"]
        with pytest.raises(EventRejected, match="lineage mixes scenarios") as mixed:
            deliver(session, plan_event("production", "PW", scenario="what-if", upstream="S1c"))
        assert "upstream supply plan S1c: cycle 2026-12 scenario base" in str(mixed.value)
        session.rollback()
        event = plan_event("supply", "SX", upstream="D1", status="constrained", version=9)
        event.sopscenario = "what-if"  # the envelope says one scenario, the payload another
        with pytest.raises(EventRejected, match="envelope: cycle 2026-12 scenario what-if"):
            deliver(session, event)
        session.rollback()
        assert client.get(BASE, headers=token("viewer")).json()["current_plans"] == before
        listed = client.get(f"{BASE}/plans", headers=token("viewer")).json()
        assert {p["plan_id"] for p in listed["items"]} == {"D1", "S1", "P1", "S1c"}


class TestScenarioComputing:
    def test_a_scenario_is_computing_until_its_own_chain_exists(
        self, client: Any, token: Any, session: Session, peers: FakePeers, reviewed: None
    ) -> None:
        client.post(
            f"{BASE}/scenarios", json={"code": "upside", "name": "Upside"}, headers=token(COORD)
        )
        peers.calls.clear()
        view = client.get(f"{BASE}/pre-sop?scenario=upside", headers=token("viewer")).json()
        assert (view["status"], view["ready"]) == ("computing", False)
        assert view["plans"] == {"demand": None, "supply": None, "production": None}
        assert set(view["kpis"].values()) == {None}
        assert view["demand_vs_supply"] == []
        assert peers.calls == []  # nothing fetched: no base numbers under the scenario's name
        # its own demand and supply, not yet production: still computing, still no numbers
        deliver(session, plan_event("demand", "DU", scenario="upside"))
        deliver(session, plan_event("supply", "SU", scenario="upside", upstream="DU"))
        compared = client.get(f"{BASE}/scenarios/compare", headers=token("viewer")).json()
        upside = next(s for s in compared["scenarios"] if s["code"] == "upside")
        assert upside["status"] == "computing"
        assert set(upside["kpis"].values()) == {None}
        assert upside["plans"]["demand"]["plan_id"] == "DU"
        deliver(session, plan_event("production", "PU", scenario="upside", upstream="SU"))
        deliver(
            session,
            plan_event(
                "supply", "SUc", scenario="upside", upstream="DU", status="constrained", version=2
            ),
        )
        peers.summaries(
            demand=("DU", demand_summary(scale=1.1)),
            supply=("SUc", supply_summary()),
            production=("PU", capacity_summary()),
        )
        view = client.get(f"{BASE}/pre-sop?scenario=upside", headers=token("viewer")).json()
        assert (view["status"], view["ready"]) == ("ready", True)
        assert view["kpis"]["fill_rate"] is not None


class TestApprovedPlan:
    def test_the_approved_plan_in_one_place(
        self, client: Any, token: Any, session: Session, reviewed: None
    ) -> None:
        missing = client.get(f"{BASE}/approved-plan", headers=token("viewer"))
        assert missing.status_code == 404
        assert missing.json()["code"] == "not-approved"
        client.post(
            f"{BASE}/approve", json={"comment": "go"}, headers=token("executive", subject="erin")
        )
        body = client.get(f"{BASE}/approved-plan", headers=token("integration")).json()
        assert (body["cycle"], body["scenario"], body["approved_by"]) == (MONTH, "base", "erin")
        assert body["comment"] == "go"
        parts = {k: (v["service"], v["plan_id"], v["version"]) for k, v in body["plans"].items()}
        assert parts == {
            "demand": ("demand", "D1", 1),
            "supply": ("supply", "S1c", 2),
            "production": ("capacity", "P1", 1),
        }
        supply = body["plans"]["supply"]
        assert supply["plan"] == "/api/v1/supply-plans/S1c"
        assert supply["lines_csv"] == "/api/v1/supply-plans/S1c/lines?format=csv"
        assert supply["lines_jsonl"] == "/api/v1/supply-plans/S1c/lines?format=jsonl"
        assert supply["status"] == "constrained"
        assert body["financial"] == {
            "demand_quantity": 300.0,
            "planned_revenue": 6000.0,
            "production_quantity": 280.0,
            "production_cost": 5000.0,
            "ending_inventory_value": 900.0,
            "average_inventory_value": 750.0,
        }
        # the event carries the same versions and links
        (event,) = _approved_events(session)
        data = event["data"]
        assert data["approved_plan"] == f"{BASE}/approved-plan"
        assert (data["supply_plan_version"], data["production_plan_version"]) == (2, 1)
        for kind, part in body["plans"].items():
            link = data["links"][kind]
            assert {k: link[k] for k in ("plan", "lines_csv", "lines_jsonl", "plan_id")} == {
                k: part[k] for k in ("plan", "lines_csv", "lines_jsonl", "plan_id")
            }
