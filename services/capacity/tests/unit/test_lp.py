"""Production-planning LP on instances small enough to solve by hand (figures in comments)."""

from __future__ import annotations

from dataclasses import replace

import highspy
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sop_capacity.planning import (
    LabourPool,
    Method,
    PlanningInfeasibleError,
    PlanningInputError,
    PlanningProblem,
    check_problem,
    describe_status,
    solve_plan,
)


def one_line(requirement, capacity, **kw):
    """One product made on one resource at 1 hour and 1 currency unit per unit."""
    kw.setdefault("methods", [Method(0, 0, hours_per_unit=1.0, cost_per_unit=1.0)])
    return PlanningProblem(requirement=[requirement], available_hours=[capacity], **kw)


class TestOvertimeVersusBackorder:
    # Requirement 100, 150, 50; 100 regular hours a month; up to 50 overtime hours.
    # Month 2 is 50 units short. Options for those 50 units:
    #   overtime in month 2:              50 h x overtime rate
    #   overtime in month 1 and hold:     50 x (rate + 1 holding)
    #   backorder one month, make in m3:  50 x 10 = 500 (month 3 has 50 spare hours)
    def problem(self, overtime_rate: float) -> PlanningProblem:
        return one_line(
            [100, 150, 50],
            [100, 100, 100],
            holding_cost=1.0,
            backorder_cost=10.0,
            overtime_hours_max=[[50, 50, 50]],
            overtime_cost=[overtime_rate],
        )

    def test_cheap_overtime_is_used_instead_of_backorders(self):
        # Rate 2: overtime in month 2 costs 50 x 2 = 100, less than overtime in month 1 and
        # holding (50 x 3 = 150) or the backorder (500). Production 300 units x 1: total 400.
        plan = solve_plan(self.problem(overtime_rate=2.0))
        assert plan.status == "optimal"
        np.testing.assert_allclose(plan.overtime_hours, [[0, 50, 0]], atol=1e-6)
        np.testing.assert_allclose(plan.backorder, [[0, 0, 0]], atol=1e-6)
        np.testing.assert_allclose(plan.production, [[100, 150, 50]], atol=1e-6)
        assert plan.costs.overtime == pytest.approx(100.0)
        assert plan.costs.total == pytest.approx(400.0)

    def test_dear_overtime_loses_to_backorders(self):
        # Rate 20: overtime 1,000 and 1,050 both lose to backordering 50 units for one month
        # (500); month 3 then makes 50 + 50 = 100 units.
        plan = solve_plan(self.problem(overtime_rate=20.0))
        np.testing.assert_allclose(plan.overtime_hours, 0.0, atol=1e-6)
        np.testing.assert_allclose(plan.backorder, [[0, 50, 0]], atol=1e-6)
        np.testing.assert_allclose(plan.production, [[100, 100, 100]], atol=1e-6)
        assert plan.costs.backorder == pytest.approx(500.0)
        assert plan.costs.total == pytest.approx(800.0)

    def test_overtime_not_allowed_switches_it_off(self):
        problem = self.problem(overtime_rate=2.0)
        problem.overtime_allowed = False
        plan = solve_plan(problem)
        np.testing.assert_allclose(plan.overtime_hours, 0.0, atol=1e-6)
        np.testing.assert_allclose(plan.backorder, [[0, 50, 0]], atol=1e-6)


def test_builds_stock_ahead_of_a_capacity_dip():
    # Requirement 80 a month; capacity 100, 100, 50, 100 (month 3 halved); no overtime.
    # Month 3 is 30 short. Backordering costs 10 a unit-month, holding 1, so the 30 units are
    # made early, as late as possible: month 2 has 20 spare hours, month 1 gives the other 10.
    # Production 90, 100, 50, 80; inventory 10, 30, 0, 0; holding (10 + 30) x 1 = 40.
    plan = solve_plan(
        one_line([80, 80, 80, 80], [100, 100, 50, 100], holding_cost=1.0, backorder_cost=10.0)
    )
    np.testing.assert_allclose(plan.production, [[90, 100, 50, 80]], atol=1e-6)
    np.testing.assert_allclose(plan.inventory, [[10, 30, 0, 0]], atol=1e-6)
    np.testing.assert_allclose(plan.backorder, 0.0, atol=1e-6)
    assert plan.costs.holding == pytest.approx(40.0)
    np.testing.assert_allclose(plan.utilisation, [[0.9, 1.0, 1.0, 0.8]], atol=1e-6)


