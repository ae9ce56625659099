"""Pre-S&OP view, decisions, approval, send-back, the review pack and KPIs over HTTP."""

from __future__ import annotations

import re
from typing import Any
from xml.etree import ElementTree

import pytest
from sqlmodel import Session, col, select

from sop_cycle.cycles.service import get_cycle
from sop_cycle.executive import service as executive
from sop_cycle.executive.models import CycleKpi
from sop_cycle.presop.service import assemble, thresholds
from sop_cycle.settings import CycleSettings
from sop_shared.jobs import Job
from sop_shared.outbox.models import OutboxEvent

from ..builders import capacity_summary, contract_review, demand_summary, full_chain, supply_summary
from ..fakes import FakePeers

MONTH = "2026-12"
BASE = f"/api/v1/cycles/{MONTH}"
COORD = "sop_coordinator"
EARLY_STEPS = (
    "data_gathering",
    "product_review",
    "demand_review",
    "supply_review",
    "production_review",
    "pre_sop",
)


def _events(session: Session, event_type: str) -> list[dict[str, Any]]:
    rows = session.exec(
        select(OutboxEvent)
        .where(OutboxEvent.event_type == event_type)
        .order_by(col(OutboxEvent.seq))
    ).all()
    return [r.payload for r in rows]


def _serve_summaries(peers: FakePeers) -> None:
    peers.summaries(
        demand=("D1", demand_summary()),
        supply=("S1c", supply_summary()),
        production=("P1", capacity_summary()),
        contracts=("S1c", contract_review()),
    )


@pytest.fixture
def cycle(client: Any, token: Any, session: Session, peers: FakePeers) -> None:
    peers.all_ready("2026-11")
    assert (
        client.post("/api/v1/cycles", json={"month": MONTH}, headers=token(COORD)).status_code
        == 201
    )
    full_chain(session, tag="1")
    _serve_summaries(peers)


@pytest.fixture
def reviewed(client: Any, token: Any, cycle: None) -> None:
    """Steps 1-6 completed: the plan is ready for the executive meeting."""
    for step in EARLY_STEPS:
        response = client.post(f"{BASE}/steps/{step}/complete", headers=token(COORD))
        assert response.status_code == 200, (step, response.text)


class TestPreSop:
    def test_view_reconciles_the_three_plans(
        self, client: Any, token: Any, peers: FakePeers, cycle: None
    ) -> None:
        client.post(
            f"{BASE}/decisions",
            json={"topic": "Overtime on L1", "options": ["yes", "no"], "owner": "ops"},
            headers=token(COORD),
        )
        response = client.get(f"{BASE}/pre-sop", headers=token("viewer"))
        assert response.status_code == 200, response.text
        view = response.json()
        assert view["ready"] is True
        assert view["missing"] == []
        assert {k: v["plan_id"] for k, v in view["plans"].items()} == {
            "demand": "D1",
            "supply": "S1c",
            "production": "P1",
        }
        assert view["kpis"]["fill_rate"] == pytest.approx(0.95)
        assert view["kpis"]["gross_margin"] == pytest.approx(2120)
        assert [m["month"] for m in view["months"]] == ["2026-12", "2027-01"]
        a_jan = next(
            r for r in view["demand_vs_supply"] if (r["family"], r["month"]) == ("A", "2027-01")
        )
        assert (a_jan["demand"], a_jan["supply"], a_jan["unmet"]) == (200, 180, 20)
        assert [c["resource"] for c in view["capacity"] if c["overloaded"]] == ["L1"]
        assert view["contract_issues"][0]["contract"] == "C-7"
        assert view["capacity_costs"] == {"production": 5000.0, "overtime": 300.0}
        assert view["overtime"] == {"total_hours": 10.0, "cost": 300.0}
        assert view["capacity_unmet"]["items"][0]["product"] == "A-1"
        assert view["exceptions"]["stockout"] == 1
        assert [i["type"] for i in view["issues"]] == [
            "shortage",
            "bottleneck",
            "inventory_below_target",
            "contract",
            "budget_gap",
        ]
        assert len(view["proposed_decisions"]) == 5
        assert [d["topic"] for d in view["open_decisions"]] == ["Overtime on L1"]
        # three summaries, one call each, for the plans the events named
        asked = sorted(p for _, p, _ in peers.calls if p.endswith("/summary"))
        assert asked == [
            "/api/v1/demand-plans/D1/summary",
            "/api/v1/production-plans/P1/summary",
            "/api/v1/supply-plans/S1c/summary",
        ]

    def test_a_peer_down_leaves_the_view_not_ready(
        self, client: Any, token: Any, peers: FakePeers, cycle: None
    ) -> None:
        peers.down("capacity", "/api/v1/production-plans/P1/summary")
        view = client.get(f"{BASE}/pre-sop", headers=token("viewer")).json()
        assert view["ready"] is False
        assert view["missing"] == ["production summary"]
        assert view["warnings"][0].startswith("production summary unavailable")
        assert view["kpis"]["fill_rate"] == pytest.approx(0.95)  # demand and supply still count

    def test_unknown_scenario_is_404(self, client: Any, token: Any, cycle: None) -> None:
        response = client.get(f"{BASE}/pre-sop?scenario=nope", headers=token("viewer"))
        assert response.status_code == 404
        assert response.json()["code"] == "scenario-not-found"


