"""From master data to the engine's arrays: sites, crews, calendars, scenarios and costs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sop_capacity.planning import solve_plan
from sop_capacity.planning_input import (
    CapacityModel,
    CostRates,
    MasterData,
    ScenarioParams,
    build_model,
    safety_stock_cushion,
)
from sop_capacity.production_plans.models import Strategy
from sop_capacity.production_plans.strategies import run_strategy
from sop_capacity.supply import requirements_frame
from sop_shared.problems import Unprocessable


def frame(rows: list[dict], columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=columns)


def master(
    *,
    resources: list[dict],
    routings: list[dict],
    calendars: list[dict] = (),
    workforce: list[dict] = (),
    products: list[dict] = (),
    scenario: ScenarioParams | None = None,
) -> MasterData:
    return MasterData(
        resources=frame(
            [
                {"labour_pool": None, "overtime_hour_cost": 0.0, "kind": "line", **r}
                for r in resources
            ],
            ["code", "site", "kind", "labour_pool", "overtime_hour_cost"],
        ),
        calendars=frame(
            [{"max_overtime_hours": None, **c} for c in calendars],
            ["resource", "month", "available_hours", "max_overtime_hours"],
        ),
        routings=frame(
            [{"cost_per_unit": 1.0, "priority": 1, **r} for r in routings],
            ["product", "resource", "hours_per_unit", "cost_per_unit", "priority"],
        ),
        workforce=frame(
            list(workforce),
            [
                "pool",
                "headcount",
                "hours_per_person",
                "max_overtime_share",
                "regular_hour_cost",
                "overtime_hour_cost",
                "hire_cost",
                "fire_cost",
                "min_headcount",
                "max_headcount",
            ],
        ),
        products=frame(list(products), ["code", "price", "cost"]),
        scenario=scenario or ScenarioParams(),
    )


def requirements(*rows: tuple[str, str, str, float]) -> pd.DataFrame:
    return requirements_frame(
        [{"product": p, "site": s, "month": m, "quantity": q} for p, s, m, q in rows],
        source="test",
    )


def test_methods_follow_the_site_except_for_co_packers() -> None:
    data = master(
        resources=[
            {"code": "LA", "site": "A"},
            {"code": "LB", "site": "B"},
            {"code": "CO", "site": "X", "kind": "copacker"},
        ],
        routings=[
            {"product": "P", "resource": "LA", "hours_per_unit": 1},
            {"product": "P", "resource": "LB", "hours_per_unit": 1},
            {"product": "P", "resource": "CO", "hours_per_unit": 0, "priority": 2},
        ],
    )
    model = build_model(
        requirements(("P", "A", "2027-01", 5), ("P", "B", "2027-02", 5)), data, rates=CostRates()
    )
    assert model.pair_names == ["P@A", "P@B"]
    made_where = sorted(zip(model.methods["p"], model.methods["resource"], strict=True))
    assert made_where == [(0, "CO"), (0, "LA"), (1, "CO"), (1, "LB")]
    # Months are the full range, the requirement lands in its cell.
    assert model.months == ["2027-01", "2027-02"]
    np.testing.assert_array_equal(model.requirement, [[5, 0], [0, 5]])


def test_calendar_gaps_crews_and_scenario() -> None:
    data = master(
        resources=[
            {"code": "CREW", "site": "A", "kind": "labour_pool", "labour_pool": "CREW"},
            {"code": "L1", "site": "A", "labour_pool": "CREW"},
            {"code": "L2", "site": "A"},
        ],
        calendars=[
            {"resource": "L1", "month": "2027-01", "available_hours": 100},
            {"resource": "L2", "month": "2027-01", "available_hours": 80, "max_overtime_hours": 8},
        ],
        routings=[
            {"product": "P", "resource": "L1", "hours_per_unit": 1},
            {"product": "Q", "resource": "L2", "hours_per_unit": 1},
        ],
        workforce=[
            {
                "pool": "CREW",
                "headcount": 3,
                "hours_per_person": 150,
                "max_overtime_share": 0.1,
                "regular_hour_cost": 20,
                "overtime_hour_cost": 30,
                "hire_cost": 1,
                "fire_cost": 2,
                "min_headcount": 0,
                "max_headcount": None,
            }
        ],
        scenario=ScenarioParams(
            overtime_allowed=False,
            unavailable=[{"resource": "L2", "months": ["2027-02"]}, {"resource": "GHOST"}],
        ),
    )
    model = build_model(
        requirements(("P", "A", "2027-01", 1), ("Q", "A", "2027-02", 1)), data, rates=CostRates()
    )
    # Rows are sorted by code: CREW, L1, L2. The crew has no calendar: only heads limit it;
    # L1 (crewed) has no February calendar either; L2 is off in February by the scenario.
    np.testing.assert_array_equal(model.available, [[np.inf, np.inf], [100, np.inf], [80, 0]])
    np.testing.assert_array_equal(model.overtime_max, [[np.inf, np.inf], [np.inf, np.inf], [8, 0]])
    np.testing.assert_array_equal(model.unavailable[2], [False, True])
    [pool] = model.pools
    assert pool.resources == (0, 1)
    assert pool.max_headcount == np.inf
    assert model.overtime_allowed is False
    assert any("GHOST" in w for w in model.warnings)
    np.testing.assert_array_equal(model.capacity_limit()[2], [80, 0])


def test_costs_come_from_price_cost_and_fall_back_to_the_method() -> None:
    data = master(
        resources=[{"code": "L", "site": "A"}],
        calendars=[{"resource": "L", "month": "2027-01", "available_hours": 10}],
        routings=[
            {"product": "P", "resource": "L", "hours_per_unit": 1, "cost_per_unit": 4},
            {"product": "Q", "resource": "L", "hours_per_unit": 1, "cost_per_unit": 4},
            {"product": "R", "resource": "L", "hours_per_unit": 1, "cost_per_unit": 0},
        ],
        products=[{"code": "P", "price": 40, "cost": 10}, {"code": "Q", "price": 0, "cost": 0}],
    )
    model = build_model(
        requirements(("P", "A", "2027-01", 1), ("Q", "A", "2027-01", 1), ("R", "A", "2027-01", 1)),
        data,
        rates=CostRates(holding_rate_per_month=0.1, backorder_rate_per_month=0.5),
    )
    # P: 0.1 x 10, 0.5 x 40. Q has no price or cost: its method cost 4 stands in.
    # R has nothing at all: no holding cost, backorder at the floor of 1.
    np.testing.assert_allclose(model.holding_cost, [1.0, 0.4, 0.0])
    np.testing.assert_allclose(model.backorder_cost, [20.0, 2.0, 1.0])


def test_no_requirements_is_refused() -> None:
    data = master(resources=[{"code": "L", "site": "A"}], routings=[])
    with pytest.raises(Unprocessable, match="Nothing to plan"):
        build_model(requirements(("P", "A", "2027-01", 0)), data, rates=CostRates())


def test_requirement_rows_are_summed_and_checked() -> None:
    rows = requirements(("P", "A", "2027-01", 2), ("P", "A", "2027-01", 3))
    assert rows["quantity"].tolist() == [5.0]
    with pytest.raises(Unprocessable) as caught:
        requirements_frame(
            [{"product": "", "site": "A", "month": "2027-13", "quantity": "x"}], source="plan 9"
        )
    fields = [e.field for e in caught.value.errors]
    assert fields == ["product", "month", "quantity"]
    assert "plan 9" in caught.value.detail


def test_lot_rules_come_with_the_requirements_and_default_to_whole_units() -> None:
    rows = requirements_frame(
        [
            {"product": "P", "site": "A", "month": "2027-01", "quantity": 5, "moq": 10},
            {"product": "P", "site": "A", "month": "2027-02", "quantity": 5, "lot_multiple": 6},
            {"product": "Q", "site": "A", "month": "2027-01", "quantity": 5},
        ],
        source="plan 9",
    )
    assert rows[["moq", "lot_multiple"]].to_numpy().tolist() == [[10, 0], [0, 6], [0, 0]]
    with pytest.raises(Unprocessable) as caught:
        requirements_frame(
            [{"product": "P", "site": "A", "month": "2027-01", "quantity": 1, "moq": -1}],
            source="plan 9",
        )
    assert [e.field for e in caught.value.errors] == ["moq"]


class TestHeuristicsOnTheModel:
    def model(self) -> CapacityModel:
        # Two products on one crewed line; the crew of 2 gives 100 h a person.
        data = master(
            resources=[
                {"code": "CREW", "site": "A", "kind": "labour_pool", "labour_pool": "CREW"},
                {"code": "L", "site": "A", "labour_pool": "CREW"},
            ],
            routings=[
                {"product": "P", "resource": "L", "hours_per_unit": 1},
                {"product": "Q", "resource": "L", "hours_per_unit": 2},
            ],
            workforce=[
                {
                    "pool": "CREW",
                    "headcount": 2,
                    "hours_per_person": 100,
                    "max_overtime_share": 0,
                    "regular_hour_cost": 0,
                    "overtime_hour_cost": 0,
                    "hire_cost": 0,
                    "fire_cost": 0,
                    "min_headcount": 0,
                    "max_headcount": None,
                }
            ],
        )
        return build_model(
            requirements(
                ("P", "A", "2027-01", 100),
                ("Q", "A", "2027-01", 50),
                ("P", "A", "2027-02", 300),
                ("Q", "A", "2027-02", 50),
            ),
            data,
            rates=CostRates(),
        )

    def test_chase_makes_each_month_what_it_needs(self) -> None:
        # Hours: January 100 + 100 = 200 (2 people), February 300 + 100 = 400 (4 people).
        plan = run_strategy(self.model(), Strategy.chase)
        np.testing.assert_allclose(plan.production, [[100, 300], [50, 50]])
        np.testing.assert_allclose(plan.headcount, [[2, 4]])
        np.testing.assert_allclose(plan.hours_used[1], [200, 400])

    def test_level_shares_one_rate_by_horizon_share(self) -> None:
        # Crew: max(200 / 100, 600 / 200) = 3 people, 300 h a month. P has 400 of the 600
        # horizon hours: 200 h = 200 units a month; Q 100 h = 50 units a month.
        plan = run_strategy(self.model(), Strategy.level)
        np.testing.assert_allclose(plan.headcount, [[3, 3]])
        np.testing.assert_allclose(plan.production, [[200, 200], [50, 50]])
        np.testing.assert_allclose(plan.inventory, [[100, 0], [0, 0]])

    def test_a_product_without_a_method_is_backordered_by_every_strategy(self) -> None:
        # Q has no routing. Default rates, no product prices: P costs its method's 1 a unit
        # (holding 0.02, backorder 0.25); Q has nothing to cost it by: backorder at the floor
        # of 1 a unit-month and no ending-backorder charge. Q's backlog is 50 then 100:
        # 150 in every strategy. P: chase and the LP make 100 + 300 on time (400, the crew
        # is free); level makes 200 + 200 with 100 ahead in January (holding 2).
        data = master(
            resources=[
                {"code": "CREW", "site": "A", "kind": "labour_pool", "labour_pool": "CREW"},
                {"code": "L", "site": "A", "labour_pool": "CREW"},
            ],
            routings=[{"product": "P", "resource": "L", "hours_per_unit": 1}],
            workforce=[TestHeuristicsOnTheModel.CREW],
        )
        model = build_model(self.REQUIREMENTS, data, rates=CostRates())
        assert model.unplannable[["p", "product", "site", "requirement"]].to_dict("records") == [
            {"p": 1, "product": "Q", "site": "A", "requirement": 100.0}
        ]
        assert model.warnings == [
            "Q@A cannot be made and is planned as backorder only (100 units required): "
            "no production method at site 'A': no routing of 'Q'"
        ]
        expected = {
            Strategy.optimal: ([100, 300], 550.0),
            Strategy.chase: ([100, 300], 550.0),
            Strategy.level: ([200, 200], 552.0),
        }
        for strategy, (made, total) in expected.items():
            plan = run_strategy(model, strategy)
            np.testing.assert_allclose(plan.production, [made, [0, 0]], atol=1e-9)
            np.testing.assert_allclose(plan.backorder[1], [50, 100], atol=1e-9)
            np.testing.assert_allclose(plan.backorder[0], [0, 0], atol=1e-9)
            assert plan.costs.backorder == pytest.approx(150.0), strategy
            assert plan.costs.total == pytest.approx(total), strategy
            assert plan.warnings == [], strategy  # the engine's own note is the model's

    def test_a_dead_preferred_method_gives_way_to_a_live_alternate(self) -> None:
        # P prefers M (priority 1) but M has no calendar: the heuristics make P on L
        # (priority 2, 100 h). Q is routed on M only: unplannable, M named with its months.
        data = master(
            resources=[{"code": "L", "site": "A"}, {"code": "M", "site": "A"}],
            calendars=[
                {"resource": "L", "month": m, "available_hours": 100}
                for m in ("2027-01", "2027-02")
            ],
            routings=[
                {"product": "P", "resource": "M", "hours_per_unit": 1, "priority": 1},
                {"product": "P", "resource": "L", "hours_per_unit": 1, "priority": 2},
                {"product": "Q", "resource": "M", "hours_per_unit": 1},
            ],
        )
        model = build_model(
            requirements(
                ("P", "A", "2027-01", 50), ("P", "A", "2027-02", 50), ("Q", "A", "2027-01", 10)
            ),
            data,
            rates=CostRates(),
        )
        # Methods in priority order per product: P on M, P on L, Q on M.
        np.testing.assert_array_equal(model.usable_methods(), [False, True, False])
        [reason] = model.unplannable["reason"]
        assert reason == (
            "no usable production method: resource 'M' has no hours in any month "
            "(no calendar for 2027-01..2027-02 (2 months))"
        )
        for strategy in Strategy:
            plan = run_strategy(model, strategy)
            np.testing.assert_allclose(plan.production_by_method, [[0, 0], [50, 50], [0, 0]])
            np.testing.assert_allclose(plan.hours_used, [[50, 50], [0, 0]])
            np.testing.assert_allclose(plan.backorder[1], [10, 10])

    CREW = {
        "pool": "CREW",
        "headcount": 2,
        "hours_per_person": 100,
        "max_overtime_share": 0,
        "regular_hour_cost": 0,
        "overtime_hour_cost": 0,
        "hire_cost": 0,
        "fire_cost": 0,
        "min_headcount": 0,
        "max_headcount": None,
    }
    REQUIREMENTS = requirements(
        ("P", "A", "2027-01", 100),
        ("Q", "A", "2027-01", 50),
        ("P", "A", "2027-02", 300),
        ("Q", "A", "2027-02", 50),
    )


def test_why_a_resource_gives_no_hours_month_by_month() -> None:
    # L1: its January calendar gives 0 hours, February is switched off by the scenario.
    # L2 is staffed by a crew that may have no people, so its missing calendar is no help.
    # L3 has 0 regular hours but 5 overtime hours that this run does not allow.
    data = master(
        resources=[
            {"code": "CREW", "site": "A", "kind": "labour_pool", "labour_pool": "CREW"},
            {"code": "L1", "site": "A"},
            {"code": "L2", "site": "A", "labour_pool": "CREW"},
            {"code": "L3", "site": "A"},
        ],
        calendars=[
            {"resource": "L1", "month": "2027-01", "available_hours": 0},
            {"resource": "L1", "month": "2027-02", "available_hours": 100},
            {"resource": "L3", "month": "2027-01", "available_hours": 0, "max_overtime_hours": 5},
        ],
        routings=[
            {"product": "P", "resource": "L1", "hours_per_unit": 1},
            {"product": "Q", "resource": "L2", "hours_per_unit": 1},
            {"product": "R", "resource": "L3", "hours_per_unit": 1},
        ],
        workforce=[{**TestHeuristicsOnTheModel.CREW, "headcount": 0, "max_headcount": 0}],
        scenario=ScenarioParams(unavailable=[{"resource": "L1", "months": ["2027-02"]}]),
    )
    model = build_model(
        requirements(("P", "A", "2027-01", 5), ("Q", "A", "2027-02", 5), ("R", "A", "2027-02", 5)),
        data,
        rates=CostRates(),
        overtime_allowed=False,
    )
    reasons = dict(zip(model.unplannable["product"], model.unplannable["reason"], strict=True))
    assert reasons == {
        "P": "no usable production method: resource 'L1' has no hours in any month "
        "(switched off by the scenario in 2027-02; its calendar gives 0 hours in 2027-01)",
        "Q": "no usable production method: resource 'L2' has no hours in any month "
        "(its crew 'CREW' may have no people (max_headcount 0))",
        "R": "no usable production method: resource 'L3' has no hours in any month "
        "(no calendar for 2027-02; its calendar gives 0 hours in 2027-01; "
        "overtime is not allowed in this run)",
    }
    # The same products with overtime allowed: R can use L3's 5 overtime hours in January.
    model = build_model(
        requirements(("P", "A", "2027-01", 5), ("Q", "A", "2027-02", 5), ("R", "A", "2027-02", 5)),
        data,
        rates=CostRates(),
    )
    assert model.unplannable["product"].tolist() == ["P", "Q"]
    plan = run_strategy(model, Strategy.optimal)
    # P and Q wait all horizon; R is made ahead in January's overtime.
    np.testing.assert_allclose(plan.production, [[0, 0], [0, 0], [5, 0]], atol=1e-9)
    np.testing.assert_allclose(plan.backorder, [[5, 5], [0, 5], [0, 0]], atol=1e-9)


class TestSafetyStockCushion:
    """The part of supply's requirement that only rebuilds safety stock (a soft target)."""

    def test_a_build_from_nothing_is_the_first_months_top_up(self) -> None:
        # Demand 50 a month, target 30, nothing on hand: supply asks 80, 50, 50 and closes
        # at 30 each month. The cushion is 30 from January on, so the LP sees 50, 50, 50.
        k, k0 = safety_stock_cushion(
            np.array([[80.0, 50, 50]]),
            np.array([[30.0, 30, 30]]),
            np.array([[30.0, 30, np.nan]]),
            np.array([0.0]),
        )
        np.testing.assert_allclose(k, [[30, 30, 30]])
        np.testing.assert_allclose(k0, [0])

    def test_stock_above_the_target_is_not_counted_as_cushion(self) -> None:
        # 100 on hand, demand 30 a month, target 20 then 50 from February: supply asks
        # 0, 10, 30 and closes at 70, 50, 50. k0 = min(100, 20) = 20; the cushion grows only
        # by what is made: min(20, 20 + 0) = 20, min(50, 20 + 10) = 30, min(50, 30 + 30) = 50.
        # Requirement seen by the LP: 0 - 0, 10 - 10, 30 - 20 = 0, 0, 10. Making nothing in
        # March leaves 20 on hand (50 - 30): 30 below target, no demand unmet; the position
        # -30 is within the cushion of 50, so it is a shortfall, not a backorder.
        k, k0 = safety_stock_cushion(
            np.array([[0.0, 10, 30]]),
            np.array([[20.0, 50, 50]]),
            np.array([[70.0, 50, np.nan]]),
            np.array([100.0]),
        )
        np.testing.assert_allclose(k, [[20, 30, 50]])
        np.testing.assert_allclose(k0, [20])

    def test_lot_size_excess_stays_hard_and_a_short_supply_plan_caps_it(self) -> None:
        # Row 0: target 10, lots of 100 for demand 40 a month: supply asks 100, 0, 100 and
        # closes at 60, 20, 80. Only the 10 of target is soft: cushion 10, 10, 10.
        # Row 1: supply's own plan ends February at 4 (below its target of 10): the cushion
        # there is 4, the stock that plan really has.
        k, _ = safety_stock_cushion(
            np.array([[100.0, 0, 100], [10, 0, 6]]),
            np.array([[10.0, 10, 10], [10, 10, 10]]),
            np.array([[60.0, 20, np.nan], [10, 4, np.nan]]),
            np.array([0.0, np.nan]),
        )
        np.testing.assert_allclose(k, [[10, 10, 10], [10, 4, 10]])

    def model(self) -> CapacityModel:
        rows = [
            {
                "product": "P",
                "site": "A",
                "month": m,
                "quantity": q,
                "safety_stock": 30,
                "opening_stock": o,
            }
            for m, q, o in (("2027-01", 80, 0), ("2027-02", 50, 30), ("2027-03", 50, 30))
        ]
        data = master(
            resources=[{"code": "L", "site": "A"}],
            calendars=[
                {"resource": "L", "month": m, "available_hours": h}
                for m, h in (("2027-01", 60), ("2027-02", 50), ("2027-03", 90))
            ],
            routings=[{"product": "P", "resource": "L", "hours_per_unit": 1}],
            products=[{"code": "P", "price": 40, "cost": 10}],
        )
        rates = CostRates(holding_rate_per_month=0.1, backorder_rate_per_month=0.25)
        return build_model(requirements_frame(rows, source="test"), data, rates=rates)

    def test_the_lp_sees_demand_and_the_cushion_as_a_soft_target(self) -> None:
        model = self.model()
        problem = model.problem()
        np.testing.assert_allclose(model.cushion, [[30, 30, 30]])
        np.testing.assert_allclose(problem.requirement, [[50, 50, 50]])
        np.testing.assert_allclose(problem.safety_stock, [[30, 30, 30]])
        np.testing.assert_allclose(problem.opening_inventory, [0])
        # Shortfall at half the backorder cost: 0.5 x 0.25 x 40 = 5 a unit-month.
        np.testing.assert_allclose(problem.shortfall_cost, [5.0])

    def test_positions_split_into_ahead_shortfall_and_backorder(self) -> None:
        # Made 60, 40, 100 against 80, 50, 50: position -20, -30, +20 against a cushion of
        # 30: 20 and 30 short of safety stock (no backorder), then 20 built ahead.
        # With 40, 20, 50 instead: -40, -70, -70: cushion 30 gone, 10, 40, 40 backordered.
        model = self.model()
        pos = model.positions(np.array([[60.0, 40, 100]]))
        np.testing.assert_allclose(pos.shortfall, [[20, 30, 0]])
        np.testing.assert_allclose(pos.backorder, 0.0)
        np.testing.assert_allclose(pos.ahead, [[0, 0, 20]])
        np.testing.assert_allclose(pos.stock, [[10, 0, 50]])
        pos = model.positions(np.array([[40.0, 20, 50]]))
        np.testing.assert_allclose(pos.shortfall, [[30, 30, 30]])
        np.testing.assert_allclose(pos.backorder, [[10, 40, 40]])

    def test_short_capacity_takes_the_top_up_first_and_rebuilds_it_when_it_can(self) -> None:
        # Hours 60, 50, 90 at 1 h a unit (cost 1); demand 50 a month; target 30 from January.
        # Holding 0.1 x 10 = 1, backorder 0.25 x 40 = 10, shortfall 5 a unit-month.
        # January makes 60 (10 of the 30 top-up), February 50 (demand only), March 50 + 20
        # to finish the cushion (making 20 at 1 + holding 1 beats 5 of shortfall).
        # Shortfall 20 + 20 = 40 unit-months x 5 = 200; stock held 10, 10, 30 = 50 x 1;
        # production 60 + 50 + 70 = 180 x 1. Total 430; no backorder. Treating the top-up as
        # demand (as before) would have backordered 20 units for two months at 10: 400
        # instead of 200.
        plan = solve_plan(self.model().problem())
        np.testing.assert_allclose(plan.production, [[60, 50, 70]], atol=1e-6)
        np.testing.assert_allclose(plan.backorder, 0.0, atol=1e-6)
        np.testing.assert_allclose(plan.shortfall, [[20, 20, 0]], atol=1e-6)
        assert plan.costs.shortfall == pytest.approx(200.0)
        assert plan.costs.holding == pytest.approx(50.0)
        assert plan.costs.total == pytest.approx(430.0)