class TestAlternateMethods:
    def test_cheaper_method_fills_first_then_the_alternate(self):
        # Own line (resource 0): 2 per unit, 100 h; co-packer (resource 1): 5 per unit, 100 h.
        # Requirement 60 then 150. Month 1: 60 on the own line. Month 2: own line full at 100,
        # co-packer 50. Pre-building on the own line in month 1 would cost 2 + 4 holding = 6
        # > 5, so it does not. Cost: 160 x 2 + 50 x 5 = 570.
        plan = solve_plan(
            PlanningProblem(
                requirement=[[60, 150]],
                available_hours=[[100, 100], [100, 100]],
                methods=[Method(0, 0, 1.0, 2.0), Method(0, 1, 1.0, 5.0)],
                holding_cost=4.0,
                backorder_cost=50.0,
            )
        )
        np.testing.assert_allclose(plan.production_by_method, [[60, 100], [0, 50]], atol=1e-6)
        np.testing.assert_allclose(plan.hours_used, [[60, 100], [0, 50]], atol=1e-6)
        assert plan.costs.production == pytest.approx(570.0)

    def test_equal_costs_follow_priority(self):
        # Same cost on both resources; method on resource 1 has priority 1, so it gets all 40.
        plan = solve_plan(
            PlanningProblem(
                requirement=[[40]],
                available_hours=[[100], [100]],
                methods=[Method(0, 0, 1.0, 3.0, priority=2), Method(0, 1, 1.0, 3.0, priority=1)],
                backorder_cost=50.0,
            )
        )
        np.testing.assert_allclose(plan.production_by_method, [[0], [40]], atol=1e-6)
        assert plan.costs.total == pytest.approx(120.0)