class TestDecisions:
    def test_record_then_choose_an_option(self, client: Any, token: Any, cycle: None) -> None:
        created = client.post(
            f"{BASE}/decisions",
            json={
                "topic": "Overload of L1",
                "options": ["Approve overtime on L1", "Accept the unmet demand"],
                "owner": "plant manager",
                "due_date": "2026-12-31",
                "issue_id": "bottleneck:L1",
            },
            headers=token("executive", subject="erin"),
        )
        assert created.status_code == 201, created.text
        decision = created.json()
        assert decision["status"] == "open"
        chosen = client.patch(
            f"{BASE}/decisions/{decision['id']}",
            json={"chosen_option": "Approve overtime on L1"},
            headers={**token("executive", subject="erin"), "If-Match": '"1"'},
        )
        assert chosen.status_code == 200
        assert chosen.json()["status"] == "decided"
        assert chosen.json()["decided_by"] == "erin"
        again = client.patch(
            f"{BASE}/decisions/{decision['id']}",
            json={"owner": "x"},
            headers={**token("executive"), "If-Match": '"1"'},
        )
        assert again.status_code == 412

    @pytest.mark.parametrize("decision_id", [0, 2**63, 10**30])
    def test_an_out_of_range_id_is_a_422_naming_it(
        self, client: Any, token: Any, cycle: None, decision_id: int
    ) -> None:
        """Found by the fuzzer: 2**63 reached SQLite and failed as an integer overflow (500)."""
        for method in ("get", "patch"):
            response = client.request(
                method,
                f"{BASE}/decisions/{decision_id}",
                json={"owner": "x"} if method == "patch" else None,
                headers=token("executive"),
            )
            assert response.status_code == 422, response.text
            assert response.json()["errors"][0]["field"].endswith("decision_id")

    def test_chosen_option_must_be_one_of_the_options(
        self, client: Any, token: Any, cycle: None
    ) -> None:
        response = client.post(
            f"{BASE}/decisions",
            json={"topic": "t", "options": ["a", "b"], "chosen_option": "c"},
            headers=token(COORD),
        )
        assert response.status_code == 422
        assert client.get(f"{BASE}/decisions", headers=token("viewer")).json()["total"] == 0
        created = client.post(
            f"{BASE}/decisions", json={"topic": "t", "options": ["a"]}, headers=token(COORD)
        )
        wrong = client.patch(
            f"{BASE}/decisions/{created.json()['id']}",
            json={"chosen_option": "z"},
            headers=token(COORD),
        )
        assert wrong.status_code == 422
        assert wrong.json()["code"] == "invalid-option"


