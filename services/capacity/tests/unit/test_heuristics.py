"""Chase and level against a textbook aggregate-planning example worked by hand.

Nahmias-style data: six months of demand, each worker makes 20 units a month, 40 workers at
the start, no opening stock. Hire 300 and fire 500 per worker, holding 2 and backorder 10 per
unit-month on month-end positions, regular pay 2,000 per worker-month.

    month           1     2     3     4     5     6   total
    demand        600   800 1,000 1,200   700   500   4,800
    cum demand    600 1,400 2,400 3,600 4,300 4,800
    cum capacity   20    40    60    80   100   120   (units per worker, cumulative)
"""

from __future__ import annotations

import numpy as np
import pytest

from sop_capacity.planning import (
    AggregateProblem,
    LabourPool,
    Method,
    PlanningInputError,
    PlanningProblem,
    chase,
    level,
    solve_plan,
)

TEXTBOOK = AggregateProblem(
    demand=[600, 800, 1000, 1200, 700, 500],
    units_per_worker=20,
    initial_workforce=40,
    hire_cost=300,
    fire_cost=500,
    holding_cost=2,
    backorder_cost=10,
    wage_per_worker=2000,
)


def test_chase_follows_demand():
    # Workers = demand / 20: 30, 40, 50, 60, 35, 25 (no stock is ever built).
    # From 40: fire 10; hire 10, 10, 10; fire 25, 10. Hires 30 x 300 = 9,000;
    # fires 45 x 500 = 22,500; labour (30+40+50+60+35+25) = 240 x 2,000 = 480,000.
    # Total 511,500.
    plan = chase(TEXTBOOK)
    np.testing.assert_allclose(plan.workforce, [30, 40, 50, 60, 35, 25])
    np.testing.assert_allclose(plan.production, TEXTBOOK.demand)
    np.testing.assert_allclose(plan.hires, [0, 10, 10, 10, 0, 0])
    np.testing.assert_allclose(plan.fires, [10, 0, 0, 0, 25, 10])
    np.testing.assert_allclose(plan.inventory, 0.0)
    np.testing.assert_allclose(plan.backorder, 0.0)
    assert plan.costs.hiring == 9000
    assert plan.costs.firing == 22500
    assert plan.costs.labour == 480000
    assert plan.costs.holding == 0
    assert plan.costs.total == 511500


def test_level_without_backorders():
    # Smallest constant crew that never runs short: max of cum demand / cum capacity
    # = max(30, 35, 40, 45, 43, 40) = 45 workers (set by month 4), 900 units a month.
    # Month-end stock: 300, 400, 300, 0, 200, 600 -> 1,800 unit-months x 2 = 3,600.
    # Hire 5 in month 1 = 1,500; labour 45 x 6 x 2,000 = 540,000. Total 545,100.
    plan = level(TEXTBOOK)
    np.testing.assert_allclose(plan.workforce, 45.0)
    np.testing.assert_allclose(plan.production, 900.0)
    np.testing.assert_allclose(plan.inventory, [300, 400, 300, 0, 200, 600])
    np.testing.assert_allclose(plan.backorder, 0.0)
    np.testing.assert_allclose(plan.hires, [5, 0, 0, 0, 0, 0])
    assert plan.costs.holding == 3600
    assert plan.costs.hiring == 1500
    assert plan.costs.labour == 540000
    assert plan.costs.total == 545100


def test_level_at_the_average_rate_backorders_mid_horizon():
    # Rate = 4,800 / 6 = 800 a month = 40 workers (no hiring). Cumulative output minus
    # cumulative demand: +200, +200, 0, -400, -300, 0. Holding (200 + 200) x 2 = 800;
    # backorders (400 + 300) x 10 = 7,000; labour 40 x 6 x 2,000 = 480,000. Total 487,800.
    plan = level(TEXTBOOK, no_backorders=False)
    np.testing.assert_allclose(plan.workforce, 40.0)
    np.testing.assert_allclose(plan.production, 800.0)
    np.testing.assert_allclose(plan.inventory, [200, 200, 0, 0, 0, 0])
    np.testing.assert_allclose(plan.backorder, [0, 0, 0, 400, 300, 0])
    assert plan.costs.holding == 800
    assert plan.costs.backorder == 7000
    assert plan.costs.hiring == plan.costs.firing == 0
    assert plan.costs.total == 487800


def test_level_is_capped_by_max_workforce():
    # A cap of 42 people keeps the crew below the 45 it would need, so backorders remain:
    # output 840 a month; position 240, 280, 120, -240, -100, 240.
    plan = level(AggregateProblem(**{**TEXTBOOK.__dict__, "max_workforce": 42}))
    np.testing.assert_allclose(plan.workforce, 42.0)
    np.testing.assert_allclose(plan.backorder, [0, 0, 0, 240, 100, 0])