class TestLabourPool:
    # One line run by a crew of 10 people x 160 h; regular pay 20/h (3,200 a person-month),
    # overtime up to 20 % of regular hours, holding 5 a unit-month. Requirement 1,600, 1,920,
    # 1,600 units at 1 h: month 2 needs 320 extra hours. Ways to get them, per hour:
    #   overtime in month 2:                          the overtime rate
    #   hire 1 person for months 1-2, fire in month 3: (1,000 + 2 x 3,200 + 2,000
    #     + 160 units held one month x 5) / 320 h = 10,200 / 320 = 31.875
    #   overtime in month 1 and hold:                 rate + 5
    #   hire 2 people for month 2 only:               (1,000 + 3,200 + 2,000) / 160 = 38.75
    def problem(self, overtime_rate: float) -> PlanningProblem:
        return one_line(
            [1600, 1920, 1600],
            [np.inf, np.inf, np.inf],
            methods=[Method(0, 0, 1.0, 0.0)],
            holding_cost=5.0,
            backorder_cost=100.0,
            pools=[
                LabourPool(
                    resources=(0,),
                    headcount0=10,
                    hours_per_person=160.0,
                    max_overtime_share=0.2,
                    regular_hour_cost=20.0,
                    overtime_hour_cost=overtime_rate,
                    hire_cost=1000.0,
                    fire_cost=2000.0,
                )
            ],
        )

    def test_overtime_when_cheaper_than_hiring(self):
        # 30/h < 31.875/h: 320 overtime hours = 9,600; labour 3 x 32,000 = 96,000.
        plan = solve_plan(self.problem(overtime_rate=30.0))
        np.testing.assert_allclose(plan.headcount, [[10, 10, 10]], atol=1e-6)
        np.testing.assert_allclose(plan.overtime_hours, [[0, 320, 0]], atol=1e-6)
        assert plan.costs.overtime == pytest.approx(9600.0)
        assert plan.costs.labour == pytest.approx(96000.0)
        assert plan.costs.total == pytest.approx(105600.0)
        # Crew hours 1,600 a month; month 2 uses 1,920 of them (120 %, i.e. overtime).
        np.testing.assert_allclose(plan.crew_utilisation, [[1.0, 1.2, 1.0]], atol=1e-9)

    def test_hire_and_fire_when_overtime_is_dearer(self):
        # 50/h > 31.875/h: hire 1 in month 1 (who pre-builds 160 units), fire 1 in month 3.
        # Labour (11 + 11 + 10) x 3,200 = 102,400; hiring 1,000; firing 2,000; holding 800;
        # total 106,200 (overtime would be 16,000 on top of 96,000 = 112,000).
        plan = solve_plan(self.problem(overtime_rate=50.0))
        np.testing.assert_allclose(plan.headcount, [[11, 11, 10]], atol=1e-6)
        np.testing.assert_allclose(plan.hires, [[1, 0, 0]], atol=1e-6)
        np.testing.assert_allclose(plan.fires, [[0, 0, 1]], atol=1e-6)
        np.testing.assert_allclose(plan.inventory, [[160, 0, 0]], atol=1e-6)
        np.testing.assert_allclose(plan.overtime_hours, 0.0, atol=1e-6)
        assert plan.costs.labour == pytest.approx(102400.0)
        assert plan.costs.hiring == pytest.approx(1000.0)
        assert plan.costs.firing == pytest.approx(2000.0)
        assert plan.costs.total == pytest.approx(106200.0)

    def test_headcount_cap_forces_overtime_and_prebuild(self):
        # Hiring would be cheaper than 50/h overtime, but the crew is capped at 10 and its
        # overtime share cut to 10 % (160 h a month). Month 2 needs 320 h more than the
        # crew's 1,600: 160 h of overtime in month 2, and 160 h of overtime in month 1 held
        # one month (50 + 5 = 55 a unit), cheaper than backordering them into month 3's
        # overtime (100 + 50 = 150 a unit). Labour 96,000 + overtime 320 x 50 = 16,000
        # + holding 160 x 5 = 800: total 112,800.
        problem = self.problem(overtime_rate=50.0)
        problem.pools = [replace(problem.pools[0], max_headcount=10.0, max_overtime_share=0.1)]
        plan = solve_plan(problem)
        np.testing.assert_allclose(plan.headcount, 10.0, atol=1e-6)
        np.testing.assert_allclose(plan.overtime_hours, [[160, 160, 0]], atol=1e-6)
        np.testing.assert_allclose(plan.inventory, [[160, 0, 0]], atol=1e-6)
        assert plan.costs.total == pytest.approx(112800.0)


def test_safety_stock_is_a_soft_target():
    # Requirement 50 a month, target 20 in stock at every month end, capacity 80.
    # Shortfall penalty 3 > holding 1, so 20 extra units are made in month 1 and held:
    # holding 20 x 3 months = 60 (the stock stays, as the target applies to every month).
    # With a penalty of 0.5 < holding, the target is ignored and shortfall 3 x 20 x 0.5 = 30.
    base = {"holding_cost": 1.0, "backorder_cost": 10.0, "safety_stock": [[20, 20, 20]]}
    kept = solve_plan(one_line([50, 50, 50], [80, 80, 80], shortfall_cost=3.0, **base))
    np.testing.assert_allclose(kept.production, [[70, 50, 50]], atol=1e-6)
    np.testing.assert_allclose(kept.inventory, [[20, 20, 20]], atol=1e-6)
    np.testing.assert_allclose(kept.shortfall, 0.0, atol=1e-6)
    assert kept.costs.holding == pytest.approx(60.0)
    ignored = solve_plan(one_line([50, 50, 50], [80, 80, 80], shortfall_cost=0.5, **base))
    np.testing.assert_allclose(ignored.shortfall, [[20, 20, 20]], atol=1e-6)
    assert ignored.costs.shortfall == pytest.approx(30.0)