def test_a_product_whose_requirement_only_rebuilds_safety_stock_is_not_unmet_demand() -> None:
    # Q has no routing. Its January requirement of 10 only lifts stock from 0 to its safety
    # stock of 10 (supply's closing is 10: February opens with 10), February needs nothing.
    # The LP sees 10 - (10 - 0) = 0 to make: Q falls short of its target (a shortfall), but
    # no demand waits, so it is not listed as unmakeable demand.
    data = master(
        resources=[{"code": "L", "site": "A"}],
        routings=[{"product": "P", "resource": "L", "hours_per_unit": 1}],
        calendars=[{"resource": "L", "month": "2027-01", "available_hours": 10}],
    )
    rows = [
        {"product": "P", "site": "A", "month": "2027-01", "quantity": 5},
        {
            "product": "Q",
            "site": "A",
            "month": "2027-01",
            "quantity": 10,
            "safety_stock": 10,
            "opening_stock": 0,
        },
        {
            "product": "Q",
            "site": "A",
            "month": "2027-02",
            "quantity": 0,
            "safety_stock": 10,
            "opening_stock": 10,
        },
    ]
    model = build_model(requirements_frame(rows, source="test"), data, rates=CostRates())
    assert model.unplannable.empty
    assert not any("Q@A" in w for w in model.warnings)