class TestApproval:
    def test_executive_approves_once(
        self, client: Any, token: Any, session: Session, reviewed: None
    ) -> None:
        approved = client.post(
            f"{BASE}/approve", json={"comment": "go"}, headers=token("executive", subject="erin")
        )
        assert approved.status_code == 200, approved.text
        body = approved.json()
        assert (body["demand_plan_id"], body["supply_plan_id"], body["production_plan_id"]) == (
            "D1",
            "S1c",
            "P1",
        )
        cycle = client.get(BASE, headers=token("viewer")).json()
        assert cycle["status"] == "approved"
        assert cycle["approval"]["approved_by"] == "erin"
        steps = {s["name"]: s["workflow_status"] for s in cycle["steps"]}
        assert steps["executive_sop"] == "completed"

        (event,) = _events(session, "sop.cycle.plan.approved.v1")
        assert event["data"]["cycle"] == MONTH
        assert event["data"]["approved_by"] == "erin"
        assert event["data"]["demand_plan_id"] == "D1"
        assert event["data"]["production_plan_id"] == "P1"
        assert event["data"]["comment"] == "go"
        jobs = session.exec(select(Job).where(Job.kind == executive.KPI_JOB)).all()
        assert [j.params for j in jobs] == [{"month": MONTH}]

        second = client.post(f"{BASE}/approve", headers=token("executive"))
        assert second.status_code == 409
        assert second.json()["code"] == "already-approved"
        assert len(_events(session, "sop.cycle.plan.approved.v1")) == 1
        # an approved cycle is frozen
        frozen = client.post(
            f"{BASE}/steps/pre_sop/reopen", json={"reason": "x"}, headers=token(COORD)
        )
        assert frozen.status_code == 409

    @pytest.mark.parametrize("role", ["sop_coordinator", "demand_planner", "viewer", "admin"])
    def test_non_executives_cannot_approve(
        self, client: Any, token: Any, session: Session, reviewed: None, role: str
    ) -> None:
        # An administrator's token does not sign off the plan either (separation of duties).
        response = client.post(f"{BASE}/approve", headers=token(role))
        assert response.status_code == 403
        assert response.json()["required_roles"] == ["executive"]
        assert client.get(BASE, headers=token("viewer")).json()["status"] == "open"
        assert _events(session, "sop.cycle.plan.approved.v1") == []

    def test_a_scenario_without_its_plans_cannot_be_approved(
        self, client: Any, token: Any, session: Session, reviewed: None
    ) -> None:
        client.post(
            f"{BASE}/scenarios", json={"code": "lean", "name": "Lean"}, headers=token(COORD)
        )
        # the scenario never borrows base's demand plan: it has none of its own yet
        response = client.post(
            f"{BASE}/approve", json={"scenario": "lean"}, headers=token("executive")
        )
        assert response.status_code == 409
        assert response.json()["code"] == "plan-incomplete"
        assert response.json()["missing"] == ["demand", "supply", "production"]
        assert _events(session, "sop.cycle.plan.approved.v1") == []

    def test_approval_waits_for_the_earlier_steps(
        self, client: Any, token: Any, cycle: None
    ) -> None:
        response = client.post(f"{BASE}/approve", headers=token("executive"))
        assert response.status_code == 409
        assert response.json()["code"] == "gate-not-met"
        assert "data_gathering" in response.json()["detail"]

    def test_send_back_reopens_the_step_and_stales_the_rest(
        self, client: Any, token: Any, session: Session, reviewed: None
    ) -> None:
        response = client.post(
            f"{BASE}/send-back",
            json={"step": "supply_review", "comment": "Rebuild stock of A before January"},
            headers=token("executive", subject="erin"),
        )
        assert response.status_code == 200, response.text
        steps = {s["name"]: s["workflow_status"] for s in response.json()["steps"]}
        assert steps == {
            "data_gathering": "completed",
            "product_review": "completed",
            "demand_review": "completed",
            "supply_review": "in_progress",
            "production_review": "stale",
            "pre_sop": "stale",
            "executive_sop": "not_started",  # never completed: nothing to be stale about
        }
        trail = client.get(f"{BASE}/audit?step=supply_review", headers=token("viewer")).json()
        last = trail["items"][-1]
        assert (last["action"], last["actor"]) == ("send_back", "erin")
        assert last["reason"] == "sent back by executives: Rebuild stock of A before January"
        refused = client.post(f"{BASE}/approve", headers=token("executive"))
        assert refused.status_code == 409

    def test_send_back_needs_a_comment_and_an_executive(
        self, client: Any, token: Any, reviewed: None
    ) -> None:
        no_comment = client.post(
            f"{BASE}/send-back", json={"step": "pre_sop"}, headers=token("executive")
        )
        assert no_comment.status_code == 422
        coordinator = client.post(
            f"{BASE}/send-back", json={"step": "pre_sop", "comment": "x"}, headers=token(COORD)
        )
        assert coordinator.status_code == 403


