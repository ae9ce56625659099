"""The production review and the summary the cycle service reads, on hand-worked plans."""

from __future__ import annotations

from typing import Any

import pytest
from builders import monthly, ok, plan_run, seed_live


def calendar(resource: str, hours: float, months: int, **extra: Any) -> list[dict[str, Any]]:
    return [
        {
            "resource": resource,
            "month": f"2027-{m:02d}",
            "shifts": 1,
            "hours_per_shift": hours / 20,
            "working_days": 20,
            **extra,
        }
        for m in range(1, months + 1)
    ]


@pytest.fixture
def plan(live: Any, token: Any, fake_supply: Any) -> dict[str, Any]:
    # X on LINE-1: 100 h a month, no overtime, 150 units of 1 h a month for two months:
    # 100 made each month, backlog 50 then 100; LINE-1 is full in both months.
    # Y on LINE-2: 100 h + up to 50 overtime hours at 20 an hour; 150 units in January and
    # none in February. Overtime (50 x 20 = 1,000) is dearer than backordering 50 units a
    # month (50 x 10 = 500), so 50 are made in February: late for cost, not capacity.
    seed_live(
        live,
        token,
        products={"X": (40.0, 10.0), "Y": (40.0, 10.0)},
        resources=[
            {"code": "LINE-1", "name": "L1", "site": "PA"},
            {"code": "LINE-2", "name": "L2", "site": "PA", "overtime_hour_cost": 20},
        ],
        calendars=calendar("LINE-1", 100, 2) + calendar("LINE-2", 100, 2, max_overtime_hours=50),
        routings=[
            {"product": "X", "resource": "LINE-1", "hours_per_unit": 1, "cost_per_unit": 1},
            {"product": "Y", "resource": "LINE-2", "hours_per_unit": 1, "cost_per_unit": 1},
        ],
    )
    fake_supply.plans["SP-R"] = monthly("X", [150, 150]) + monthly("Y", [150, 0])
    _, plan = plan_run(
        live, token, "SP-R", holding_rate_per_month=0.1, backorder_rate_per_month=0.25
    )
    assert plan is not None
    return plan


def test_review_explains_each_late_product(live: Any, token: Any, plan: dict[str, Any]) -> None:
    body = ok(
        live.client.get(f"/api/v1/production-plans/{plan['id']}/review", headers=token("viewer"))
    )
    unmet = {(u["product"], u["site"]): u for u in body["unmet_demand"]["items"]}
    x, y = unmet[("X", "PA")], unmet[("Y", "PA")]
    assert x["months"] == ["2027-01", "2027-02"]
    assert x["ending_backorder"] == pytest.approx(100.0)
    assert x["backordered_unit_months"] == pytest.approx(150.0)
    assert x["binding"] == [{"resource": "LINE-1", "months": ["2027-01", "2027-02"]}]
    assert x["reason"].startswith("capacity: LINE-1 at its limit in 2027-01, 2027-02")
    assert y["months"] == ["2027-01"]
    assert y["ending_backorder"] == 0.0
    assert y["binding"] == []
    assert y["reason"].startswith("cost:")
    # Ending backlog sorts first: X, then Y.
    assert [u["product"] for u in body["unmet_demand"]["items"]] == ["X", "Y"]
    assert body["unmet_demand"]["ending_backorder"] == pytest.approx(100.0)

    cells = {(c["resource"], c["month"]): c for c in body["utilisation"]}
    jan = cells[("LINE-1", "2027-01")]
    # Before: 150 h on 100 (150 %); after: the 100 h it has.
    assert (jan["before_load_hours"], jan["before_utilisation"]) == (150.0, 1.5)
    assert (jan["hours_used"], jan["utilisation"], jan["binding"]) == (100.0, 1.0, True)
    assert cells[("LINE-2", "2027-02")]["hours_used"] == pytest.approx(50.0)
    # LINE-2's regular hours are full in January (its overtime judged too dear): binding and
    # a bottleneck, though Y's backlog behind it is the plan's choice (reason "cost" above).
    assert cells[("LINE-2", "2027-01")]["binding"] is True
    assert [(b["resource"], b["month"], b["limit"]) for b in body["bottlenecks"]] == [
        ("LINE-1", "2027-01", "machine"),
        ("LINE-1", "2027-02", "machine"),
        ("LINE-2", "2027-01", "machine"),
    ]
    assert body["overtime"] == {"total_hours": 0.0, "cost": 0.0, "by_resource": []}
    assert [c["strategy"] for c in body["comparison"]] == ["optimal", "chase", "level"]
    assert body["plan"]["id"] == plan["id"]


def test_summary_follows_the_contract(live: Any, token: Any, plan: dict[str, Any]) -> None:
    body = ok(
        live.client.get(
            f"/api/v1/production-plans/{plan['id']}/summary?unmet_limit=1",
            headers=token("integration"),
        )
    )
    assert set(body) >= {
        "utilisation",
        "bottlenecks",
        "overtime",
        "headcount",
        "costs",
        "unmet_demand",
        "safety_stock",
    }
    assert body["supply_plan_id"] == "SP-R"
    assert len(body["utilisation"]) == 4  # 2 resources x 2 months
    assert body["unmet_demand"]["products"] == 2
    assert [u["product"] for u in body["unmet_demand"]["items"]] == ["X"]
    # Production: X 200 + Y 150 units at 1. Backorders: X (50 + 100) unit-months x 10 plus
    # the 100 still unmade at the end at its unit cost 1; Y 50 unit-months x 10.
    costs = body["costs"]
    assert costs["production"] == pytest.approx(350.0)
    assert costs["backorder"] == pytest.approx(1500 + 100 + 500)
    assert costs["total"] == pytest.approx(350 + 2100)


