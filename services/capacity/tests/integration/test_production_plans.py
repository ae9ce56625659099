"""Production plans through the service: POST -> job -> plan, on instances solvable by hand.

Each test has its own committed database (``live``): the job reads and writes in its own
transactions, as it does in production. Supply is faked with httpx.MockTransport.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pytest
from builders import monthly, ok, plan_detail, plan_run, requirement, seed_live
from sqlmodel import Session, select

from sop_capacity.production_plans.models import ProductionPlan
from sop_shared.outbox.models import OutboxEvent

LINE = {"code": "LINE-1", "name": "Line 1", "site": "PA"}
# Holding 0.1 x cost 10 = 1 per unit-month; backorder 0.25 x price 40 = 10 per unit-month.
RATES = {"holding_rate_per_month": 0.1, "backorder_rate_per_month": 0.25}
PRICE_COST = (40.0, 10.0)


def calendar(resource: str, hours: list[float], max_overtime: float | None = None) -> list[dict]:
    """3 shifts x 20 days, shift length chosen to give ``hours`` per month from 2027-01."""
    rows = []
    for i, h in enumerate(hours):
        row: dict[str, Any] = {
            "resource": resource,
            "month": f"2027-{i + 1:02d}",
            "shifts": 3,
            "working_days": 20,
            "hours_per_shift": h / 60,
        }
        if max_overtime is not None:
            row["max_overtime_hours"] = max_overtime
        rows.append(row)
    return rows


def by_month(rows: list[dict[str, Any]], field: str, **match: Any) -> list[float]:
    out: dict[str, float] = defaultdict(float)
    for row in rows:
        if all(row[k] == v for k, v in match.items()):
            out[row["month"]] += row[field]
    return [round(out[m], 6) for m in sorted(out)]


class TestOvertimeVersusBackorder:
    # Requirement 100, 150, 50; 100 regular hours a month (1 h per unit); up to 50 overtime
    # hours. February is 50 units short. Overtime in February costs 50 x rate; backordering
    # the 50 units one month (March has 50 spare hours) costs 50 x 10 = 500.
    def setup(self, live: Any, token: Any, fake_supply: Any, overtime_rate: float) -> None:
        seed_live(
            live,
            token,
            products={"X": PRICE_COST},
            resources=[{**LINE, "overtime_hour_cost": overtime_rate}],
            calendars=calendar("LINE-1", [100, 100, 100], max_overtime=50),
            routings=[
                {"product": "X", "resource": "LINE-1", "hours_per_unit": 1, "cost_per_unit": 1}
            ],
        )
        fake_supply.plans["SP-1"] = monthly("X", [100, 150, 50])

    def test_cheap_overtime_beats_backorders(self, live: Any, token: Any, fake_supply: Any) -> None:
        self.setup(live, token, fake_supply, overtime_rate=2.0)
        job, plan = plan_run(live, token, "SP-1", **RATES)
        assert plan is not None, job.error
        # 300 units x 1 + 50 overtime hours x 2 = 400; no stock, no backlog.
        assert plan["costs"]["production"] == pytest.approx(300.0)
        assert plan["costs"]["overtime"] == pytest.approx(100.0)
        assert plan["costs"]["total"] == pytest.approx(400.0)
        lines = plan_detail(live, token, plan["id"], "lines")
        assert by_month(lines, "quantity") == [100, 150, 50]
        loads = plan_detail(live, token, plan["id"], "loads")
        assert by_month(loads, "overtime_hours") == [0, 50, 0]
        feb = next(r for r in loads if r["month"] == "2027-02")
        assert feb["utilisation"] == pytest.approx(1.5)
        assert feb["regular_hours"] == pytest.approx(100)
        assert feb["binding"] is True  # 100 regular + 50 overtime: all it can give
        assert feb["rccp_utilisation"] == pytest.approx(1.5)

    def test_dear_overtime_loses_to_a_backorder(
        self, live: Any, token: Any, fake_supply: Any
    ) -> None:
        self.setup(live, token, fake_supply, overtime_rate=20.0)
        _, plan = plan_run(live, token, "SP-1", **RATES)
        # Overtime would cost 1,000; backordering 50 units for one month costs 500.
        assert plan is not None
        assert plan["costs"]["overtime"] == pytest.approx(0.0)
        assert plan["costs"]["backorder"] == pytest.approx(500.0)
        assert plan["costs"]["total"] == pytest.approx(800.0)
        positions = plan_detail(live, token, plan["id"], "positions")
        assert by_month(positions, "backorder") == [0, 50, 0]
        assert by_month(positions, "production") == [100, 100, 100]


def test_stock_is_built_ahead_of_a_capacity_dip(live: Any, token: Any, fake_supply: Any) -> None:
    # Requirement 80 a month; capacity 100, 100, 50, 100 (March halved by maintenance), no
    # overtime. March is 30 short: built as late as possible, 20 in February and 10 in
    # January. Production 90, 100, 50, 80; stock ahead 10, 30, 0, 0; holding 40 x 1.
    seed_live(
        live,
        token,
        products={"X": PRICE_COST},
        resources=[LINE],
        calendars=calendar("LINE-1", [100, 100, 100, 100])[:2]
        + [
            {
                "resource": "LINE-1",
                "month": "2027-03",
                "working_days": 12.5,
                "maintenance_hours": 50,
            },
            {"resource": "LINE-1", "month": "2027-04", "working_days": 12.5},
        ],
        routings=[{"product": "X", "resource": "LINE-1", "hours_per_unit": 1, "cost_per_unit": 1}],
    )
    fake_supply.plans["SP-DIP"] = monthly("X", [80, 80, 80, 80])
    _, plan = plan_run(live, token, "SP-DIP", **RATES)
    assert plan is not None
    positions = plan_detail(live, token, plan["id"], "positions")
    assert by_month(positions, "production") == [90, 100, 50, 80]
    assert by_month(positions, "inventory") == [10, 30, 0, 0]
    assert plan["costs"]["holding"] == pytest.approx(40.0)
    assert plan["totals"]["ending_backorder"] == pytest.approx(0.0)
    loads = plan_detail(live, token, plan["id"], "loads")
    # Before: rough-cut puts 80 h on a 50-hour March (160 %); after: every month fits.
    march = next(r for r in loads if r["month"] == "2027-03")
    assert march["available_hours"] == pytest.approx(50.0)
    assert march["rccp_utilisation"] == pytest.approx(1.6)
    assert march["utilisation"] == pytest.approx(1.0)
    assert plan["totals"]["rccp_overloaded_cells"] == 1


def test_every_capacity_is_respected_with_alternates_and_a_crew(
    live: Any, token: Any, fake_supply: Any
) -> None:
    # Three products on two lines staffed by one crew of at most 1.2 people (150 h each, 10 %
    # overtime: 198 crew hours a month), plus a co-packer that only A can use. B and C can
    # only be made by the crew and alone need 200, 200, 230, 275, 170, 215 crew hours
    # (B 0.25 h on L1, C 1 h on L2), so the crew runs out and some demand is backordered,
    # while A's overflow fills the co-packer.
    seed_live(
        live,
        token,
        products={"A": (30, 8), "B": (20, 5), "C": (50, 20)},
        resources=[
            {"code": "CREW", "name": "Crew", "site": "PA", "kind": "labour_pool"},
            {
                "code": "L1",
                "name": "L1",
                "site": "PA",
                "labour_pool": "CREW",
                "overtime_hour_cost": 30,
            },
            {"code": "L2", "name": "L2", "site": "PA", "labour_pool": "CREW"},
            {"code": "CO", "name": "Co", "site": "EXT", "kind": "copacker"},
        ],
        workforce=[
            {
                "pool": "CREW",
                "headcount": 1.2,  # starts at its ceiling (above it is refused at ingest)
                "hours_per_person": 150,
                "max_overtime_share": 0.1,
                "regular_hour_cost": 20,
                "overtime_hour_cost": 35,
                "hire_cost": 500,
                "fire_cost": 800,
                "min_headcount": 1,
                "max_headcount": 1.2,
            }
        ],
        calendars=calendar("L1", [200, 200, 120, 200, 200, 200], max_overtime=20)
        + calendar("L2", [160] * 6)
        + calendar("CO", [100] * 6),
        routings=[
            {"product": "A", "resource": "L1", "hours_per_unit": 0.5, "cost_per_unit": 2},
            {
                "product": "A",
                "resource": "CO",
                "hours_per_unit": 0.2,
                "cost_per_unit": 9,
                "priority": 2,
            },
            {"product": "B", "resource": "L1", "hours_per_unit": 0.25, "cost_per_unit": 1},
            {
                "product": "B",
                "resource": "L2",
                "hours_per_unit": 0.3,
                "cost_per_unit": 1.5,
                "priority": 2,
            },
            {"product": "C", "resource": "L2", "hours_per_unit": 1.0, "cost_per_unit": 5},
        ],
    )
    fake_supply.plans["SP-BIG"] = (
        monthly("A", [300, 500, 400, 300, 600, 200])
        + monthly("B", [400, 200, 600, 300, 200, 500])
        + monthly("C", [100, 150, 80, 200, 120, 90])
    )
    _, plan = plan_run(live, token, "SP-BIG")
    assert plan is not None
    loads = plan_detail(live, token, plan["id"], "loads")
    for row in loads:
        if row["capacity_hours"] is not None:
            assert row["hours_used"] <= row["capacity_hours"] + 1e-6, row
        assert row["overloaded"] is False, row
    crew = [r for r in loads if r["resource"] == "CREW"]
    for row in crew:
        # Crew hours used (L1 + L2) within headcount x 150 x 1.1, headcount within 1..1.2.
        assert row["crew_hours_used"] <= row["headcount"] * 150 * 1.1 + 1e-6, row
        assert 1 - 1e-9 <= row["headcount"] <= 1.2 + 1e-9
    # Limits are reached, and a binding cell is really at its limit: the co-packer's hours,
    # L1's regular hours (its overtime unused: the crew is the limit), the crew's
    # headcount x 150 x 1.1 (at most 198).
    binding = [r for r in loads if r["binding"]]
    assert {r["resource"] for r in binding} == {"CO", "CREW", "L1"}
    assert sum(r["resource"] == "CREW" for r in binding) >= 4
    for row in binding:
        if row["resource"] == "CREW":
            assert row["crew_hours_used"] == pytest.approx(row["headcount"] * 165), row
        else:
            # its regular hours full (some overtime on top, at most the allowance)
            assert row["available_hours"] - 1e-6 <= row["hours_used"], row
            assert row["hours_used"] <= row["capacity_hours"] + 1e-6, row
    assert plan["totals"]["binding_cells"] == len(binding)
    assert plan["totals"]["backordered_unit_months"] > 0
    # Balance per product: made + still backordered at the end = required.
    positions = plan_detail(live, token, plan["id"], "positions")
    for product in "ABC":
        rows = sorted((r for r in positions if r["product"] == product), key=lambda r: r["month"])
        made = sum(r["production"] for r in rows)
        required = sum(r["requirement"] for r in rows)
        assert made + rows[-1]["backorder"] - rows[-1]["inventory"] == pytest.approx(required)
    lines = plan_detail(live, token, plan["id"], "lines")
    assert {line["resource"] for line in lines} <= {"L1", "L2", "CO"}
    assert sum(line["quantity"] for line in lines) == pytest.approx(plan["totals"]["production"])


def test_safety_stock_top_up_gives_way_before_demand_is_backordered(
    live: Any, token: Any, fake_supply: Any
) -> None:
    # One line of 100 h a month, 1 h and 1 a unit; holding 1, backorder 10, so a unit-month
    # of safety stock not rebuilt costs 5 (half the backorder cost).
    # Supply's unconstrained plan: A has demand 50 a month and a target of 30 built from
    # nothing, so it asks 80, 50, 50 (closing at 30: opening 0, 30, 30); B asks 50, 50, 20.
    # January and February need 130 and 100 hours: 30 short in January, none spare in
    # February; March has 30 spare.
    # The plan makes A 50, 50, 80 and B 50, 50, 20: A's top-up waits until March (30 short
    # at the end of January and February), nothing is backordered. Production 300;
    # shortfall 30 x 2 months x 5 = 300; holding A's 30 at the end of March = 30. Total 630.
    # Keeping A's buffer and backordering B instead: 30 x 10 x 2 = 600 of backorders plus
    # 90 of holding, 990; with the top-up taken as demand (the old reading) 30 units would
    # have been backordered for two months whoever they belonged to.
    seed_live(
        live,
        token,
        products={"A": PRICE_COST, "B": PRICE_COST},
        resources=[LINE],
        calendars=calendar("LINE-1", [100, 100, 100]),
        routings=[
            {"product": p, "resource": "LINE-1", "hours_per_unit": 1, "cost_per_unit": 1}
            for p in "AB"
        ],
    )
    fake_supply.plans["SP-SS"] = [
        {**requirement("A", month, quantity, safety_stock=30), "opening_stock": opening}
        for month, quantity, opening in (
            ("2027-01", 80, 0),
            ("2027-02", 50, 30),
            ("2027-03", 50, 30),
        )
    ] + monthly("B", [50, 50, 20])
    job, plan = plan_run(live, token, "SP-SS", **RATES)
    assert plan is not None, job.error
    positions = plan_detail(live, token, plan["id"], "positions")
    assert by_month(positions, "production", product="A") == [50, 50, 80]
    assert by_month(positions, "production", product="B") == [50, 50, 20]
    assert by_month(positions, "safety_stock_shortfall", product="A") == [30, 30, 0]
    assert by_month(positions, "backorder") == [0, 0, 0]
    assert by_month(positions, "inventory") == [0, 0, 0]  # nothing built ahead of supply
    assert plan["costs"]["shortfall"] == pytest.approx(300.0)
    assert plan["costs"]["holding"] == pytest.approx(30.0)
    assert plan["costs"]["backorder"] == pytest.approx(0.0)
    assert plan["costs"]["total"] == pytest.approx(630.0)
    assert plan["totals"]["safety_stock_shortfall_unit_months"] == pytest.approx(60.0)
    # Chase makes every requirement in its month (January overloads the line): A's 30 is
    # held all three months, 90 of holding, and no shortfall; costed by the same rule.
    chase = plan["comparison"]["chase"]
    assert chase["costs"]["holding"] == pytest.approx(90.0)
    assert chase["costs"]["shortfall"] == pytest.approx(0.0)
    assert chase["overloaded_cells"] == 1

    review = ok(
        live.client.get(f"/api/v1/production-plans/{plan['id']}/review", headers=token("viewer"))
    )
    assert review["unmet_demand"]["items"] == []
    assert review["safety_stock"] == {
        "shortfall_unit_months": pytest.approx(60.0),
        "cost": pytest.approx(300.0),
        "products": 1,
        "items": [
            {
                "product": "A",
                "site": "PA",
                "shortfall_unit_months": pytest.approx(60.0),
                "peak_shortfall": pytest.approx(30.0),
                "ending_shortfall": 0.0,
                "months": ["2027-01", "2027-02"],
            }
        ],
    }


class TestChaseAndLevel:
    # A small aggregate plan through the service (invented figures; the published example
    # is in unit/test_heuristics.py): demand 1,000, 1,500, 2,000, 1,200 units at 1 hour
    # each; a worker gives 100 hours a month; 12 workers today; hiring 500, letting go 800
    # a person; pay 10 an hour (1,000 a worker-month). Products at cost 0, so holding is free.
    def setup(self, live: Any, token: Any, fake_supply: Any) -> None:
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
            routings=[
                {"product": "X", "resource": "CREW", "hours_per_unit": 1, "cost_per_unit": 0}
            ],
        )
        fake_supply.plans["SP-AGG"] = monthly("X", [1000, 1500, 2000, 1200])

    def test_chase_hires_and_fires_to_demand(self, live: Any, token: Any, fake_supply: Any) -> None:
        self.setup(live, token, fake_supply)
        _, plan = plan_run(live, token, "SP-AGG", strategy="chase")
        assert plan is not None
        assert plan["strategy"] == "chase"
        crew = plan_detail(live, token, plan["id"], "loads", resource="CREW")
        # Workers 10, 15, 20, 12: let 2 go, hire 5 and 5, let 8 go.
        assert [r["headcount"] for r in crew] == pytest.approx([10, 15, 20, 12])
        assert [r["hires"] for r in crew] == pytest.approx([0, 5, 5, 0])
        assert [r["fires"] for r in crew] == pytest.approx([2, 0, 0, 8])
        lines = plan_detail(live, token, plan["id"], "lines")
        assert by_month(lines, "quantity") == [1000, 1500, 2000, 1200]
        # Pay 1,000 x 57 worker-months; hiring 10 x 500; letting go 10 x 800.
        assert plan["costs"]["labour"] == pytest.approx(57_000)
        assert plan["costs"]["hiring"] == pytest.approx(5_000)
        assert plan["costs"]["firing"] == pytest.approx(8_000)

    def test_level_makes_the_horizon_requirement_evenly(
        self, live: Any, token: Any, fake_supply: Any
    ) -> None:
        self.setup(live, token, fake_supply)
        _, plan = plan_run(live, token, "SP-AGG", strategy="level")
        assert plan is not None
        crew = plan_detail(live, token, plan["id"], "loads", resource="CREW")
        # One crew making the horizon's 5,700 evenly: 1,425 a month = 14.25 workers (hire
        # 2.25 at once). Position +425, +350, -225, 0: stock 425 and 350 (free: cost 0),
        # 225 backordered in March (x 10 = 2,250). Labour 14.25 x 4 x 1,000 = 57,000;
        # hiring 2.25 x 500 = 1,125. Total 60,375.
        assert [r["headcount"] for r in crew] == pytest.approx([14.25] * 4)
        assert [r["hires"] for r in crew] == pytest.approx([2.25, 0, 0, 0])
        positions = plan_detail(live, token, plan["id"], "positions")
        assert by_month(positions, "production") == [1425] * 4
        assert by_month(positions, "inventory") == [425, 350, 0, 0]
        assert by_month(positions, "backorder") == [0, 0, 225, 0]
        assert plan["totals"]["production"] == pytest.approx(5_700)
        assert plan["costs"]["labour"] == pytest.approx(57_000)
        assert plan["costs"]["hiring"] == pytest.approx(1_125)
        assert plan["costs"]["backorder"] == pytest.approx(2_250)
        assert plan["costs"]["total"] == pytest.approx(60_375)

    def test_optimal_is_no_dearer_than_either_and_compares_all_three(
        self, live: Any, token: Any, fake_supply: Any
    ) -> None:
        self.setup(live, token, fake_supply)
        _, plan = plan_run(live, token, "SP-AGG")
        assert plan is not None
        comparison = plan["comparison"]
        assert set(comparison) == {"optimal", "chase", "level"}
        # Chase: 57,000 + 5,000 + 8,000 = 70,000; level: 57,000 + 1,125 + 2,250 = 60,375.
        assert comparison["chase"]["total_cost"] == pytest.approx(70_000)
        assert comparison["level"]["total_cost"] == pytest.approx(60_375)
        assert comparison["optimal"]["total_cost"] == pytest.approx(plan["costs"]["total"])
        assert plan["costs"]["total"] <= 60_375 + 1e-6
        # Like for like: every strategy makes what is required and reports the same costs.
        for figures in comparison.values():
            assert figures["production"] == pytest.approx(5_700)
            assert set(figures["costs"]) == set(plan["costs"])


class TestChaseAndLevelOnTwoProductsAndAnIdleCrew:
    """Worked by hand. CREW (100 h a person-month, 1,000 pay, hire 500, let go 800, 10 people,
    at least 6) makes X (1 h a unit) and Y (2 h); IDLE (3 people, at least 1, same pay and
    costs) has no work at all. Price 40 (backorder 10 per unit-month), cost 0 (no holding).

        month            1      2      3      4   total
        X                300    500    400    200   1,400
        Y                100    250    300    150     800
        crew hours       500  1,000  1,000    500   3,000

    IDLE, in every strategy (and in the LP, which pays it too): let 2 go at once (1,600),
    then 1 person x 4 months (4,000): 5,600.
    """

    def setup(self, live: Any, token: Any, fake_supply: Any) -> None:
        crew = {"hours_per_person": 100, "regular_hour_cost": 10, "hire_cost": 500}
        seed_live(
            live,
            token,
            products={"X": (40.0, 0.0), "Y": (40.0, 0.0)},
            resources=[
                {"code": "CREW", "name": "Crew", "site": "PA", "kind": "labour_pool"},
                {"code": "IDLE", "name": "Idle crew", "site": "PA", "kind": "labour_pool"},
            ],
            workforce=[
                {"pool": "CREW", "headcount": 10, "min_headcount": 6, "fire_cost": 800, **crew},
                {"pool": "IDLE", "headcount": 3, "min_headcount": 1, "fire_cost": 800, **crew},
            ],
            routings=[
                {"product": "X", "resource": "CREW", "hours_per_unit": 1, "cost_per_unit": 0},
                {"product": "Y", "resource": "CREW", "hours_per_unit": 2, "cost_per_unit": 0},
            ],
        )
        fake_supply.plans["SP-2P"] = monthly("X", [300, 500, 400, 200]) + monthly(
            "Y", [100, 250, 300, 150]
        )

    def test_chase(self, live: Any, token: Any, fake_supply: Any) -> None:
        # People wanted 5, 10, 10, 5 -> at least 6: 6, 10, 10, 6 (idle 100 h in months 1
        # and 4, paid, not turned into stock). From 10: let 4 go, hire 4, -, let 4 go.
        # Labour 32 x 1,000 = 32,000; hiring 2,000; letting go 6,400; each product made in
        # its month. With IDLE: 40,400 + 5,600 = 46,000.
        self.setup(live, token, fake_supply)
        _, plan = plan_run(live, token, "SP-2P", strategy="chase")
        assert plan is not None
        crew = plan_detail(live, token, plan["id"], "loads", resource="CREW")
        assert [r["headcount"] for r in crew] == pytest.approx([6, 10, 10, 6])
        idle = plan_detail(live, token, plan["id"], "loads", resource="IDLE")
        assert [r["headcount"] for r in idle] == pytest.approx([1, 1, 1, 1])
        assert [r["fires"] for r in idle] == pytest.approx([2, 0, 0, 0])
        positions = plan_detail(live, token, plan["id"], "positions")
        assert by_month(positions, "production", product="X") == [300, 500, 400, 200]
        assert by_month(positions, "production", product="Y") == [100, 250, 300, 150]
        assert by_month(positions, "inventory") == [0, 0, 0, 0]
        assert plan["costs"]["labour"] == pytest.approx(36_000)
        assert plan["costs"]["hiring"] == pytest.approx(2_000)
        assert plan["costs"]["firing"] == pytest.approx(8_000)
        assert plan["costs"]["total"] == pytest.approx(46_000)

    def test_level(self, live: Any, token: Any, fake_supply: Any) -> None:
        # 3,000 h / 4 = 750 h a month: 7.5 people (let 2.5 go: 2,000), labour 30,000.
        # Shared by each product's share of the horizon: X 1,400 / 4 = 350 a month, Y 200.
        # X position +50, -100, -150, 0 (250 unit-months late); Y +100, +50, -50, 0 (50):
        # backorders 300 x 10 = 3,000. With IDLE: 35,000 + 5,600 = 40,600.
        self.setup(live, token, fake_supply)
        _, plan = plan_run(live, token, "SP-2P", strategy="level")
        assert plan is not None
        crew = plan_detail(live, token, plan["id"], "loads", resource="CREW")
        assert [r["headcount"] for r in crew] == pytest.approx([7.5] * 4)
        positions = plan_detail(live, token, plan["id"], "positions")
        assert by_month(positions, "production", product="X") == [350] * 4
        assert by_month(positions, "production", product="Y") == [200] * 4
        assert by_month(positions, "backorder", product="X") == [0, 100, 150, 0]
        assert by_month(positions, "backorder", product="Y") == [0, 0, 50, 0]
        assert plan["costs"]["labour"] == pytest.approx(34_000)
        assert plan["costs"]["firing"] == pytest.approx(3_600)
        assert plan["costs"]["backorder"] == pytest.approx(3_000)
        assert plan["costs"]["total"] == pytest.approx(40_600)

    def test_the_lp_pays_the_same_idle_crew_and_is_no_dearer(
        self, live: Any, token: Any, fake_supply: Any
    ) -> None:
        self.setup(live, token, fake_supply)
        _, plan = plan_run(live, token, "SP-2P")
        assert plan is not None
        idle = plan_detail(live, token, plan["id"], "loads", resource="IDLE")
        assert [r["headcount"] for r in idle] == pytest.approx([1, 1, 1, 1])
        comparison = plan["comparison"]
        assert comparison["chase"]["total_cost"] == pytest.approx(46_000)
        assert comparison["level"]["total_cost"] == pytest.approx(40_600)
        assert plan["costs"]["total"] <= 40_600 + 1e-6
        for figures in comparison.values():
            assert set(figures["costs"]) == set(plan["costs"])
            assert figures["costs"]["labour"] >= 4_000  # IDLE's floor is paid by all three
            assert figures["production"] == pytest.approx(2_200 - figures["ending_backorder"])


def test_lines_are_lots_and_the_rounding_effect_is_reported(
    live: Any, token: Any, fake_supply: Any
) -> None:
    # LINE-1 gives 100 h a month; X and Y take 1 h and cost 1 a unit; holding 1 a unit-month.
    # X: 30 a month, made in lots of 50 (supply's lot multiple): 50, 50, 0, 50 (stock ahead
    # 20, 40, 10, 30: 100 unit-months). Y: 10.4 and 3.2 in whole units, at least 5: 11, 0,
    # 5, 0 (ahead 0.6, 0.6, 2.4, 2.4: 6 unit-months). Added: 30 + 2.4 units, as many hours;
    # cost 32.4 of production + 106 of holding = 138.4; no cell over capacity.
    seed_live(
        live,
        token,
        products={"X": PRICE_COST, "Y": PRICE_COST},
        resources=[LINE],
        calendars=calendar("LINE-1", [100] * 4),
        routings=[
            {"product": p, "resource": "LINE-1", "hours_per_unit": 1, "cost_per_unit": 1}
            for p in "XY"
        ],
    )
    fake_supply.plans["SP-LOT"] = [
        {**row, "moq": 0.0, "lot_multiple": 50.0} for row in monthly("X", [30, 30, 30, 30])
    ] + [{**row, "moq": 5.0, "lot_multiple": 0.0} for row in monthly("Y", [10.4, 0, 3.2, 0])]
    job, plan = plan_run(live, token, "SP-LOT", **RATES)
    assert plan is not None, job.error
    lines = plan_detail(live, token, plan["id"], "lines")
    assert by_month(lines, "quantity", product="X") == [50, 50, 50]  # no line in March
    assert [r["month"] for r in lines if r["product"] == "X"] == ["2027-01", "2027-02", "2027-04"]
    assert by_month(lines, "quantity", product="Y") == [11, 5]
    positions = plan_detail(live, token, plan["id"], "positions")
    assert by_month(positions, "inventory", product="X") == [20, 40, 10, 30]
    assert by_month(positions, "inventory", product="Y") == [0.6, 0.6, 2.4, 2.4]
    rounding = plan["totals"]["rounding"]
    assert rounding["units_added"] == pytest.approx(32.4)
    assert rounding["hours_added"] == pytest.approx(32.4)
    assert rounding["cost_added"] == pytest.approx(138.4)
    assert rounding["overloaded_cells_added"] == 0
    assert plan["costs"]["production"] == pytest.approx(166.0)  # 150 + 16 units at 1
    assert plan["costs"]["holding"] == pytest.approx(106.0)
    assert plan["costs"]["total"] == pytest.approx(272.0)
    assert plan["totals"]["production"] == pytest.approx(166.0)
    # Every strategy is rounded the same way: chase makes what the LP makes; level's Y
    # (3.4 a month, cumulative 3.4, 6.8, 10.2, 13.6) becomes 5, 5, 5, 0 with the minimum 5.
    comparison = plan["comparison"]
    assert comparison["chase"]["production"] == pytest.approx(166.0)
    assert comparison["level"]["production"] == pytest.approx(165.0)
    assert comparison["level"]["rounding"]["units_added"] == pytest.approx(150 + 15 - 133.6)


def test_chase_moves_what_its_preferred_line_cannot_take_to_the_alternate(
    live: Any, token: Any, fake_supply: Any
) -> None:
    # X prefers LINE-1 (100 h, 1 h a unit, cost 1), may use LINE-2 (200 h, cost 2); Y only
    # LINE-1. Requirement X 60, 150; Y 30, 30. January: X 60 + Y 30 = 90 h fit LINE-1.
    # February: Y's 30 h stay (it cannot move), X's 150 do not fit the 70 h left, so X
    # goes whole to LINE-2: no overload, production 60 + 30 + 2 x 150 + 30 = 420.
    seed_live(
        live,
        token,
        products={"X": PRICE_COST, "Y": PRICE_COST},
        resources=[LINE, {"code": "LINE-2", "name": "Line 2", "site": "PA"}],
        calendars=calendar("LINE-1", [100, 100]) + calendar("LINE-2", [200, 200]),
        routings=[
            {"product": "X", "resource": "LINE-1", "hours_per_unit": 1, "cost_per_unit": 1},
            {
                "product": "X",
                "resource": "LINE-2",
                "hours_per_unit": 1,
                "cost_per_unit": 2,
                "priority": 2,
            },
            {"product": "Y", "resource": "LINE-1", "hours_per_unit": 1, "cost_per_unit": 1},
        ],
    )
    fake_supply.plans["SP-ALT"] = monthly("X", [60, 150]) + monthly("Y", [30, 30])
    _, plan = plan_run(live, token, "SP-ALT", strategy="chase", **RATES)
    assert plan is not None
    lines = plan_detail(live, token, plan["id"], "lines")
    assert sorted((r["product"], r["month"], r["resource"], r["quantity"]) for r in lines) == [
        ("X", "2027-01", "LINE-1", 60.0),
        ("X", "2027-02", "LINE-2", 150.0),
        ("Y", "2027-01", "LINE-1", 30.0),
        ("Y", "2027-02", "LINE-1", 30.0),
    ]
    assert plan["costs"]["production"] == pytest.approx(420.0)
    assert plan["totals"]["overloaded_cells"] == 0
    assert plan["comparison"]["chase"]["overload_hours"] == 0.0


class TestProductsWithoutAUsableMethod:
    """One gap in master data backorders that product, not the whole plan."""

    @staticmethod
    def review(live: Any, token: Any, plan_id: str) -> dict[str, Any]:
        return ok(
            live.client.get(f"/api/v1/production-plans/{plan_id}/review", headers=token("viewer"))
        )

    @pytest.mark.parametrize("strategy", ["optimal", "chase", "level"])
    def test_x_routed_y_not_plans_x_and_backorders_y_with_the_reason(
        self, live: Any, token: Any, fake_supply: Any, strategy: str
    ) -> None:
        # LINE-1 gives 100 h a month; X takes 1 h and costs 1 a unit, Y has no routing.
        # X: 80 + 80 made on time (production 160). Y: nothing made, backlog 30 then 50:
        # 80 unit-months x 10 = 800 (no ending-backorder charge: Y has no method to cost).
        # Every strategy: 160 + 800 = 960, with LINE-1 at 80 % both months.
        seed_live(
            live,
            token,
            products={"X": PRICE_COST, "Y": PRICE_COST},
            resources=[LINE],
            calendars=calendar("LINE-1", [100, 100]),
            routings=[
                {"product": "X", "resource": "LINE-1", "hours_per_unit": 1, "cost_per_unit": 1}
            ],
        )
        fake_supply.plans["SP-XY"] = monthly("X", [80, 80]) + monthly("Y", [30, 20])
        job, plan = plan_run(live, token, "SP-XY", strategy=strategy, **RATES)
        assert plan is not None, job.error
        reason = "no production method at site 'PA': no routing of 'Y'"
        warning = (
            f"Y@PA cannot be made and is planned as backorder only (50 units required): {reason}"
        )
        assert plan["warnings"] == [warning]
        assert job.result["warnings"] == [warning]
        assert plan["costs"]["production"] == pytest.approx(160.0)
        assert plan["costs"]["backorder"] == pytest.approx(800.0)
        assert plan["costs"]["total"] == pytest.approx(960.0)
        assert plan["totals"]["unplannable_products"] == 1
        assert plan["totals"]["ending_backorder"] == pytest.approx(50.0)
        # The other strategies ran on the same inputs without failing, at the same cost.
        for figures in plan["comparison"].values():
            assert figures["total_cost"] == pytest.approx(960.0)
        positions = plan_detail(live, token, plan["id"], "positions")
        assert by_month(positions, "production", product="X") == [80, 80]
        assert by_month(positions, "backorder", product="X") == [0, 0]
        assert by_month(positions, "production", product="Y") == [0, 0]
        assert by_month(positions, "backorder", product="Y") == [30, 50]
        lines = plan_detail(live, token, plan["id"], "lines")
        assert {line["product"] for line in lines} == {"X"}
        loads = plan_detail(live, token, plan["id"], "loads")
        assert by_month(loads, "utilisation") == [0.8, 0.8]

        unmet = self.review(live, token, plan["id"])["unmet_demand"]
        assert unmet["products"] == 1
        [y] = unmet["items"]
        assert (y["product"], y["site"], y["unplannable"]) == ("Y", "PA", True)
        assert y["backordered_unit_months"] == pytest.approx(80.0)
        assert y["ending_backorder"] == pytest.approx(50.0)
        assert y["months"] == ["2027-01", "2027-02"]
        assert y["binding"] == []
        assert y["reason"] == f"cannot be made, planned as backorder only: {reason}"
        with Session(live.engine) as session:
            [event] = session.exec(select(OutboxEvent)).all()
        assert event.payload["data"]["counts"]["unplannable_products"] == 1
        assert event.payload["data"]["totals"]["ending_backorder"] == pytest.approx(50.0)

    def test_product_without_a_method_at_its_site(
        self, live: Any, token: Any, fake_supply: Any
    ) -> None:
        # X is routed on LINE-1 at PA only; supply asks for 5 at PB in February. Nothing can
        # make it there: the plan succeeds with the 5 backordered for one month (5 x 10 = 50)
        # and no ending-backorder charge (no method at PB to cost a unit by), so 50 in all.
        seed_live(
            live,
            token,
            products={"X": PRICE_COST},
            resources=[LINE],
            calendars=calendar("LINE-1", [100, 100]),
            routings=[
                {"product": "X", "resource": "LINE-1", "hours_per_unit": 1, "cost_per_unit": 1}
            ],
        )
        fake_supply.plans["SP-1"] = [requirement("X", "2027-02", 5, site="PB")]
        job, plan = plan_run(live, token, "SP-1", **RATES)
        assert job.state == "succeeded", job.error
        assert plan is not None
        reason = (
            "no production method at site 'PB': routed only on 'LINE-1' (site PA), "
            "neither at 'PB' nor a co-packer"
        )
        assert plan["warnings"] == [
            f"X@PB cannot be made and is planned as backorder only (5 units required): {reason}"
        ]
        assert plan["costs"]["total"] == pytest.approx(50.0)
        positions = plan_detail(live, token, plan["id"], "positions")
        assert [(p["site"], p["month"], p["backorder"]) for p in positions] == [
            ("PB", "2027-02", 5.0)
        ]
        [x] = self.review(live, token, plan["id"])["unmet_demand"]["items"]
        assert (x["product"], x["site"], x["unplannable"]) == ("X", "PB", True)
        assert x["reason"].endswith(reason)

    def test_only_resource_without_hours_backorders_naming_resource_and_months(
        self, live: Any, token: Any, fake_supply: Any
    ) -> None:
        # X's only resource, LINE-1, has no calendar at all: no hours in January or February.
        # Backlog 10 then 20: 30 unit-months x 10 = 300, plus the 20 still owed at the end
        # at its method cost of 1 (20), so 320.
        seed_live(
            live,
            token,
            products={"X": PRICE_COST},
            resources=[LINE],
            routings=[
                {"product": "X", "resource": "LINE-1", "hours_per_unit": 1, "cost_per_unit": 1}
            ],
        )
        fake_supply.plans["SP-1"] = monthly("X", [10, 10])
        job, plan = plan_run(live, token, "SP-1", **RATES)
        assert plan is not None, job.error
        reason = (
            "no usable production method: resource 'LINE-1' has no hours in any month "
            "(no calendar for 2027-01..2027-02 (2 months))"
        )
        assert (
            f"X@PA cannot be made and is planned as backorder only (20 units required): {reason}"
            in plan["warnings"]
        )
        assert plan["costs"]["backorder"] == pytest.approx(320.0)
        assert plan["costs"]["total"] == pytest.approx(320.0)
        positions = plan_detail(live, token, plan["id"], "positions")
        assert by_month(positions, "backorder") == [10, 20]
        assert by_month(positions, "production") == [0, 0]
        [x] = self.review(live, token, plan["id"])["unmet_demand"]["items"]
        assert x["unplannable"] is True
        assert x["reason"] == f"cannot be made, planned as backorder only: {reason}"


class TestFailures:
    def test_a_model_the_solver_proves_infeasible_fails_naming_resource_and_month(
        self, live: Any, token: Any, fake_supply: Any, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # Checked inputs always have a plan, so the assembled LP is broken on purpose:
        # January's production is forced to at least 150 units of 1 h on a 100-hour line.
        from sop_capacity.planning import lp

        build = lp._build_model

        def broken(prep: Any, **kw: Any) -> Any:
            mdl = build(prep, **kw)
            mdl.col_lo[mdl.layout.x] = 150.0
            return mdl

        monkeypatch.setattr(lp, "_build_model", broken)
        seed_live(
            live,
            token,
            products={"X": PRICE_COST},
            resources=[LINE],
            calendars=calendar("LINE-1", [100, 100]),
            routings=[
                {"product": "X", "resource": "LINE-1", "hours_per_unit": 1, "cost_per_unit": 1}
            ],
        )
        fake_supply.plans["SP-1"] = monthly("X", [80, 80])
        job, plan = plan_run(live, token, "SP-1")
        assert plan is None
        shown = ok(live.client.get(f"/api/v1/jobs/{job.id}", headers=token("viewer")))
        assert shown["state"] == "failed"
        assert shown["error"].startswith(
            "The production plan cannot be computed. The solver found no plan (infeasible). "
            "No plan satisfies the constraints"
        )
        assert (
            "hours of resource 'LINE-1' in month '2027-01' (regular hours <= 100)"
            in (shown["error"])
        )
        assert "production of product 'X@PA' on resource 'LINE-1'" in shown["error"]
        assert "Traceback" not in shown["error"]
        self.assert_nothing_written(live)

    def test_unknown_supply_plan_and_bad_requirements(
        self, live: Any, token: Any, fake_supply: Any
    ) -> None:
        job, _ = plan_run(live, token, "SP-GONE")
        assert job.state == "failed"
        assert "supply-plans/SP-GONE" in job.error
        fake_supply.plans["SP-BAD"] = [requirement("X", "2027-1", 5)]
        job, _ = plan_run(live, token, "SP-BAD")
        assert "row 1 month: must be a month YYYY-MM" in job.error
        self.assert_nothing_written(live)

    def test_bad_request_is_refused_before_any_job(self, live: Any, token: Any) -> None:
        response = live.client.post(
            "/api/v1/production-plans",
            json={"supply_plan_id": "SP-1", "cycle": "2027-1", "strategy": "cheapest"},
            headers=token("capacity_planner"),
        )
        assert response.status_code == 422
        fields = {e["field"] for e in response.json()["errors"]}
        assert fields == {"body.cycle", "body.strategy"}
        assert live.run_jobs() == []

    @staticmethod
    def assert_nothing_written(live: Any) -> None:
        with Session(live.engine) as session:
            assert session.exec(select(ProductionPlan)).all() == []
            # no plan event; only the failed job's announcement (the cycle shows it blocked)
            events = {e.event_type for e in session.exec(select(OutboxEvent)).all()}
            assert events <= {"sop.capacity.job.failed.v1"}


def test_plan_event_lines_pages_and_streams(live: Any, token: Any, fake_supply: Any) -> None:
    seed_live(
        live,
        token,
        products={"X": PRICE_COST, "Y": PRICE_COST},
        resources=[LINE],
        calendars=calendar("LINE-1", [500, 500, 500]),
        routings=[
            {"product": "X", "resource": "LINE-1", "hours_per_unit": 1, "cost_per_unit": 1},
            {"product": "Y", "resource": "LINE-1", "hours_per_unit": 1, "cost_per_unit": 1},
        ],
    )
    fake_supply.plans["SP-7"] = monthly("X", [10, 20, 30]) + monthly("Y", [5, 0, 5])
    _, first = plan_run(live, token, "SP-7", supply_plan_version=3, scenario="base")
    _, second = plan_run(live, token, "SP-7", strategy="level")
    assert first is not None
    assert second is not None
    assert (first["version"], second["version"]) == (1, 2)

    with Session(live.engine) as session:
        events = session.exec(select(OutboxEvent)).all()
    assert [e.event_type for e in events] == ["sop.capacity.plan.changed.v1"] * 2
    data = events[0].payload["data"]
    assert data["plan_id"] == first["id"]
    assert data["upstream_plan_id"] == "SP-7"
    assert (data["cycle"], data["scenario"], data["version"]) == ("2027-01", "base", 1)
    assert data["status"] == "published"
    assert data["lines_url"] == f"/api/v1/production-plans/{first['id']}/lines"
    assert data["totals"]["quantity"] == pytest.approx(70.0)
    assert data["totals"]["production_cost"] == pytest.approx(70.0)  # Σ line cost, 1 a unit
    assert events[0].topic == "sop.capacity.v1"

    url = f"/api/v1/production-plans/{first['id']}/lines"
    page = ok(live.client.get(f"{url}?limit=2&offset=1", headers=token("viewer")))
    assert page["total"] == 5  # X in 3 months, Y in 2
    assert len(page["items"]) == 2
    stream = live.client.get(f"{url}?format=jsonl", headers=token("integration"))
    assert stream.headers["content-type"] == "application/x-ndjson"
    rows = [line for line in stream.text.splitlines() if line]
    assert len(rows) == 5
    csv = live.client.get(f"{url}?format=csv&product=Y", headers=token("viewer"))
    assert csv.text.splitlines()[0] == "product,site,month,resource,quantity,hours,cost"
    assert len(csv.text.splitlines()) == 3

    listed = ok(live.client.get("/api/v1/production-plans?cycle=2027-01", headers=token("viewer")))
    assert [p["version"] for p in listed["items"]] == [2, 1]
    missing = live.client.get(
        "/api/v1/production-plans/00000000-0000-0000-0000-000000000000/lines?format=jsonl",
        headers=token("viewer"),
    )
    assert missing.status_code == 404
