"""The consensus demand plan over HTTP, with hand-worked numbers.

The company: family F (category C) with
  P1 price 10, 30 a month at S1;  P2 price 20, 45 at S1 and 15 at S2;  P3 price 5, 10 at S1;
  N1 an NPI of P1 (scaling 0.5, curve [0.5], launch 2026-11).
Histories are constant for three years, so the statistical forecast of each product is its
constant (every candidate model agrees), and the plan starts from round numbers.
"""

from __future__ import annotations

import json
import uuid
from datetime import date
from typing import Any

import pytest
from sqlmodel import Session, col, select

from sop_demand.consumers.handlers import (
    forecast_partition_handler,
    on_plan_approved,
    on_scenario_changed,
)
from sop_demand.forecasts.models import ForecastRun
from sop_demand.months import month_range
from sop_demand.plans.models import DemandPlan, PlanOverride
from sop_shared.events import CloudEvent, new_event
from sop_shared.outbox.models import OutboxEvent
from tests import builders

PLANS = "/api/v1/demand-plans"
HISTORY = month_range("2023-10", 36)  # up to 2026-09
PLAN_CHANGED = "sop.demand.plan.changed.v1"


def _events(session: Session, event_type: str) -> list[OutboxEvent]:
    rows = session.exec(select(OutboxEvent).order_by(col(OutboxEvent.seq))).all()
    return [r for r in rows if r.event_type == event_type]


@pytest.fixture
def forecast(client: Any, token: Any, session: Session) -> str:
    """The company above and a succeeded forecast run of cycle 2026-10 (3 months)."""
    builders.product(session, "P1", family="F", category="C", price=10.0)
    builders.product(session, "P2", family="F", category="C", price=20.0)
    builders.product(session, "P3", family="F", category="C", price=5.0)
    builders.product(
        session,
        "N1",
        family="F",
        category="C",
        price=10.0,
        lifecycle="npi",
        analog_code="P1",
        scaling_factor=0.5,
        launch_curve=[0.5],
        launch_date=date(2026, 11, 1),
    )
    builders.sales(session, "P1", dict.fromkeys(HISTORY, 30.0), price=10.0)
    builders.sales(session, "P2", dict.fromkeys(HISTORY, 45.0), site="S1", price=20.0)
    builders.sales(session, "P2", dict.fromkeys(HISTORY, 15.0), site="S2", price=20.0)
    builders.sales(session, "P3", dict.fromkeys(HISTORY, 10.0), price=5.0)
    response = client.post(
        "/api/v1/forecast-runs",
        json={"cycle": "2026-10", "horizon": 3},
        headers=token("demand_planner"),
    )
    assert response.status_code == 202, response.text
    handler = forecast_partition_handler(n_jobs=1)
    for row in _events(session, "sop.demand.forecast.partition.requested.v1"):
        handler(session, CloudEvent.model_validate(row.payload))
    session.commit()
    run = session.get(ForecastRun, uuid.UUID(response.json()["id"]))
    assert run is not None
    assert run.status == "succeeded"
    return str(run.id)


def _create(client: Any, token: Any, **body: Any) -> Any:
    return client.post(PLANS, json={"cycle": "2026-10", **body}, headers=token("demand_planner"))


def _lines(
    client: Any, token: Any, plan_id: str, **params: Any
) -> dict[tuple[str, str, str], float]:
    page = client.get(
        f"{PLANS}/{plan_id}/lines", params={"limit": 1000, **params}, headers=token("viewer")
    ).json()
    return {(i["product"], i["site"], i["month"]): round(i["quantity"], 6) for i in page["items"]}


def _override(client: Any, token: Any, plan_id: str, etag: str, *items: dict) -> Any:
    return client.post(
        f"{PLANS}/{plan_id}/overrides",
        json={"reason": "customer tender", "items": list(items)},
        headers={**token("demand_planner", subject="alice"), "If-Match": etag},
    )