class TestWholeWorkersAndUnevenMonths:
    # Demand 100, 130, 90; output per worker 20, 18, 22 a month (working days differ);
    # 5 workers at the start; people come whole, so headcount is rounded up and they work
    # at full rate. Same costs as the textbook case.
    problem = AggregateProblem(
        demand=[100, 130, 90],
        units_per_worker=[20, 18, 22],
        initial_workforce=5,
        hire_cost=300,
        fire_cost=500,
        holding_cost=2,
        wage_per_worker=2000,
        integer_workers=True,
    )

    def test_chase_rounds_up_and_nets_off_the_extra(self):
        # m1: 100 / 20 = 5 -> 5, makes 100, stock 0.
        # m2: 130 / 18 = 7.2 -> 8, makes 144, stock 14.
        # m3: (90 - 14) / 22 = 3.5 -> 4, makes 88, stock 12.
        # Labour 17 x 2,000 = 34,000; hire 3 = 900; fire 4 = 2,000; holding 26 x 2 = 52.
        plan = chase(self.problem)
        np.testing.assert_allclose(plan.workforce, [5, 8, 4])
        np.testing.assert_allclose(plan.production, [100, 144, 88])
        np.testing.assert_allclose(plan.inventory, [0, 14, 12])
        assert plan.costs.total == pytest.approx(36952.0)

    def test_level_rounds_up_the_no_shortage_crew(self):
        # Cum need / cum output per worker: 100/20 = 5, 230/38 = 6.05, 320/60 = 5.3 -> 6.05,
        # rounded up to 7 (6 would make 228 < 230 by month 2). Output 140, 126, 154;
        # stock 40, 36, 100. Labour 21 x 2,000 = 42,000; hire 2 = 600; holding 176 x 2 = 352.
        plan = level(self.problem)
        np.testing.assert_allclose(plan.workforce, 7.0)
        np.testing.assert_allclose(plan.production, [140, 126, 154])
        np.testing.assert_allclose(plan.inventory, [40, 36, 100])
        assert plan.costs.total == pytest.approx(42952.0)


def test_opening_stock_is_used_first():
    # 900 units on hand cover month 1 (600) and 300 of month 2, so chase makes 0 then 500.
    problem = AggregateProblem(**{**TEXTBOOK.__dict__, "initial_inventory": 900})
    plan = chase(problem)
    np.testing.assert_allclose(plan.production, [0, 500, 1000, 1200, 700, 500])
    np.testing.assert_allclose(plan.inventory, [300, 0, 0, 0, 0, 0])


def test_bad_inputs_are_rejected():
    with pytest.raises(PlanningInputError, match="month 1"):
        chase(AggregateProblem(demand=[1, -1], units_per_worker=20, initial_workforce=1))
    with pytest.raises(PlanningInputError, match="units_per_worker"):
        level(AggregateProblem(demand=[1, 1], units_per_worker=0, initial_workforce=1))


def test_lp_agrees_that_level_with_backorders_is_cheapest_here():
    # The same family as an LP: one crewed line, 1 hour a unit and 20 hours a person, so
    # regular pay is 2,000 / 20 = 100 an hour; no overtime. Both heuristic plans are feasible
    # for the LP (headcount is continuous), so its optimum is at most 487,800. It is exactly
    # that: a unit made by an extra person costs 100 in pay (plus 15 hiring), while
    # backordering it costs 10 a month and the longest backlog lasts 2 months; and with
    # 4,800 = 40 x 20 x 6 any smaller crew leaves backlog at the end.
    problem = PlanningProblem(
        requirement=[TEXTBOOK.demand],
        available_hours=[[np.inf] * 6],
        methods=[Method(0, 0, hours_per_unit=1.0, cost_per_unit=0.0)],
        holding_cost=2.0,
        backorder_cost=10.0,
        overtime_allowed=False,
        pools=[
            LabourPool(
                resources=(0,),
                headcount0=40,
                hours_per_person=20.0,
                regular_hour_cost=100.0,
                hire_cost=300.0,
                fire_cost=500.0,
            )
        ],
    )
    plan = solve_plan(problem)
    best_heuristic = min(
        chase(TEXTBOOK).costs.total, level(TEXTBOOK, no_backorders=False).costs.total
    )
    assert plan.costs.total <= best_heuristic + 1e-6
    assert plan.costs.total == pytest.approx(487800.0)
    assert plan.backorder[0, -1] == pytest.approx(0.0, abs=1e-6)
    assert plan.production.sum() == pytest.approx(4800.0)
