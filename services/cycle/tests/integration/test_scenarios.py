"""Scenarios: created with parameters, published as events, compared side by side."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import Session, col, select

from sop_shared.outbox.models import OutboxEvent

from ..builders import (
    capacity_summary,
    deliver,
    demand_summary,
    full_chain,
    plan_event,
    supply_summary,
)
from ..fakes import FakePeers

MONTH = "2026-12"
URL = f"/api/v1/cycles/{MONTH}/scenarios"
COORD = "sop_coordinator"
UPSIDE = {
    "code": "upside",
    "name": "Upside +10 % on A, no overtime",
    "parameters": {
        "demand_change_pct": {"A": 10},
        "unavailable_resources": [{"resource": "L2", "months": ["2027-01"]}],
        "overtime_allowed": False,
    },
}


@pytest.fixture
def cycle(client: Any, token: Any) -> None:
    assert (
        client.post("/api/v1/cycles", json={"month": MONTH}, headers=token(COORD)).status_code
        == 201
    )


def _published(session: Session) -> list[dict[str, Any]]:
    rows = session.exec(
        select(OutboxEvent)
        .where(OutboxEvent.event_type == "sop.cycle.scenario.changed.v1")
        .order_by(col(OutboxEvent.seq))
    ).all()
    return [r.payload for r in rows]


class TestCreate:
    def test_created_scenario_is_listed_and_published(
        self, client: Any, token: Any, session: Session, cycle: None
    ) -> None:
        created = client.post(URL, json=UPSIDE, headers=token(COORD, subject="carla"))
        assert created.status_code == 201, created.text
        assert created.headers["ETag"] == '"1"'
        assert created.headers["Location"] == f"{URL}/upside"
        listed = client.get(URL, headers=token("viewer")).json()
        assert [s["code"] for s in listed["items"]] == ["base", "upside"]
        (event,) = _published(session)
        assert event["type"] == "sop.cycle.scenario.changed.v1"
        assert event["sopcycle"] == MONTH
        assert event["sopscenario"] == "upside"
        assert event["data"] == {
            "cycle": MONTH,
            "scenario": "upside",
            "name": "Upside +10 % on A, no overtime",
            "parameters": {
                "demand_change_pct": {"A": 10.0},
                "unavailable_resources": [{"resource": "L2", "months": ["2027-01"]}],
                "overtime_allowed": False,
            },
            "status": "active",
        }

    def test_duplicate_code_is_409(self, client: Any, token: Any, cycle: None) -> None:
        client.post(URL, json=UPSIDE, headers=token(COORD))
        again = client.post(URL, json=UPSIDE, headers=token(COORD))
        assert again.status_code == 409
        assert again.json()["code"] == "scenario-exists"
        base = client.post(URL, json={**UPSIDE, "code": "base"}, headers=token(COORD))
        assert base.status_code == 409

    @pytest.mark.parametrize(
        ("parameters", "field"),
        [
            ({"service_level": 1.5}, "body.parameters.service_level"),
            ({"demand_change_pct": {"A": -120}}, "body.parameters.demand_change_pct.A"),
            (
                {"unavailable_resources": [{"resource": "L1", "months": ["2027-13"]}]},
                "body.parameters.unavailable_resources.0.months.0",
            ),
            ({"overtime": True}, "body.parameters.overtime"),
        ],
    )
    def test_bad_parameters_name_the_field_and_write_nothing(
        self, client: Any, token: Any, session: Session, cycle: None, parameters: Any, field: str
    ) -> None:
        response = client.post(URL, json={**UPSIDE, "parameters": parameters}, headers=token(COORD))
        assert response.status_code == 422
        assert [e["field"] for e in response.json()["errors"]] == [field]
        assert _published(session) == []

    def test_planner_cannot_create_scenarios(self, client: Any, token: Any, cycle: None) -> None:
        assert client.post(URL, json=UPSIDE, headers=token("demand_planner")).status_code == 403

    def test_change_is_guarded_and_published_again(
        self, client: Any, token: Any, session: Session, cycle: None
    ) -> None:
        client.post(URL, json=UPSIDE, headers=token(COORD))
        changed = client.patch(
            f"{URL}/upside",
            json={"parameters": {"service_level": 0.99}},
            headers={**token(COORD), "If-Match": '"1"'},
        )
        assert changed.status_code == 200
        assert changed.json()["parameters"] == {
            "demand_change_pct": {},
            "service_level": 0.99,
            "unavailable_resources": [],
        }
        stale = client.patch(
            f"{URL}/upside",
            json={"status": "archived"},
            headers={**token(COORD), "If-Match": '"1"'},
        )
        assert stale.status_code == 412
        assert len(_published(session)) == 2


class TestCompare:
    def test_kpis_side_by_side_with_deltas_to_base(
        self, client: Any, token: Any, session: Session, peers: FakePeers, cycle: None
    ) -> None:
        client.post(URL, json=UPSIDE, headers=token(COORD))
        full_chain(session, tag="1")
        # the upside scenario: demand plan of its own (+10 % on everything for simplicity)
        deliver(session, plan_event("demand", "DU", scenario="upside"))
        deliver(
            session,
            plan_event("supply", "SU", scenario="upside", upstream="DU", status="constrained"),
        )
        deliver(session, plan_event("production", "PU", scenario="upside", upstream="SU"))
        deliver(
            session,
            plan_event(
                "supply", "SU2", version=2, scenario="upside", upstream="DU", status="constrained"
            ),
        )
        peers.summaries(
            demand=("D1", demand_summary()),
            supply=("S1c", supply_summary()),
            production=("P1", capacity_summary()),
        )
        peers.summaries(
            demand=("DU", demand_summary(scale=1.1)),
            supply=("SU2", supply_summary(shortage_jan_a=40)),
            production=("PU", capacity_summary(jan_load_l1=120)),
        )
        response = client.get(f"{URL}/compare", headers=token("viewer"))
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["kpis"][:4] == ["fill_rate", "unmet_demand", "revenue", "gross_margin"]
        base, upside = body["scenarios"]
        assert (base["code"], upside["code"]) == ("base", "upside")
        assert base["ready"]
        assert upside["ready"]
        assert base["kpis"]["fill_rate"] == pytest.approx(0.95)
        assert base["kpis"]["revenue"] == pytest.approx(5800)
        # upside: demand from its plan (440, 6600 planned); supply says 40 unmet in A-Jan
        # fill rate = (440 − 40) / 440; delta vs base = that − 0.95
        assert upside["kpis"]["fill_rate"] == pytest.approx(400 / 440)
        assert upside["delta_vs_base"]["fill_rate"] == pytest.approx(400 / 440 - 0.95)
        assert upside["kpis"]["utilisation"] == pytest.approx(310 / 400)
        assert upside["plans"]["demand"]["plan_id"] == "DU"
        assert base["delta_vs_base"]["revenue"] == 0

    def test_scenario_without_plans_is_not_ready(
        self, client: Any, token: Any, session: Session, peers: FakePeers, cycle: None
    ) -> None:
        client.post(URL, json=UPSIDE, headers=token(COORD))
        body = client.get(f"{URL}/compare?codes=upside", headers=token("viewer")).json()
        upside = next(s for s in body["scenarios"] if s["code"] == "upside")
        assert upside["ready"] is False
        assert upside["status"] == "computing"
        assert upside["missing"][:3] == ["demand plan", "supply plan", "production plan"]
        assert set(upside["kpis"].values()) == {None}  # no numbers while computing

    def test_unknown_scenario_is_404(self, client: Any, token: Any, cycle: None) -> None:
        response = client.get(f"{URL}/compare?codes=nope", headers=token("viewer"))
        assert response.status_code == 404