@pytest.mark.usefixtures("forecast")
class TestBuild:
    def test_plan_starts_from_forecast_with_npi_and_site_split(
        self, client: Any, token: Any
    ) -> None:
        created = _create(client, token)
        assert created.status_code == 201, created.text
        plan = created.json()
        assert (plan["status"], plan["version_no"], created.headers["ETag"]) == ("draft", 1, '"1"')
        lines = _lines(client, token, plan["id"])
        # P2 sells 45 at S1 and 15 at S2: its 60 a month split 3:1 over the sites
        assert lines[("P2", "S1", "2026-10")] == 45.0
        assert lines[("P2", "S2", "2026-10")] == 15.0
        # N1 from its analog P1 (30): Oct before launch, Nov 30 × 0.5 × 0.5, Dec 30 × 0.5;
        # it has no sales, so it takes P1's site mix (S1 only)
        assert [lines[("N1", "S1", m)] for m in ("2026-10", "2026-11", "2026-12")] == [0, 7.5, 15]
        # totals: Oct 30 + 60 + 10 = 100, Nov 107.5, Dec 115
        assert plan["total_quantity"] == pytest.approx(322.5)
        # revenue at list price: Oct 300 + 1200 + 50 = 1550; Nov + 75 (N1); Dec + 150
        assert plan["total_revenue"] == pytest.approx(1550 * 3 + 75 + 150)

    def test_promotion_lifts_the_plan_but_not_the_baseline(self, client: Any, token: Any) -> None:
        promo = client.post(
            "/api/v1/promotions",
            json={
                "name": "Winter deal",
                "node": "P3",
                "month_from": "2026-12",
                "month_to": "2026-12",
                "uplift_pct": 50,
                "price_change_pct": -20,
            },
            headers=token("demand_planner"),
        )
        assert promo.status_code == 201, promo.text
        plan = _create(client, token).json()
        page = client.get(
            f"{PLANS}/{plan['id']}/lines",
            params={"product": "P3", "month": "2026-12"},
            headers=token("viewer"),
        ).json()["items"][0]
        # baseline 10, +50 % = 15 at price 5 × 0.8 = 4 -> revenue 60
        assert (page["baseline"], page["adjusted"], page["quantity"]) == (10.0, 15.0, 15.0)
        assert (page["price"], page["revenue"]) == (4.0, 60.0)

    def test_only_one_draft_at_a_time(self, client: Any, token: Any) -> None:
        assert _create(client, token).status_code == 201
        again = _create(client, token)
        assert again.status_code == 409
        assert again.json()["code"] == "draft-exists"

    def test_no_forecast_no_plan(self, client: Any, token: Any) -> None:
        response = client.post(PLANS, json={"cycle": "2027-03"}, headers=token("demand_planner"))
        assert response.status_code == 422
        assert response.json()["code"] == "no-forecast"