def test_review_and_summary_report_cheap_overtime(live: Any, token: Any, fake_supply: Any) -> None:
    # X on LINE-1: 100 h + up to 50 overtime hours at 2 an hour; 150 then 100 units of 1 h.
    # Y on LINE-2: 100 h + up to 20 overtime hours at 3 an hour; 110 then 100 units.
    # January is short 50 h on LINE-1 and 10 h on LINE-2 and February has no spare regular
    # hours, so a unit not made on January overtime is backordered (10 a unit-month) and
    # then made on February overtime or left unmade. January overtime is cheapest:
    # LINE-1 50 h x 2 = 100, LINE-2 10 h x 3 = 30; 60 hours costing 130 in all.
    seed_live(
        live,
        token,
        products={"X": (40.0, 10.0), "Y": (40.0, 10.0)},
        resources=[
            {"code": "LINE-1", "name": "L1", "site": "PA", "overtime_hour_cost": 2},
            {"code": "LINE-2", "name": "L2", "site": "PA", "overtime_hour_cost": 3},
        ],
        calendars=calendar("LINE-1", 100, 2, max_overtime_hours=50)
        + calendar("LINE-2", 100, 2, max_overtime_hours=20),
        routings=[
            {"product": "X", "resource": "LINE-1", "hours_per_unit": 1, "cost_per_unit": 1},
            {"product": "Y", "resource": "LINE-2", "hours_per_unit": 1, "cost_per_unit": 1},
        ],
    )
    fake_supply.plans["SP-OT"] = monthly("X", [150, 100]) + monthly("Y", [110, 100])
    _, plan = plan_run(
        live, token, "SP-OT", holding_rate_per_month=0.1, backorder_rate_per_month=0.25
    )
    assert plan is not None
    expected = {
        "total_hours": pytest.approx(60.0),
        "cost": pytest.approx(130.0),
        "by_resource": [
            {"resource": "LINE-1", "hours": pytest.approx(50.0)},
            {"resource": "LINE-2", "hours": pytest.approx(10.0)},
        ],
    }
    for what in ("review", "summary"):
        body = ok(
            live.client.get(
                f"/api/v1/production-plans/{plan['id']}/{what}", headers=token("viewer")
            )
        )
        assert body["overtime"] == expected, what
        assert body["unmet_demand"]["products"] == 0
    # Production 460 units at 1 plus the overtime: 590.
    assert plan["costs"]["total"] == pytest.approx(590.0)
    cells = {(c["resource"], c["month"]): c for c in body["utilisation"]}
    assert cells[("LINE-1", "2027-01")]["overtime_hours"] == pytest.approx(50.0)
    assert cells[("LINE-1", "2027-01")]["regular_hours"] == pytest.approx(100.0)
    assert cells[("LINE-2", "2027-02")]["overtime_hours"] == pytest.approx(0.0)


def test_review_of_a_chase_plan_shows_the_crew_moves(
    live: Any, token: Any, fake_supply: Any
) -> None:
    seed_live(
        live,
        token,
        products={"X": (40.0, 0.0)},
        resources=[{"code": "CREW", "name": "Crew", "site": "PA", "kind": "labour_pool"}],
        workforce=[
            {
                "pool": "CREW",
                "headcount": 12,
                "hours_per_person": 100,
                "regular_hour_cost": 10,
                "hire_cost": 500,
                "fire_cost": 800,
            }
        ],
        routings=[{"product": "X", "resource": "CREW", "hours_per_unit": 1, "cost_per_unit": 0}],
    )
    fake_supply.plans["SP-AGG"] = monthly("X", [1000, 1500, 2000, 1200])
    _, chase = plan_run(live, token, "SP-AGG", strategy="chase")
    assert chase is not None
    body = ok(
        live.client.get(f"/api/v1/production-plans/{chase['id']}/review", headers=token("viewer"))
    )
    [crew] = body["workforce"]
    # 12 -> 10, 15, 20, 12: peak 20, 10 hired, 10 let go, back where it started.
    assert (crew["start_headcount"], crew["end_headcount"], crew["peak_headcount"]) == (12, 12, 20)
    assert (crew["hires"], crew["fires"]) == (10, 10)
    assert [m["crew_hours_used"] for m in crew["months"]] == [1000, 1500, 2000, 1200]
    # The crew works exactly its hours every month: a crew bottleneck throughout.
    assert {b["limit"] for b in body["bottlenecks"]} == {"crew"}
    figures = {c["strategy"]: c for c in body["comparison"]}
    assert set(figures) == {"chase", "level"}  # a chase run compares with level, not the LP
    assert figures["chase"]["total_cost"] == pytest.approx(chase["costs"]["total"])


def test_unknown_plan_is_404(live: Any, token: Any) -> None:
    for what in ("summary", "review", "lines", "loads", "positions"):
        response = live.client.get(
            f"/api/v1/production-plans/00000000-0000-0000-0000-000000000001/{what}",
            headers=token("viewer"),
        )
        assert response.status_code == 404, what
