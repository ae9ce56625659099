"""Chase and level: on a published aggregate-planning example (Heizer & Render's roofing
supplier, the book's own figures) and on small invented cases worked by hand.

The invented family (``SMALL``): six months of demand, each worker makes 20 units a month,
40 workers at the start, no opening stock. Hire 300 and fire 500 per worker, holding 2 and
backorder 10 per unit-month on month-end positions, regular pay 2,000 per worker-month.

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

SMALL = AggregateProblem(
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
    plan = chase(SMALL)
    np.testing.assert_allclose(plan.workforce, [30, 40, 50, 60, 35, 25])
    np.testing.assert_allclose(plan.production, SMALL.demand)
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
    plan = level(SMALL)
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
    plan = level(SMALL, no_backorders=False)
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
    plan = level(AggregateProblem(**{**SMALL.__dict__, "max_workforce": 42}))
    np.testing.assert_allclose(plan.workforce, 42.0)
    np.testing.assert_allclose(plan.backorder, [0, 0, 0, 240, 100, 0])


class TestWholeWorkersAndUnevenMonths:
    # Demand 100, 130, 90; output per worker 20, 18, 22 a month (working days differ);
    # 5 workers at the start; people come whole, so headcount is rounded up and they work
    # at full rate. Same costs as SMALL.
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


class TestMakeToNeed:
    # SMALL with a floor of 45 people (900 units a month): the textbook crew at full rate
    # makes 5,400 for a demand of 4,800; made to need, the crew is paid and makes only
    # what is needed.
    floor = AggregateProblem(**{**SMALL.__dict__, "min_workforce": 45, "make_to_need": True})

    def test_chase_makes_the_net_requirement_and_pays_the_idle_floor(self):
        # Workers wanted 30, 40, 50, 60, 35, 25 -> 45, 45, 50, 60, 45, 45 (hire 5, 5, 10;
        # fire 15). Output = demand; labour 290 x 2,000 = 580,000; hiring 20 x 300 = 6,000;
        # firing 15 x 500 = 7,500. Total 593,500.
        plan = chase(self.floor)
        np.testing.assert_allclose(plan.workforce, [45, 45, 50, 60, 45, 45])
        np.testing.assert_allclose(plan.production, SMALL.demand)
        np.testing.assert_allclose(plan.inventory, 0.0)
        assert plan.costs.labour == 580_000
        assert plan.costs.hiring == 6_000
        assert plan.costs.firing == 7_500
        assert plan.costs.total == 593_500
        full = chase(AggregateProblem(**{**self.floor.__dict__, "make_to_need": False}))
        assert full.production.sum() > 5_000  # the old reading: the floor makes stock

    def test_level_makes_the_horizon_requirement_evenly(self):
        # 4,800 / 6 = 800 a month (40 people's output) by a crew of 45: paid for 45, makes
        # 800. Positions +200, +200, 0, -400, -300, 0: holding 800, backorders 7,000;
        # hire 5 = 1,500; labour 45 x 6 x 2,000 = 540,000. Total 549,300.
        plan = level(self.floor, no_backorders=False)
        np.testing.assert_allclose(plan.workforce, 45.0)
        np.testing.assert_allclose(plan.production, 800.0)
        assert plan.production.sum() == 4_800
        np.testing.assert_allclose(plan.backorder, [0, 0, 0, 400, 300, 0])
        assert plan.costs.total == 549_300

    def test_a_crew_without_work_goes_to_its_floor_and_is_paid(self):
        idle = AggregateProblem(
            demand=[0, 0, 0],
            units_per_worker=20,
            initial_workforce=5,
            fire_cost=500,
            wage_per_worker=2000,
            min_workforce=2,
            make_to_need=True,
        )
        for plan in (chase(idle), level(idle, no_backorders=False)):
            np.testing.assert_allclose(plan.workforce, 2.0)
            np.testing.assert_allclose(plan.production, 0.0)
            assert plan.costs.labour == 12_000
            assert plan.costs.firing == 1_500


def test_opening_stock_is_used_first():
    # 900 units on hand cover month 1 (600) and 300 of month 2, so chase makes 0 then 500.
    problem = AggregateProblem(**{**SMALL.__dict__, "initial_inventory": 900})
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
        requirement=[SMALL.demand],
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
    best_heuristic = min(chase(SMALL).costs.total, level(SMALL, no_backorders=False).costs.total)
    assert plan.costs.total <= best_heuristic + 1e-6
    assert plan.costs.total == pytest.approx(487800.0)
    assert plan.backorder[0, -1] == pytest.approx(0.0, abs=1e-6)
    assert plan.production.sum() == pytest.approx(4800.0)


class TestHeizerRenderRoofingSupplier:
    """Heizer & Render, *Operations Management* (Pearson), chapter "Aggregate Planning and
    S&OP" (ch. 13 in recent editions): the roofing-supplier example, Plans 1-3.

        month            Jan   Feb   Mar   Apr   May   Jun   total
        demand           900   700   800 1,200 1,500 1,100   6,200
        production days   22    18    21    21    22    20     124

    Holding 5 per unit-month; pay 10 an hour (80 a day), 1.6 labour-hours a unit, so a unit
    of daily rate costs 16 a working day; raising the daily rate costs 300 a unit of rate
    (hiring, training), lowering it 600 (layoffs); subcontracting 20 a unit (Plan 2).

    Mapping: one "worker" is one unit of daily production rate (1/5 of a person at 8 h a
    day and 1.6 h a unit), so a worker makes ``days`` units a month and is paid 16 x days;
    hire 300, fire 600. The book's rates are then headcounts.
    """

    DEMAND = [900, 700, 800, 1200, 1500, 1100]
    DAYS = np.array([22, 18, 21, 21, 22, 20], dtype=float)

    def problem(self, initial_rate: float, **kw: object) -> AggregateProblem:
        return AggregateProblem(
            demand=self.DEMAND,
            units_per_worker=self.DAYS,
            initial_workforce=initial_rate,
            hire_cost=300,
            fire_cost=600,
            holding_cost=5,
            wage_per_worker=16 * self.DAYS,
            **kw,  # type: ignore[arg-type]
        )

    def test_the_data_adds_up_as_the_book_says(self):
        assert sum(self.DEMAND) == 6200
        assert self.DAYS.sum() == 124
        assert 6200 / 124 == 50  # Plan 1's rate
        assert 10 * 80 * 124 == 6200 * 1.6 * 10 == 99_200  # Plan 1 wages = Plan 3 basic cost

    def test_plan_1_level_is_the_books_plan_to_the_unit(self):
        # The no-shortage rate is max over months of cum demand / cum days:
        # 900/22 = 40.9, 1,600/40 = 40, 2,400/61 = 39.3, 3,600/82 = 43.9, 5,100/104 = 49.0,
        # 6,200/124 = 50 -> 50 a day (10 people). Output 50 x days = 1,100, 900, 1,050,
        # 1,050, 1,100, 1,000; month-end stock 200, 400, 650, 500, 100, 0 = 1,850 units
        # carried x 5 = 9,250; wages 50 x 16 x 124 = 99,200 (10 x 80 x 124); no rate change
        # from the 50 a day it starts at. Total 108,450, the book's Plan 1.
        plan = level(self.problem(initial_rate=50))
        np.testing.assert_allclose(plan.workforce, 50.0)
        np.testing.assert_allclose(plan.production, [1100, 900, 1050, 1050, 1100, 1000])
        np.testing.assert_allclose(plan.inventory, [200, 400, 650, 500, 100, 0])
        np.testing.assert_allclose(plan.backorder, 0.0)
        assert plan.inventory.sum() == 1850
        assert plan.costs.holding == 9250
        assert plan.costs.labour == 99_200
        assert plan.costs.hiring == plan.costs.firing == 0
        assert plan.costs.total == 108_450

    def test_plan_3_chase_at_the_exact_daily_rates(self):
        # Rate = demand / days: 900/22, 700/18, 800/21, 1200/21, 1500/22, 1100/20
        # (40.91, 38.89, 38.10, 57.14, 68.18, 55). Starting at January's rate (the book
        # charges no change in the first month), increases are April 400/21 and May
        # 1500/22 - 1200/21; decreases February 900/22 - 700/18, March 700/18 - 800/21 and
        # June 1500/22 - 55. Hiring 300 x (1500/22 - 800/21) = 300 x 13,900/462 = 9,025.97;
        # layoffs 600 x (2400/22 - 800/21 - 55) = 600 x 7,390/462 = 9,597.40; wages
        # 16 x 6,200 = 99,200 (output = demand, no stock). Total 117,823.38. The book's
        # 117,800 (9,000 + 9,600) rounds the rates to whole units but still counts exactly
        # 6,200 units of production; see the whole-unit test below.
        plan = chase(self.problem(initial_rate=900 / 22))
        np.testing.assert_allclose(plan.workforce, np.array(self.DEMAND) / self.DAYS)
        np.testing.assert_allclose(plan.production, self.DEMAND)
        np.testing.assert_allclose(plan.inventory, 0.0, atol=1e-9)
        np.testing.assert_allclose(plan.backorder, 0.0, atol=1e-9)
        assert plan.costs.labour == pytest.approx(99_200)
        assert plan.costs.hiring == pytest.approx(4_170_000 / 462)
        assert plan.costs.firing == pytest.approx(4_434_000 / 462)
        assert plan.costs.total == pytest.approx(99_200 + 8_604_000 / 462)
        assert plan.costs.total == pytest.approx(117_823.38, abs=0.01)

    def test_plan_3_chase_in_whole_units_gives_the_books_change_costs(self):
        # Whole units of rate, rounded up, netting the small surplus into the next month:
        # Jan 900/22 = 40.9 -> 41 (902, +2); Feb 698/18 = 38.8 -> 39 (702, +4);
        # Mar 796/21 = 37.9 -> 38 (798, +2); Apr 1,198/21 = 57.05 -> 58 (1,218, +20);
        # May 1,480/22 = 67.3 -> 68 (1,496, +16); Jun 1,084/20 = 54.2 -> 55 (1,100, +16).
        # The book's 41, 39, 38, 57, 68, 55 differ only in April, where it rounds 57.1 down
        # (57 x 21 = 1,197 < 1,200). Increases 20 + 10 = 30 x 300 = 9,000 and decreases
        # 2 + 1 + 13 = 16 x 600 = 9,600: the book's figures. Wages 16 x 6,216 = 99,456;
        # stock 2 + 4 + 2 + 20 + 16 + 16 = 60 x 5 = 300. Total 118,356.
        plan = chase(self.problem(initial_rate=41, integer_workers=True))
        np.testing.assert_allclose(plan.workforce, [41, 39, 38, 58, 68, 55])
        np.testing.assert_allclose(plan.production, [902, 702, 798, 1218, 1496, 1100])
        np.testing.assert_allclose(plan.inventory, [2, 4, 2, 20, 16, 16])
        np.testing.assert_allclose(plan.hires, [0, 0, 0, 20, 10, 0])
        np.testing.assert_allclose(plan.fires, [0, 2, 1, 0, 0, 13])
        assert plan.costs.hiring == 9_000
        assert plan.costs.firing == 9_600
        assert plan.costs.labour == 99_456
        assert plan.costs.holding == 300
        assert plan.costs.total == 118_356

    def lp(self, initial_rate: float, **pool: float) -> PlanningProblem:
        # The same family as an LP: an in-house line whose crew is the daily rate (a worker
        # gives ``days`` hours and a unit takes 1 hour, paid 16 an hour) and a subcontractor
        # (no hours, 20 a unit). No overtime; stockouts are not allowed in the book, so a
        # backorder costs far more than subcontracting.
        return PlanningProblem(
            requirement=[self.DEMAND],
            available_hours=[[np.inf] * 6, [0.0] * 6],
            methods=[Method(0, 0, 1.0, 0.0), Method(0, 1, 0.0, 20.0, priority=2)],
            holding_cost=5.0,
            backorder_cost=1_000.0,
            overtime_allowed=False,
            pools=[
                LabourPool(
                    resources=(0,),
                    headcount0=initial_rate,
                    hours_per_person=self.DAYS,
                    regular_hour_cost=16.0,
                    hire_cost=300.0,
                    fire_cost=600.0,
                    **pool,
                )
            ],
        )

    def test_plan_2_is_the_lp_with_the_in_house_rate_pinned_at_38(self):
        # Plan 2: 38 a day in house (7.6 people), the rest subcontracted. In-house output
        # 38 x days = 836, 684, 798, 798, 836, 760 (4,712), always below demand, so every
        # in-house unit is used and the gaps 64, 16, 2, 402, 664, 340 (1,488) are bought in
        # the month they are needed (buying earlier only adds holding). Wages
        # 38 x 16 x 124 = 75,392; subcontracting 1,488 x 20 = 29,760. Total 105,152.
        plan = solve_plan(self.lp(38.0, min_headcount=38.0, max_headcount=38.0))
        np.testing.assert_allclose(
            plan.production_by_method,
            [[836, 684, 798, 798, 836, 760], [64, 16, 2, 402, 664, 340]],
            atol=1e-6,
        )
        assert plan.costs.labour == pytest.approx(75_392)
        assert plan.costs.production == pytest.approx(29_760)
        assert plan.costs.holding == pytest.approx(0.0, abs=1e-6)
        assert plan.costs.total == pytest.approx(105_152)

    def test_the_free_lp_is_no_dearer_than_plan_2(self):
        # With the rate free to move (from 38), Plan 2 is one feasible plan among many.
        plan = solve_plan(self.lp(38.0))
        assert plan.costs.total <= 105_152 + 1e-6
        assert plan.production.sum() == pytest.approx(6200)