@pytest.mark.usefixtures("forecast")
class TestOverrides:
    def test_family_override_is_split_by_baseline(
        self, client: Any, token: Any, session: Session
    ) -> None:
        plan = _create(client, token).json()
        # November: P1 30, P2 45 + 15, P3 10, N1 7.5 = 107.5 -> 129 is × 1.2 for each line
        changed = _override(
            client,
            token,
            plan["id"],
            '"1"',
            {"level": "family", "node": "F", "month": "2026-11", "quantity": 129},
        )
        assert changed.status_code == 200, changed.text
        assert changed.headers["ETag"] == '"2"'
        lines = _lines(client, token, plan["id"], month="2026-11")
        assert lines == {
            ("N1", "S1", "2026-11"): 9.0,
            ("P1", "S1", "2026-11"): 36.0,
            ("P2", "S1", "2026-11"): 54.0,
            ("P2", "S2", "2026-11"): 18.0,
            ("P3", "S1", "2026-11"): 12.0,
        }
        audit = client.get(f"{PLANS}/{plan['id']}/overrides", headers=token("viewer")).json()
        entry = audit["items"][0]
        assert (entry["level"], entry["node"], entry["month"]) == ("family", "F", "2026-11")
        assert (entry["old_quantity"], entry["new_quantity"]) == (107.5, 129.0)
        assert (entry["created_by"], entry["reason"], entry["plan_version"]) == (
            "alice",
            "customer tender",
            2,
        )
        assert changed.json()["total_quantity"] == pytest.approx(322.5 + 21.5)

    def test_product_overrides_by_quantity_and_percent(self, client: Any, token: Any) -> None:
        plan = _create(client, token).json()
        changed = _override(
            client,
            token,
            plan["id"],
            '"1"',
            # P2 in December to 80: its sites keep their 3:1 baseline ratio -> 60 and 20
            {"node": "P2", "month": "2026-12", "quantity": 80},
            # P1 in October + 50 % -> 45
            {"node": "P1", "month": "2026-10", "change_pct": 50},
            # one site only: P2 at S2 in October to 5
            {"node": "P2", "site": "S2", "month": "2026-10", "quantity": 5},
        )
        assert changed.status_code == 200, changed.text
        lines = _lines(client, token, plan["id"])
        assert lines[("P2", "S1", "2026-12")] == 60.0
        assert lines[("P2", "S2", "2026-12")] == 20.0
        assert lines[("P1", "S1", "2026-10")] == 45.0
        assert lines[("P2", "S2", "2026-10")] == 5.0
        assert lines[("P2", "S1", "2026-10")] == 45.0
        revenue = client.get(
            f"{PLANS}/{plan['id']}/lines",
            params={"product": "P2", "month": "2026-12", "site": "S1"},
            headers=token("viewer"),
        ).json()["items"][0]["revenue"]
        assert revenue == 60 * 20

    def test_stale_or_missing_etag_changes_nothing(
        self, client: Any, token: Any, session: Session
    ) -> None:
        plan = _create(client, token).json()
        item = {"node": "P1", "month": "2026-10", "quantity": 1}
        assert _override(client, token, plan["id"], '"1"', item).status_code == 200
        stale = _override(client, token, plan["id"], '"1"', {**item, "quantity": 2})
        assert stale.status_code == 412
        assert stale.json()["current_version"] == 2
        missing = client.post(
            f"{PLANS}/{plan['id']}/overrides",
            json={"reason": "no etag", "items": [item]},
            headers=token("demand_planner"),
        )
        assert missing.status_code == 428
        assert _lines(client, token, plan["id"])[("P1", "S1", "2026-10")] == 1.0

    def test_unknown_node_refuses_the_whole_request(
        self, client: Any, token: Any, session: Session
    ) -> None:
        plan = _create(client, token).json()
        response = _override(
            client,
            token,
            plan["id"],
            '"1"',
            {"node": "P1", "month": "2026-10", "quantity": 99},
            {"level": "family", "node": "NOPE", "month": "2026-10", "quantity": 1},
            {"node": "P1", "month": "2031-01", "quantity": 1},
        )
        assert response.status_code == 422
        assert [e["field"] for e in response.json()["errors"]] == ["body.items.1", "body.items.2"]
        assert _lines(client, token, plan["id"])[("P1", "S1", "2026-10")] == 30.0
        assert session.exec(select(PlanOverride)).all() == []

    def test_override_on_a_submitted_plan_is_refused_and_writes_nothing(
        self, client: Any, token: Any, session: Session
    ) -> None:
        plan = _create(client, token).json()
        submitted = client.post(
            f"{PLANS}/{plan['id']}/submit",
            headers={**token("demand_planner"), "If-Match": '"1"'},
        )
        assert submitted.status_code == 200
        response = _override(
            client, token, plan["id"], '"2"', {"node": "P1", "month": "2026-10", "quantity": 1}
        )
        assert response.status_code == 409
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == "plan-not-editable"
        assert _lines(client, token, plan["id"])[("P1", "S1", "2026-10")] == 30.0
        assert session.exec(select(PlanOverride)).all() == []
        assert client.get(f"{PLANS}/{plan['id']}", headers=token("viewer")).headers["ETag"] == '"2"'