def test_demand_is_not_pushed_past_the_horizon():
    # Making a unit costs 10 and a backorder month only 1, so without an ending charge the LP
    # would leave the last month's 40 units backordered (1 < 10). The default ending charge
    # (cheapest method cost, 10) makes that 11 > 10, so it produces them.
    plan = solve_plan(
        PlanningProblem(
            requirement=[[40, 40]],
            available_hours=[[100, 100]],
            methods=[Method(0, 0, 1.0, 10.0)],
            backorder_cost=1.0,
        )
    )
    np.testing.assert_allclose(plan.production, [[40, 40]], atol=1e-6)
    np.testing.assert_allclose(plan.backorder, 0.0, atol=1e-6)


class TestInputErrors:
    def test_product_with_requirement_but_no_method(self):
        problem = PlanningProblem(
            requirement=[[10, 10], [0, 5]],
            available_hours=[[100, 100]],
            methods=[Method(0, 0, 1.0, 1.0)],
            product_names=["cola", "lemonade"],
        )
        with pytest.raises(PlanningInputError) as info:
            solve_plan(problem)
        [issue] = info.value.issues
        assert (issue.product, issue.resource, issue.month) == (1, None, 1)
        assert "'lemonade'" in issue.message
        assert "no production method" in issue.message

    def test_requirement_covered_by_opening_stock_needs_no_method(self):
        problem = PlanningProblem(
            requirement=[[10, 10], [0, 5]],
            available_hours=[[100, 100]],
            methods=[Method(0, 0, 1.0, 1.0)],
            opening_inventory=[0, 5],
        )
        assert check_problem(problem) == []

    def test_negative_hours_name_resource_and_month(self):
        problem = one_line([10, 10, 10], [100, 100, -5], resource_names=["filler"])
        with pytest.raises(PlanningInputError) as info:
            solve_plan(problem)
        [issue] = info.value.issues
        assert (issue.resource, issue.month) == (0, 2)
        assert "'filler'" in issue.message
        assert "available_hours" in issue.message

    def test_negative_method_hours(self):
        problem = one_line([10], [100], methods=[Method(0, 0, -1.0, 1.0)])
        with pytest.raises(PlanningInputError, match="hours_per_unit >= 0"):
            solve_plan(problem)

    def test_only_resource_without_capacity_in_any_month(self):
        # Product 1 can only be made on resource 1, which has 0 hours all horizon.
        problem = PlanningProblem(
            requirement=[[10, 10], [0, 7]],
            available_hours=[[100, 100], [0, 0]],
            methods=[Method(0, 0, 1.0, 1.0), Method(1, 1, 0.5, 1.0)],
        )
        with pytest.raises(PlanningInputError) as info:
            solve_plan(problem)
        [issue] = info.value.issues
        assert (issue.product, issue.resource, issue.month) == (1, 1, 1)
        assert "no capacity in any month" in issue.message

    def test_unmakeable_products_can_be_backordered_instead(self):
        # With backorder_unmakeable, the two refusals above become warnings. Product 0 is
        # made on time (20 units x 1); product 1 (no method) waits 0 then 5 units at 3 a
        # unit-month (15, no ending charge without a method); product 2's only resource has
        # 0 hours: 4 then 8 at 2 (24) plus the 8 still owed at its method cost 1 (8).
        # Total 20 + 15 + 24 + 8 = 67.
        problem = PlanningProblem(
            requirement=[[10, 10], [0, 5], [4, 4]],
            available_hours=[[100, 100], [0, 0]],
            methods=[Method(0, 0, 1.0, 1.0), Method(2, 1, 0.5, 1.0)],
            backorder_cost=[1.0, 3.0, 2.0],
            product_names=["cola", "lemonade", "tonic"],
            backorder_unmakeable=True,
        )
        plan = solve_plan(problem)
        np.testing.assert_allclose(plan.production, [[10, 10], [0, 0], [0, 0]], atol=1e-9)
        np.testing.assert_allclose(plan.backorder, [[0, 0], [0, 5], [4, 8]], atol=1e-9)
        assert plan.costs.production == pytest.approx(20.0)
        assert plan.costs.backorder == pytest.approx(15.0 + 24.0 + 8.0)
        assert plan.costs.total == pytest.approx(67.0)
        lemonade, tonic = plan.warnings
        assert (lemonade.product, tonic.product, tonic.resource) == (1, 2, 1)
        assert "no production method; planned as backorder only" in lemonade.message
        assert "no capacity in any month" in tonic.message
        assert tonic.message.endswith("planned as backorder only")
        # Bad input is still refused with the flag.
        problem.available_hours = [[100, 100], [0, -1]]
        with pytest.raises(PlanningInputError, match="available_hours"):
            solve_plan(problem)

    def test_an_alternate_method_with_capacity_is_fine(self):
        problem = PlanningProblem(
            requirement=[[0, 7]],
            available_hours=[[0, 0], [10, 10]],
            methods=[Method(0, 0, 1.0, 1.0), Method(0, 1, 1.0, 2.0)],
        )
        assert check_problem(problem) == []

    def test_capacity_only_after_the_need_is_a_warning(self):
        # Month 0 has no hours, month 1 has: month 0's requirement can only be backordered.
        plan = solve_plan(one_line([10, 10], [0, 100], backorder_cost=1.0))
        [warning] = plan.warnings
        assert (warning.product, warning.resource, warning.month) == (0, 0, 0)
        np.testing.assert_allclose(plan.backorder, [[10, 0]], atol=1e-6)

    def test_shape_mismatch(self):
        with pytest.raises(PlanningInputError, match="same months"):
            solve_plan(PlanningProblem([[1, 2]], [[1, 2, 3]], [Method(0, 0, 1.0, 1.0)]))

    def test_several_problems_are_reported_together(self):
        problem = PlanningProblem(
            requirement=[[-1, 10]],
            available_hours=[[100, -2]],
            methods=[Method(0, 0, 1.0, 1.0)],
            holding_cost=-1.0,
        )
        with pytest.raises(PlanningInputError) as info:
            solve_plan(problem)
        found = {(i.product, i.resource, i.month) for i in info.value.issues}
        assert found == {(0, None, 0), (None, 0, 1), (0, None, None)}