class TestReviewPack:
    def test_pack_is_one_self_contained_html_document(
        self, client: Any, token: Any, reviewed: None
    ) -> None:
        client.post(
            f"{BASE}/decisions",
            json={"topic": "Overtime <L1>", "options": ["yes", "no"], "chosen_option": "yes"},
            headers=token("executive"),
        )
        client.post(f"{BASE}/approve", headers=token("executive", subject="erin"))
        response = client.get(f"{BASE}/review-pack", headers=token("viewer"))
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        assert (
            response.headers["content-disposition"]
            == 'attachment; filename="sop-review-2026-12.html"'
        )
        html = response.text
        assert html.startswith("<!DOCTYPE html>")
        assert html.count("<svg") == 3
        for svg in re.findall(r"<svg.*?</svg>", html, flags=re.S):
            drawing = ElementTree.fromstring(svg)  # well-formed SVG, drawn from the data
            assert drawing.tag == "{http://www.w3.org/2000/svg}svg"
            assert drawing.findall(".//{http://www.w3.org/2000/svg}rect") or drawing.findall(
                ".//{http://www.w3.org/2000/svg}polyline"
            )
        for title in (
            "Demand vs constrained supply vs capacity",
            "Projected inventory vs target",
            "Financial projection vs budget",
        ):
            assert title in html
        assert "Approved by erin" in html
        assert "Overtime &lt;L1&gt;" in html  # escaped
        assert "95.0%" in html  # the fill rate
        # nothing outside the document: no script, stylesheet, image or link to fetch
        assert not re.search(r"<script|<link|<img|src=|href=|@import|url\(", html)
        assert re.findall(r"https?://[^\"' ]+", html) == ["http://www.w3.org/2000/svg"] * 3