@pytest.mark.usefixtures("forecast")
class TestLifecycle:
    def test_submit_publishes_and_a_change_needs_a_new_version(
        self, client: Any, token: Any, session: Session
    ) -> None:
        plan = _create(client, token).json()
        _override(
            client, token, plan["id"], '"1"', {"node": "P1", "month": "2026-10", "quantity": 40}
        )
        submitted = client.post(
            f"{PLANS}/{plan['id']}/submit",
            headers={**token("demand_planner", subject="bob"), "If-Match": '"2"'},
        ).json()
        assert (submitted["status"], submitted["submitted_by"]) == ("submitted", "bob")
        [event] = _events(session, PLAN_CHANGED)
        data = event.payload["data"]
        assert event.key == "2026-10"
        assert (data["plan_id"], data["cycle"], data["scenario"], data["version"]) == (
            plan["id"],
            "2026-10",
            "base",
            1,
        )
        assert data["status"] == "submitted"
        assert data["totals"]["quantity"] == pytest.approx(322.5 + 10)
        assert data["counts"] == {"lines": 15, "products": 4}
        assert data["lines_url"] == f"/api/v1/demand-plans/{plan['id']}/lines"
        # the run the plan came from is now the cycle's frozen forecast
        run = session.get(ForecastRun, uuid.UUID(plan["forecast_run_id"]))
        assert run is not None
        assert run.frozen is True

        second = _create(client, token, based_on=plan["id"]).json()
        assert (second["version_no"], second["status"], second["based_on_id"]) == (
            2,
            "draft",
            plan["id"],
        )
        assert _lines(client, token, second["id"])[("P1", "S1", "2026-10")] == 40.0
        client.post(
            f"{PLANS}/{second['id']}/submit",
            headers={**token("demand_planner"), "If-Match": '"1"'},
        )
        statuses = {
            p["version_no"]: p["status"]
            for p in client.get(PLANS, params={"cycle": "2026-10"}, headers=token("viewer")).json()[
                "items"
            ]
        }
        assert statuses == {1: "superseded", 2: "submitted"}

    def test_approval_event_marks_the_plan_approved(
        self, client: Any, token: Any, session: Session
    ) -> None:
        plan = _create(client, token).json()
        client.post(
            f"{PLANS}/{plan['id']}/submit", headers={**token("demand_planner"), "If-Match": '"1"'}
        )
        approval = new_event(
            source="/sop/cycle",
            type="sop.cycle.plan.approved.v1",
            subject="2026-10",
            data={
                "cycle": "2026-10",
                "approved_by": "ceo",
                "approved_at": "2026-10-20T10:00:00+00:00",
                "demand_plan_id": plan["id"],
            },
        )
        on_plan_approved(session, approval)
        on_plan_approved(session, approval)  # a replay changes nothing more
        read = client.get(f"{PLANS}/{plan['id']}", headers=token("viewer")).json()
        assert (read["status"], read["approved_by"]) == ("approved", "ceo")
        assert [e.payload["data"]["status"] for e in _events(session, PLAN_CHANGED)] == [
            "submitted",
            "approved",
        ]

    def test_scenario_version_from_the_base_plan(
        self, client: Any, token: Any, session: Session
    ) -> None:
        scenario = new_event(
            source="/sop/cycle",
            type="sop.cycle.scenario.changed.v1",
            subject="2026-10/boom",
            data={
                "cycle": "2026-10",
                "scenario": "boom",
                "name": "Boom",
                "parameters": {"demand_change_pct": {"F": 10}},
            },
        )
        on_scenario_changed(session, scenario)  # no submitted base yet: remembered, no plan
        assert (
            client.get(PLANS, params={"scenario": "boom"}, headers=token("viewer")).json()["total"]
            == 0
        )
        plan = _create(client, token).json()
        client.post(
            f"{PLANS}/{plan['id']}/submit", headers={**token("demand_planner"), "If-Match": '"1"'}
        )
        boom = client.get(PLANS, params={"scenario": "boom"}, headers=token("viewer")).json()
        [version] = boom["items"]
        assert (version["status"], version["based_on_id"]) == ("submitted", plan["id"])
        # every line of family F + 10 %: 322.5 -> 354.75
        assert version["total_quantity"] == pytest.approx(354.75)
        assert _lines(client, token, version["id"])[("P2", "S1", "2026-10")] == 49.5
        on_scenario_changed(session, scenario)  # the same scenario again: no new version
        assert (
            client.get(PLANS, params={"scenario": "boom"}, headers=token("viewer")).json()["total"]
            == 1
        )
        published = [e.payload["data"]["scenario"] for e in _events(session, PLAN_CHANGED)]
        assert published == ["base", "boom"]