def test_solver_statuses_read_as_sentences():
    code, message = describe_status(highspy.HighsModelStatus.kInfeasible)
    assert code == "infeasible"
    assert "No plan" in message
    assert describe_status(highspy.HighsModelStatus.kTimeLimit)[0] == "time_limit"
    assert describe_status(highspy.HighsModelStatus.kSolveError)[0] == "solver_error"


class TestSolverProvesNoPlan:
    """Checked inputs always have a plan (backorders are allowed, costs are >= 0), so these
    tests break the assembled model on purpose to reach the solver's verdict."""

    def break_model(self, monkeypatch, change):
        from sop_capacity.planning import lp

        build = lp._build_model

        def broken(prep, **kw):
            mdl = build(prep, **kw)
            change(mdl)
            return mdl

        monkeypatch.setattr(lp, "_build_model", broken)

    def test_infeasible_names_resource_product_and_month(self, monkeypatch):
        # January's production forced to at least 150 units of 1 h on a 100-hour line with
        # no overtime: the line's hours, that bound and the (zero) overtime conflict.
        def force(mdl):
            mdl.col_lo[mdl.layout.x] = 150.0

        self.break_model(monkeypatch, force)
        problem = one_line(
            [80, 80],
            [100, 100],
            backorder_cost=10.0,
            product_names=["X@PA"],
            resource_names=["LINE-1"],
            month_labels=["2027-01", "2027-02"],
        )
        with pytest.raises(PlanningInfeasibleError) as info:
            solve_plan(problem)
        error = info.value
        assert error.status == "infeasible"
        assert {(i.resource, i.month, i.product) for i in error.issues} == {
            (0, 0, None),
            (0, 0, 0),
        }
        text = str(error)
        assert text.startswith("No plan satisfies the constraints")
        assert "hours of resource 'LINE-1' in month '2027-01' (regular hours <= 100)" in text
        assert (
            "production of product 'X@PA' on resource 'LINE-1' in month '2027-01' (>= 150)" in text
        )
        assert "overtime on resource 'LINE-1' in month '2027-01' (= 0 hours)" in text
        assert "2027-02" not in text  # February is not part of the conflict

    def test_unbounded_names_what_grows(self, monkeypatch):
        # A negative hiring cost in month 2: hiring and letting go together pays without end.
        def reward_hiring(mdl):
            mdl.cost[mdl.layout.hire + 1] = -5.0

        self.break_model(monkeypatch, reward_hiring)
        problem = one_line(
            [80, 80],
            [np.inf, np.inf],
            methods=[Method(0, 0, 1.0, 0.0)],
            backorder_cost=10.0,
            month_labels=["2027-01", "2027-02"],
            pools=[
                LabourPool(
                    resources=(0,),
                    headcount0=1,
                    hours_per_person=100.0,
                    hire_cost=1.0,
                    fire_cost=1.0,
                    name="CREW",
                )
            ],
        )
        with pytest.raises(PlanningInfeasibleError) as info:
            solve_plan(problem)
        assert info.value.status == "unbounded"
        text = str(info.value)
        assert text.startswith("The cost can be made arbitrarily low")
        assert "Without limit: " in text
        assert "hires of labour pool 'CREW' in month '2027-02'" in str(info.value)

    def test_without_an_iis_the_status_still_reads_as_a_sentence(self, monkeypatch):
        def force(mdl):
            mdl.col_lo[mdl.layout.x] = 150.0

        def no_iis(self):
            raise RuntimeError("IIS not available")

        self.break_model(monkeypatch, force)
        monkeypatch.setattr(highspy.Highs, "getIis", no_iis)
        with pytest.raises(PlanningInfeasibleError) as info:
            solve_plan(one_line([80], [100], backorder_cost=10.0))
        assert info.value.issues == []
        assert str(info.value) == (
            "No plan satisfies the constraints (check headcount bounds and fixed inputs). "
            "HiGHS could not isolate the conflicting constraints."
        )


