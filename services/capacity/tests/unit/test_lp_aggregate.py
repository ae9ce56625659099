"""Aggregate-planning terms of the LP: required ending inventory, capped ending backlog,
integer workforce (a MIP with its gap reported). Small cases worked by hand."""

from __future__ import annotations

import pytest

from sop_capacity.planning import (
    LabourPool,
    Method,
    PlanningInfeasibleError,
    PlanningProblem,
    solve_plan,
)


def crew_problem(**extra: object) -> PlanningProblem:
    """One product, 1 hour a unit, on a line staffed by a crew of 2 (100 h a person-month,
    paid 1 per hour whether used or not, hire 10, release 10), no overtime; demand 250 a
    month for 3 months; holding 0.1, backorder 100 per unit-month."""
    return PlanningProblem(
        requirement=[[250.0, 250.0, 250.0]],
        available_hours=[[float("inf")] * 3],
        methods=[Method(0, 0, 1.0, 0.0)],
        holding_cost=0.1,
        backorder_cost=100.0,
        pools=[
            LabourPool(
                resources=(0,),
                headcount0=2.0,
                hours_per_person=100.0,
                regular_hour_cost=1.0,
                hire_cost=10.0,
                fire_cost=10.0,
            )
        ],
        overtime_allowed=False,
        **extra,  # type: ignore[arg-type]
    )


def test_the_lp_hires_half_a_person_and_the_mip_a_whole_one() -> None:
    # Continuous: 2.5 people make exactly 250 a month: pay 3 x 250 + hire 0.5 x 10 = 755.
    lp = solve_plan(crew_problem())
    assert lp.headcount[0] == pytest.approx([2.5, 2.5, 2.5])
    assert lp.costs.total == pytest.approx(755.0)
    assert lp.mip_gap is None
    # Whole people: 2 cannot make 250 (a backlog costs 100 a unit-month), so hire one; 3
    # all along costs 900 + 10 = 910, but 3, 3, 2 making 250, 300, 200 (the extra 50 held
    # one month, 5) and releasing one for the last month costs 800 + 10 + 10 + 5 = 825.
    mip = solve_plan(crew_problem(integer_workforce=True), time_limit=30)
    assert mip.headcount[0] == pytest.approx([3, 3, 2])
    assert mip.hires[0] == pytest.approx([1, 0, 0])
    assert mip.fires[0] == pytest.approx([0, 0, 1])
    assert mip.production[0] == pytest.approx([250, 300, 200])
    assert mip.costs.total == pytest.approx(825.0)
    assert mip.mip_gap == pytest.approx(0.0, abs=1e-4)


def test_a_required_ending_inventory_is_built_at_the_least_cost() -> None:
    # 50 units must be in stock at the end: 800 to make. Whole people: 3, 3, 2 make
    # exactly 800 (300, 300, 200; stock 50, 100, 50: holding 20) for 800 + 10 + 10 + 20 =
    # 840, as do 3, 2, 3 (300, 200, 300; holding 10; two hires, one release); three people
    # all along would cost 900 + 10 + 5 = 915.
    mip = solve_plan(crew_problem(integer_workforce=True, ending_inventory=[50.0]))
    assert sorted(mip.headcount[0]) == pytest.approx([2, 3, 3])
    assert mip.production[0].sum() == pytest.approx(800)
    assert mip.inventory[0, -1] == pytest.approx(50)
    assert mip.costs.total == pytest.approx(840.0)
    # Continuous: 2.5, 2.5, 3 people (hire 0.5 twice): 800 pay + 10 hiring + 5 holding.
    lp = solve_plan(crew_problem(ending_inventory=[50.0]))
    assert lp.headcount[0] == pytest.approx([2.5, 2.5, 3.0])
    assert lp.costs.total == pytest.approx(815.0)


def test_the_ending_backlog_cap_makes_the_plan_catch_up() -> None:
    # A crew held at 2 (max headcount 2) makes 200 a month: 150 short by the end. With
    # the backlog capped at 0 at the end the plan is infeasible; capped at 150 it is not.
    problem = crew_problem(ending_backorder_max=[150.0])
    problem.pools = [
        LabourPool(resources=(0,), headcount0=2.0, hours_per_person=100.0, max_headcount=2.0)
    ]
    plan = solve_plan(problem)
    assert plan.backorder[0, -1] == pytest.approx(150)
    problem.ending_backorder_max = [100.0]
    with pytest.raises(PlanningInfeasibleError):
        solve_plan(problem)