@pytest.mark.usefixtures("forecast")
class TestViews:
    def test_lines_stream_as_csv_and_jsonl(self, client: Any, token: Any) -> None:
        plan = _create(client, token).json()
        csv = client.get(
            f"{PLANS}/{plan['id']}/lines",
            params={"format": "csv", "product": "P2"},
            headers=token("integration"),
        )
        rows = csv.text.splitlines()
        assert rows[0] == (
            "product,family,site,month,quantity,revenue,baseline,adjusted,price,forecast_sigma"
        )
        # numbers as written by the database's own CSV (PostgreSQL 45, Python 45.0); a
        # constant history has a zero-width interval, so σ = 0
        first = rows[1].split(",")
        assert first[:4] == ["P2", "F", "S1", "2026-10"]
        assert [float(x) for x in first[4:]] == [45.0, 900.0, 45.0, 45.0, 20.0, 0.0]
        assert len(rows) == 1 + 6
        jsonl = client.get(
            f"{PLANS}/{plan['id']}/lines", params={"format": "jsonl"}, headers=token("integration")
        )
        assert jsonl.headers["content-type"] == "application/x-ndjson"
        assert len([json.loads(x) for x in jsonl.text.splitlines()]) == 15

    def test_a_stream_sends_only_the_fields_asked_for(self, client: Any, token: Any) -> None:
        plan = _create(client, token).json()
        url = f"{PLANS}/{plan['id']}/lines"
        asked = {"format": "csv", "product": "P2", "fields": "quantity,product,month"}
        rows = client.get(url, params=asked, headers=token("integration")).text.splitlines()
        assert rows[0] == "product,month,quantity"  # the contract's order, not the asked one
        assert rows[1].split(",")[:2] == ["P2", "2026-10"]
        assert float(rows[1].split(",")[2]) == 45
        jsonl = client.get(
            url, params={**asked, "format": "jsonl"}, headers=token("integration")
        ).text.splitlines()
        assert set(json.loads(jsonl[0])) == {"product", "month", "quantity"}
        bad = client.get(
            url, params={**asked, "fields": "product,margin"}, headers=token("integration")
        )
        assert bad.status_code == 422
        assert bad.json()["errors"][0]["field"] == "query.fields"
        assert "margin" in bad.json()["errors"][0]["message"]

    def test_summary_beside_budget(self, client: Any, token: Any) -> None:
        client.post(
            "/api/v1/demand-budgets",
            json=[
                {"family": "F", "month": m, "quantity": 110, "revenue": 1600}
                for m in ("2026-10", "2026-11")
            ],
            headers=token("integration"),
        )
        plan = _create(client, token).json()
        summary = client.get(f"{PLANS}/{plan['id']}/summary", headers=token("viewer")).json()
        assert [(r["month"], r["quantity"], r["budget_quantity"]) for r in summary["items"]] == [
            ("2026-10", 100.0, 110.0),
            ("2026-11", 107.5, 110.0),
            ("2026-12", 115.0, None),
        ]
        assert summary["totals"] == {
            "quantity": 322.5,
            "revenue": 1550 * 3 + 225,
            "budget_quantity": 220.0,
            "budget_revenue": 3200.0,
        }

    def test_latest_estimate_vs_budget(self, client: Any, token: Any) -> None:
        client.post(
            "/api/v1/demand-budgets",
            json=[
                {"family": "F", "month": m, "quantity": 110, "revenue": 1600}
                for m in month_range("2026-01", 12)
            ],
            headers=token("integration"),
        )
        plan = _create(client, token).json()
        _override(
            client,
            token,
            plan["id"],
            '"1"',
            {"level": "family", "node": "F", "month": "2026-11", "quantity": 129},
        )
        le = client.get(f"{PLANS}/{plan['id']}/latest-estimate", headers=token("viewer")).json()
        assert (le["year"], le["actuals_through"]) == (2026, "2026-09")
        # actuals Jan-Sep: 100 a month, revenue 300 + 1200 + 50 = 1550
        # plan Oct 100 (1550), Nov 129 (P1 360 + P2 1440 + P3 60 + N1 90 = 1950), Dec 115 (1700)
        total = le["total"]
        assert (total["actual_quantity"], total["actual_revenue"]) == (900.0, 13950.0)
        assert total["plan_quantity"] == pytest.approx(344.0)
        assert total["plan_revenue"] == pytest.approx(1550 + 1950 + 1700)
        assert total["le_quantity"] == pytest.approx(1244.0)
        assert total["le_revenue"] == pytest.approx(19150.0)
        # budget 12 × 110 = 1,320 and 12 × 1,600 = 19,200
        assert (total["budget_quantity"], total["budget_revenue"]) == (1320.0, 19200.0)
        assert total["variance_quantity"] == pytest.approx(-76.0)
        assert total["variance_revenue"] == pytest.approx(-50.0)
        assert total["variance_quantity_pct"] == pytest.approx(-76 / 1320 * 100)
        # every month budgeted: the whole LE is compared
        assert (total["budget_coverage"], total["budget_months"]) == (1.0, 12)
        assert total["compared_quantity"] == pytest.approx(total["le_quantity"])
        november = next(r for r in le["items"] if r["month"] == "2026-11")
        assert (november["source"], november["quantity"], november["variance_quantity"]) == (
            "plan",
            pytest.approx(129.0),
            pytest.approx(19.0),
        )
        march = next(r for r in le["items"] if r["month"] == "2026-03")
        assert (march["source"], march["quantity"], march["revenue"]) == ("actual", 100.0, 1550.0)
        assert [f["family"] for f in le["families"]] == ["F"]

    def test_latest_estimate_compares_only_budgeted_months(self, client: Any, token: Any) -> None:
        # a budget for December only (the case: it reported +1,300 % before)
        client.post(
            "/api/v1/demand-budgets",
            json=[{"family": "F", "month": "2026-12", "quantity": 110, "revenue": 1600}],
            headers=token("integration"),
        )
        plan = _create(client, token).json()
        le = client.get(
            f"{PLANS}/{plan['id']}/latest-estimate", params={"year": 2026}, headers=token("viewer")
        ).json()
        total = le["total"]
        # the LE is still the whole year: 9 × 100 actuals + plan 100 + 107.5 + 115
        assert total["le_quantity"] == pytest.approx(1222.5)
        # only December has a budget: one month of the one family's twelve
        assert (total["budget_months"], total["budget_coverage"]) == (1, pytest.approx(1 / 12))
        # compared like for like: December's plan 115 (revenue 1,700) against 110 (1,600)
        assert (total["compared_quantity"], total["compared_revenue"]) == pytest.approx(
            (115.0, 1700.0)
        )
        assert (total["budget_quantity"], total["budget_revenue"]) == (110.0, 1600.0)
        assert total["variance_quantity"] == pytest.approx(5.0)
        assert total["variance_quantity_pct"] == pytest.approx(5 / 110 * 100)  # not +1,011 %
        assert total["variance_revenue_pct"] == pytest.approx(100 / 1600 * 100)
        (family,) = le["families"]
        assert (family["family"], family["budget_coverage"]) == ("F", pytest.approx(1 / 12))
        # months without budget say so (null), they are not a budget of 0
        march = next(r for r in le["items"] if r["month"] == "2026-03")
        assert (march["budget_quantity"], march["variance_quantity"]) == (None, None)
        december = next(r for r in le["items"] if r["month"] == "2026-12")
        assert december["variance_quantity"] == pytest.approx(5.0)

    def test_latest_estimate_without_budget_has_no_variance(self, client: Any, token: Any) -> None:
        plan = _create(client, token).json()
        total = client.get(f"{PLANS}/{plan['id']}/latest-estimate", headers=token("viewer")).json()[
            "total"
        ]
        assert (total["budget_coverage"], total["budget_months"]) == (0.0, 0)
        assert (total["budget_quantity"], total["variance_quantity"]) == (None, None)
        assert total["variance_quantity_pct"] is None