def test_unknown_highs_option_is_refused():
    with pytest.raises(ValueError, match="invalid HiGHS option"):
        solve_plan(one_line([1], [10]), highs_options={"solver": "quantum"})


def random_problem(seed: int) -> PlanningProblem:
    """2-4 products, 1-3 resources (maybe one pooled), 2-5 months, 1-2 methods each."""
    rng = np.random.default_rng(seed)
    n_p, n_r, n_t = (int(rng.integers(lo, hi)) for lo, hi in ((2, 5), (1, 4), (2, 6)))
    methods = []
    for p in range(n_p):
        for r in rng.choice(n_r, size=int(rng.integers(1, min(2, n_r) + 1)), replace=False):
            methods.append(Method(p, int(r), float(rng.uniform(0.1, 2)), float(rng.uniform(0, 5))))
    pools = []
    if rng.random() < 0.5:
        pools.append(
            LabourPool(
                resources=(0,),
                headcount0=float(rng.uniform(0, 3)),
                hours_per_person=rng.uniform(10, 40, n_t),
                max_overtime_share=float(rng.uniform(0, 0.3)),
                regular_hour_cost=float(rng.uniform(0, 2)),
                overtime_hour_cost=float(rng.uniform(0, 4)),
                hire_cost=float(rng.uniform(0, 20)),
                fire_cost=float(rng.uniform(0, 20)),
                max_headcount=float(rng.uniform(3, 6)),
            )
        )
    return PlanningProblem(
        requirement=rng.uniform(0, 60, (n_p, n_t)) * (rng.random((n_p, n_t)) < 0.8),
        available_hours=rng.uniform(0, 80, (n_r, n_t)),
        methods=methods,
        opening_inventory=rng.uniform(0, 20, n_p),
        holding_cost=rng.uniform(0, 2, n_p),
        backorder_cost=rng.uniform(0, 20, n_p),
        safety_stock=rng.uniform(0, 10, (n_p, n_t)),
        overtime_hours_max=rng.uniform(0, 20, (n_r, n_t)),
        overtime_cost=rng.uniform(0, 5, n_r),
        pools=pools,
        overtime_allowed=bool(rng.random() < 0.8),
    )


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_random_plans_respect_capacity_and_balance(seed):
    problem = random_problem(seed)
    plan = solve_plan(problem, tiebreak=0.0)
    tol = 1e-5
    avail = np.asarray(problem.available_hours)
    ot_max = np.asarray(problem.overtime_hours_max) * problem.overtime_allowed
    assert plan.status == "optimal"
    # Capacity: hours used never exceed regular hours plus the overtime actually planned,
    # and overtime stays within its limit.
    assert np.all(plan.hours_used <= avail + plan.overtime_hours + tol)
    assert np.all(plan.overtime_hours <= ot_max + tol)
    assert np.all(plan.hours_used <= avail + ot_max + tol)
    for q, pool in enumerate(problem.pools):
        crew_hours = np.asarray(pool.hours_per_person) * plan.headcount[q]
        used = plan.hours_used[list(pool.resources)].sum(axis=0)
        ot = plan.overtime_hours[list(pool.resources)].sum(axis=0)
        assert np.all(used - ot <= crew_hours + tol)
        assert np.all(ot <= pool.max_overtime_share * crew_hours + tol)
        assert np.all(plan.headcount[q] <= pool.max_headcount + tol)
    # Inventory balance: opening + cumulative production - cumulative requirement = I - B.
    req = np.asarray(problem.requirement)
    position = np.asarray(problem.opening_inventory)[:, None] + np.cumsum(
        plan.production - req, axis=1
    )
    np.testing.assert_allclose(position, plan.inventory - plan.backorder, atol=1e-4)
    assert np.all(plan.inventory >= -tol)
    assert np.all(plan.backorder >= -tol)
    # The cost breakdown is the objective (no tie-break here).
    assert plan.costs.total == pytest.approx(plan.objective, rel=1e-6, abs=1e-6)


