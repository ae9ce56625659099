"""The aggregate-planning terms of a run through the API: money costs per product,
required ending inventory, whole people (integer workforce, a MIP with its gap).

One product X, 1 hour a unit, on line L1 staffed by crew CREW of 2 people (100 h a
person-month, paid 1 per hour used or not, hire 10, release 10), no overtime; supply
requires 250 a month for 3 months; holding 0.1 and backorder 100 per unit-month (money,
given per product in the run). Worked by hand in tests/unit/test_lp_aggregate.py:
continuous crew 2.5 people, cost 755; whole people 3, 3, 2 (250, 300, 200 made), 825;
whole people with 50 required in stock at the end, 840.
"""

from __future__ import annotations

from typing import Any

import pytest
from builders import monthly, plan_detail, plan_run, seed_live

TERMS = {"holding_cost": {"X": 0.1}, "backorder_cost": {"X": 100.0}, "overtime_allowed": False}


def seed(live: Any, token: Any, fake_supply: Any) -> None:
    seed_live(
        live,
        token,
        products={"X": (40.0, 10.0)},
        resources=[
            {"code": "CREW", "name": "Crew", "site": "PA", "kind": "labour_pool"},
            {"code": "L1", "name": "L1", "site": "PA", "labour_pool": "CREW"},
        ],
        workforce=[
            {
                "pool": "CREW",
                "headcount": 2,
                "hours_per_person": 100,
                "regular_hour_cost": 1,
                "hire_cost": 10,
                "fire_cost": 10,
            }
        ],
        calendars=[
            {
                "resource": "L1",
                "month": f"2027-0{m}",
                "shifts": 1,
                "working_days": 20,
                "hours_per_shift": 20,
            }
            for m in (1, 2, 3)
        ],
        routings=[{"product": "X", "resource": "L1", "hours_per_unit": 1, "cost_per_unit": 0}],
    )
    fake_supply.plans["SP-A"] = monthly("X", [250, 250, 250])


def crew(live: Any, token: Any, plan: dict[str, Any], field: str) -> list[float]:
    loads = plan_detail(live, token, plan["id"], "loads", resource="CREW")
    return [r[field] for r in sorted(loads, key=lambda r: r["month"])]


def test_continuous_crew(live: Any, token: Any, fake_supply: Any) -> None:
    seed(live, token, fake_supply)
    job, plan = plan_run(live, token, "SP-A", **TERMS)
    assert plan is not None, job.error
    assert crew(live, token, plan, "headcount") == pytest.approx([2.5, 2.5, 2.5])
    assert plan["costs"]["total"] == pytest.approx(755.0)


def test_whole_people_and_a_required_ending_inventory(
    live: Any, token: Any, fake_supply: Any
) -> None:
    seed(live, token, fake_supply)
    job, plan = plan_run(live, token, "SP-A", integer_workforce=True, **TERMS)
    assert plan is not None, job.error
    assert crew(live, token, plan, "headcount") == pytest.approx([3, 3, 2])
    assert plan["costs"]["total"] == pytest.approx(825.0)
    assert plan["model_size"]["mip_gap"] == pytest.approx(0.0, abs=1e-4)

    job, plan = plan_run(
        live, token, "SP-A", integer_workforce=True, ending_inventory={"X": 50}, **TERMS
    )
    assert plan is not None, job.error
    assert sorted(crew(live, token, plan, "headcount")) == pytest.approx([2, 3, 3])
    assert plan["costs"]["total"] == pytest.approx(840.0)
    positions = plan_detail(live, token, plan["id"], "positions")
    assert sum(p["production"] for p in positions) == pytest.approx(800)