def test_lines_of_an_unknown_plan_are_404(client: Any, token: Any) -> None:
    response = client.get(f"{PLANS}/{uuid.uuid4()}/lines", headers=token("viewer"))
    assert response.status_code == 404
    assert response.json()["code"] == "not-found"


@pytest.mark.usefixtures("forecast")
class TestProductReview:
    def test_npi_forecast_from_its_analog(self, client: Any, token: Any) -> None:
        body = client.get("/api/v1/products/N1/npi-forecast", headers=token("viewer")).json()
        assert (body["analog"], body["scaling_factor"], body["launch_month"]) == (
            "P1",
            0.5,
            "2026-11",
        )
        # P1's forecast is 30; curve: before launch 0, launch month 0.5, then mature 1.0
        assert [
            (m["month"], m["analog_forecast"], m["curve"], m["if_launched"], m["expected"])
            for m in body["months"]
        ] == [
            ("2026-10", 30.0, 0.0, 0.0, 0.0),
            ("2026-11", 30.0, 0.5, 7.5, 7.5),
            ("2026-12", 30.0, 1.0, 15.0, 15.0),
        ]
        not_npi = client.get("/api/v1/products/P1/npi-forecast", headers=token("viewer"))
        assert not_npi.status_code == 422
        assert not_npi.json()["code"] == "not-an-npi"

    def test_funnel_weights_launches_by_probability(self, client: Any, token: Any) -> None:
        client.patch(
            "/api/v1/products/N1",
            json={"launch_probability": 0.6},
            headers=token("demand_planner"),
        )
        funnel = client.get("/api/v1/npi-funnel", headers=token("viewer")).json()
        [launch] = funnel["launches"]
        # 7.5 + 15 = 22.5 if launched; × 0.6 = 13.5 expected, at price 10
        assert (launch["product"], launch["volume_if_launched"]) == ("N1", 22.5)
        assert launch["expected_volume"] == pytest.approx(13.5)
        assert launch["expected_revenue"] == pytest.approx(135.0)
        assert [
            (c["month"], round(c["expected_volume"], 6)) for c in funnel["by_family_month"]
        ] == [
            ("2026-10", 0.0),
            ("2026-11", 4.5),
            ("2026-12", 9.0),
        ]
        assert funnel["volume_if_all_launched"] == 22.5