class TestWarmStart:
    # Two products, each 60 units a month for 2 months, both made at 1 h/unit on line 0
    # (cost 1) or line 1 (cost 2); line 0 has 100 h a month, line 1 has 100 h.
    # The start plan puts product 0 (60 h) on line 0 and, line 0 being then 20 h short,
    # product 1 on line 1: cost 2 x (60 x 1 + 60 x 2) = 360. The optimum fills line 0:
    # per month 100 units at 1 + 20 at 2 = 140, so 280 over the horizon.
    def problem(self) -> PlanningProblem:
        methods = [
            Method(p, r, hours_per_unit=1.0, cost_per_unit=1.0 + r, priority=1 + r)
            for p in (0, 1)
            for r in (0, 1)
        ]
        return PlanningProblem(
            requirement=[[60, 60], [60, 60]],
            available_hours=[[100, 100], [100, 100]],
            methods=methods,
            holding_cost=0.1,
            backorder_cost=10.0,
        )

    def test_start_basis_reaches_the_cold_optimum(self):
        warm = solve_plan(self.problem(), warm_start=True, tiebreak=0.0)
        cold = solve_plan(self.problem(), warm_start=False, tiebreak=0.0)
        assert warm.status == cold.status == "optimal"
        assert warm.costs.total == pytest.approx(280.0)
        assert cold.costs.total == pytest.approx(280.0)
        np.testing.assert_allclose(warm.hours_used, [[100, 100], [20, 20]], atol=1e-9)

    def test_falls_back_to_the_dual_simplex_when_the_start_is_far(self, monkeypatch):
        from sop_capacity.planning import lp

        monkeypatch.setattr(lp, "WARM_PIVOTS", -1e9)  # no primal pivot allowed: fall back
        cleared = []  # the fallback clears the warm start's solver state before its cold run
        clear = lp.highspy.Highs.clearSolver
        monkeypatch.setattr(
            lp.highspy.Highs, "clearSolver", lambda h: cleared.append(1) or clear(h)
        )
        plan = solve_plan(self.problem(), warm_start=True, tiebreak=0.0)
        assert cleared == [1]
        assert plan.status == "optimal"
        assert plan.costs.total == pytest.approx(280.0)
