"""Rough-cut capacity of a supply plan's requirements, against a hand-worked example."""

from __future__ import annotations

from typing import Any

import pytest
from builders import add_products, ok, post_bulk
from sqlmodel import Session

from sop_capacity.scenarios.models import ScenarioSetting

RESOURCES = [
    {"code": "LINE-1", "name": "Line 1", "site": "PA"},
    {"code": "LINE-2", "name": "Line 2", "site": "PA"},
    {"code": "CO-1", "name": "Co-packer", "site": "EXT", "kind": "copacker"},
]
# LINE-1: 1 shift x 8 h x 12.5 days = 100 h; LINE-2: 8 x 25 = 200 h.
CALENDARS = [
    {"resource": r, "month": m, "working_days": d}
    for r, d in (("LINE-1", 12.5), ("LINE-2", 25))
    for m in ("2027-01", "2027-02")
]
ROUTINGS = [
    {"product": "A", "resource": "LINE-1", "hours_per_unit": 0.5, "cost_per_unit": 1},
    {"product": "A", "resource": "CO-1", "hours_per_unit": 0, "cost_per_unit": 3, "priority": 2},
    {"product": "B", "resource": "LINE-1", "hours_per_unit": 0.25, "cost_per_unit": 1},
    {"product": "C", "resource": "LINE-2", "hours_per_unit": 1.0, "cost_per_unit": 1},
    {"product": "D", "resource": "LINE-1", "hours_per_unit": 1.0, "cost_per_unit": 1},
]


def requirement(product: str, month: str, quantity: float, site: str = "PA") -> dict[str, Any]:
    return {
        "product": product,
        "site": site,
        "month": month,
        "quantity": quantity,
        "safety_stock": 0,
        "opening_stock": 0,
    }


REQUIREMENTS = [
    requirement("A", "2027-01", 100),
    requirement("B", "2027-01", 200),
    requirement("C", "2027-01", 50),
    requirement("A", "2027-02", 300),
    requirement("B", "2027-02", 100),
    requirement("C", "2027-02", 250),
    requirement("D", "2027-02", 40, site="PB"),  # D's only line is at PA: no method at PB
]


@pytest.fixture
def master(client: Any, token: Any, session: Session) -> None:
    add_products(session, "A", "B", "C", "D")
    ok(post_bulk(client, token, "resources", RESOURCES))
    ok(post_bulk(client, token, "calendars", CALENDARS))
    ok(post_bulk(client, token, "routings", ROUTINGS))


def cells_by_key(body: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(c["resource"], c["month"]): c for c in body["cells"]}


def test_load_utilisation_overloads_and_the_products_behind_them(
    client: Any, token: Any, fake_supply: Any, master: None
) -> None:
    fake_supply.plans["SP-1"] = REQUIREMENTS
    body = ok(client.get("/api/v1/rough-cut?supply_plan_id=SP-1", headers=token("viewer")))
    assert body["months"] == ["2027-01", "2027-02"]
    cells = cells_by_key(body)
    # LINE-1 Jan: 100 x 0.5 + 200 x 0.25 = 100 h of 100 -> exactly full, not overloaded.
    jan = cells[("LINE-1", "2027-01")]
    assert (jan["load_hours"], jan["utilisation"], jan["overloaded"]) == (100.0, 1.0, False)
    # LINE-1 Feb: 300 x 0.5 + 100 x 0.25 = 175 h -> 175 %.
    feb = cells[("LINE-1", "2027-02")]
    assert feb["load_hours"] == pytest.approx(175.0)
    assert feb["utilisation"] == pytest.approx(1.75)
    assert feb["overloaded"] is True
    # LINE-2 Jan: 50 of 200 h -> 25 %, idle; Feb: 250 of 200 -> overloaded.
    assert cells[("LINE-2", "2027-01")]["idle"] is True
    assert cells[("LINE-2", "2027-02")]["utilisation"] == pytest.approx(1.25)
    # The co-packer is A's second choice, so rough-cut loads nothing on it.
    assert cells[("CO-1", "2027-02")]["load_hours"] == 0.0

    overloads = {(o["resource"], o["month"]): o for o in body["overloads"]}
    assert set(overloads) == {("LINE-1", "2027-02"), ("LINE-2", "2027-02")}
    behind = overloads[("LINE-1", "2027-02")]["products"]
    # A: 150 of 175 h (85.7 %), B: 25 of 175 h.
    assert [(p["product"], p["hours"]) for p in behind] == [("A", 150.0), ("B", 25.0)]
    assert behind[0]["share"] == pytest.approx(150 / 175)
    assert body["unassigned"] == [{"product": "D", "site": "PB", "quantity": 40.0}]
    assert fake_supply.calls == ["/api/v1/supply-plans/SP-1/production-requirements"]


def test_scenario_switches_a_resource_off(
    client: Any, token: Any, fake_supply: Any, master: None, session: Session
) -> None:
    fake_supply.plans["SP-1"] = REQUIREMENTS
    session.add(
        ScenarioSetting(
            cycle="2027-01",
            scenario="strike",
            unavailable_resources=[{"resource": "LINE-2", "months": ["2027-01"]}],
        )
    )
    session.flush()
    body = ok(
        client.get(
            "/api/v1/rough-cut?supply_plan_id=SP-1&cycle=2027-01&scenario=strike",
            headers=token("viewer"),
        )
    )
    cell = cells_by_key(body)[("LINE-2", "2027-01")]
    assert cell["unavailable"] is True
    assert cell["available_hours"] == 0.0
    assert cell["utilisation"] is None  # 50 h against no hours at all
    assert cell["overloaded"] is True


def test_unknown_supply_plan_is_a_404_problem(
    client: Any, token: Any, fake_supply: Any, master: None
) -> None:
    response = client.get("/api/v1/rough-cut?supply_plan_id=NOPE", headers=token("viewer"))
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert "supply-plans/NOPE" in response.json()["detail"]


def test_bad_requirement_rows_name_row_and_column(
    client: Any, token: Any, fake_supply: Any, master: None
) -> None:
    fake_supply.plans["SP-BAD"] = [
        requirement("A", "2027-01", 10),
        requirement("A", "2027-1", 10),
        requirement("B", "2027-02", -5),
    ]
    response = client.get("/api/v1/rough-cut?supply_plan_id=SP-BAD", headers=token("viewer"))
    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "invalid-requirements"
    assert [(e["row"], e["field"]) for e in problem["errors"]] == [(2, "month"), (3, "quantity")]