class TestKpis:
    def test_snapshot_of_the_approved_plan(
        self, client: Any, token: Any, session: Session, peers: FakePeers, reviewed: None
    ) -> None:
        client.post(f"{BASE}/approve", headers=token("executive"))
        # what the job does, inside the test's transaction (the app's peers are the fakes)
        cycle_id, scenario, plans = executive.approved_chain(session, month=MONTH)
        done = assemble(client.app.state.peers, plans, thresholds(CycleSettings()))
        executive.store_kpis(session, cycle_id=cycle_id, month=MONTH, scenario=scenario, done=done)
        series = client.get("/api/v1/kpis?from=2026-12&to=2026-12", headers=token("viewer")).json()
        (point,) = series["points"]
        assert point["month"] == MONTH
        assert point["fill_rate"] == pytest.approx(0.95)
        assert point["utilisation"] == pytest.approx(0.75)
        assert point["inventory_days"] == pytest.approx(380 * 60.8 / 3680)
        assert point["revenue_vs_budget"] == pytest.approx(5800 / 6300 - 1)
        row = session.exec(select(CycleKpi).where(CycleKpi.month == MONTH)).one()
        assert row.plan_quantities == {
            "A": {"2026-12": 100.0, "2027-01": 200.0},
            "B": {"2026-12": 50.0, "2027-01": 50.0},
        }

    def test_forecast_accuracy_and_bias_across_cycles(
        self, client: Any, token: Any, session: Session
    ) -> None:
        # Lag = target month − last month of actuals; cycle C plans with actuals up to
        # C − 1, so its plan is at lag 1 for C (the cycle month) and lag 2 for C + 1.
        # Lag 2, month 2031-11: forecasts from cycle 2031-10 (A 120, B 50) against the
        # actuals reported in 2031-12 (A 100, B 60): WAPE = (20 + 10) / 160 = 0.1875
        # → accuracy 0.8125; bias = (20 − 10) / 160 = 0.0625.
        snapshots = [
            ("2031-10", {"A": {"2031-10": 100, "2031-11": 120}, "B": {"2031-11": 50}}, {}),
            ("2031-11", {"A": {"2031-11": 110, "2031-12": 130}}, {"A": {"2031-10": 90}}),
            ("2031-12", {"A": {"2031-12": 125}}, {"A": {"2031-11": 100}, "B": {"2031-11": 60}}),
        ]
        for month, plan, actual in snapshots:
            client.post("/api/v1/cycles", json={"month": month}, headers=token(COORD))
            cycle_id = get_cycle(session, month=month).id
            session.add(
                CycleKpi(
                    cycle_id=cycle_id,
                    month=month,
                    scenario="base",
                    figures={"fill_rate": 0.97, "utilisation": 0.8},
                    plan_quantities=plan,
                    actual_quantities=actual,
                )
            )
        session.commit()
        lag2 = client.get("/api/v1/kpis?from=2031-01&lag=2", headers=token("viewer")).json()
        assert [p["month"] for p in lag2["points"]] == ["2031-10", "2031-11", "2031-12"]
        assert lag2["points"][0]["forecast_accuracy"] is None
        assert lag2["points"][1]["forecast_accuracy"] == pytest.approx(0.8125)
        assert lag2["points"][1]["forecast_bias"] == pytest.approx(0.0625)
        assert lag2["points"][2]["forecast_accuracy"] is None  # no actuals of 2031-12 yet
        assert lag2["points"][1]["fill_rate"] == 0.97
        # Lag 1 (the default), the cycle month: 2031-10 plan 100 vs 90 → 1 − 10/90;
        # 2031-11: A 110 vs 100 (B has no plan of cycle 2031-11) → 0.9, bias +0.1
        lag1 = client.get("/api/v1/kpis?from=2031-01&to=2031-12", headers=token("viewer")).json()
        assert lag1["lag"] == 1
        assert lag1["points"][0]["forecast_accuracy"] == pytest.approx(1 - 10 / 90)
        assert lag1["points"][1]["forecast_accuracy"] == pytest.approx(0.9)
        assert lag1["points"][1]["forecast_bias"] == pytest.approx(0.1)
        assert lag1["points"][2]["forecast_accuracy"] is None  # no actuals of 2031-12 yet
        # lag 0 would be a month whose actuals the plan already had: no such forecast
        refused = client.get("/api/v1/kpis?lag=0", headers=token("viewer"))
        assert refused.status_code == 422
        assert refused.json()["errors"][0]["field"] == "query.lag"

    def test_refresh_is_a_job_for_approved_cycles_only(
        self, client: Any, token: Any, cycle: None
    ) -> None:
        refused = client.post(f"{BASE}/kpis/refresh", headers=token(COORD))
        assert refused.status_code == 409
        assert refused.json()["code"] == "not-approved"


def test_plans_of_unknown_kind_are_refused(client: Any, token: Any, cycle: None) -> None:
    response = client.get(f"{BASE}/plans?kind=budget", headers=token("viewer"))
    assert response.status_code == 422