def _run_forecast(client: Any, token: Any, session: Session) -> None:
    response = client.post(
        "/api/v1/forecast-runs",
        json={"cycle": "2026-10", "horizon": 3},
        headers=token("demand_planner"),
    )
    assert response.status_code == 202, response.text
    handler = forecast_partition_handler(n_jobs=1)
    for row in _events(session, "sop.demand.forecast.partition.requested.v1"):
        handler(session, CloudEvent.model_validate(row.payload))
    session.commit()


def test_a_phase_out_and_its_successor_plan_the_pair_demand_once(
    client: Any, token: Any, session: Session
) -> None:
    """OLD sells 40 a month, its successor NEW 20; OLD reaches EOL in 2026-12 after one
    month of run-down. NEW's forecast is made on both histories: 60 a month (constant)."""
    builders.product(
        session,
        "OLD",
        family="G",
        lifecycle="phase_out",
        eol_date=date(2026, 12, 1),
        rundown_months=1,
        successor_code="NEW",
    )
    builders.product(session, "NEW", family="G")
    builders.sales(session, "OLD", dict.fromkeys(HISTORY, 40.0))
    builders.sales(session, "NEW", dict.fromkeys(HISTORY, 20.0))
    _run_forecast(client, token, session)
    plan = _create(client, token).json()
    lines = _lines(client, token, plan["id"])
    months = ("2026-10", "2026-11", "2026-12")
    # OLD: its own 40, then 40 x 1/2 in the run-down month, nothing in its EOL month
    assert [lines[("OLD", "S1", m)] for m in months] == [40, 20, 0]
    # NEW: the pair's 60 minus what OLD still plans: 20, 40, 60
    assert [lines[("NEW", "S1", m)] for m in months] == [20, 40, 60]
    # the pair plans 180 over the three months (it planned 60 more before the rule:
    # OLD's 40 + 20 counted in NEW's pair baseline too)
    assert plan["total_quantity"] == pytest.approx(180.0)
    summary = client.get(f"{PLANS}/{plan['id']}/summary", headers=token("viewer")).json()
    assert [(r["month"], r["quantity"], r["baseline"]) for r in summary["items"]] == [
        ("2026-10", 60.0, 60.0),
        ("2026-11", 60.0, 60.0),
        ("2026-12", 60.0, 60.0),
    ]


def test_an_empty_plan_cannot_be_submitted(client: Any, token: Any, session: Session) -> None:
    plan = DemandPlan(cycle="2026-10", version_no=1, created_by="test")
    session.add(plan)
    session.commit()
    response = client.post(
        f"{PLANS}/{plan.id}/submit", headers={**token("demand_planner"), "If-Match": '"1"'}
    )
    assert response.status_code == 422
    assert response.json()["code"] == "plan-empty"
    assert _events(session, PLAN_CHANGED) == []
