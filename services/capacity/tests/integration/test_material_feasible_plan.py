"""A production plan limited by a purchased material, through the service (supply faked).

Product X needs 2 units of MAT-A per unit. Requirement 100 a month for three months, hours
to spare. MAT-A at PA: 150 in stock, 50 on order due in February, a purchase lead time of
2 months (nothing new before March) and one contract capping March's purchases at 60.
So X can use at most 150 + 50 + 60 = 260 units of MAT-A: 130 units of X in three months,
and 170 of the 300 required are backordered, named as short of MAT-A.
"""

from __future__ import annotations

from typing import Any

import pytest
from builders import monthly, plan_detail, plan_run, seed_live

LINE = {"code": "LINE-1", "name": "Line 1", "site": "PA"}
RATES = {"holding_rate_per_month": 0.1, "backorder_rate_per_month": 0.25}
MONTHS = ["2027-01", "2027-02", "2027-03"]


def calendar(hours: float) -> list[dict[str, Any]]:
    return [
        {
            "resource": "LINE-1",
            "month": m,
            "shifts": 1,
            "working_days": 20,
            "hours_per_shift": hours / 20,
        }
        for m in MONTHS
    ]


def materials_doc() -> dict[str, Any]:
    return {
        "months": MONTHS,
        "materials": [
            {
                "material": "MAT-A",
                "site": "PA",
                "lead_time_months": 2,
                "opening_stock": 150.0,
                "scheduled_receipts": [0.0, 50.0, 0.0],
            }
        ],
        "bom": [{"product": "X", "material": "MAT-A", "qty_per": 2.0}],
        "product_lead_times": [{"product": "X", "site": "PA", "lead_time_months": 0}],
        "contracts": [
            {
                "contract": "C-1",
                "material": "MAT-A",
                "period_start": "2027-03",
                "period_end": "2027-03",
                "max_volume": 60.0,
            }
        ],
    }


def _run(live: Any, token: Any, fake_supply: Any, materials: dict[str, Any]) -> Any:
    """One line of 400 h, X at 1 h a unit, 100 a month required; supply's materials given."""
    seed_live(
        live,
        token,
        products={"X": (40.0, 10.0)},
        resources=[LINE],
        calendars=calendar(400.0),
        routings=[{"product": "X", "resource": "LINE-1", "hours_per_unit": 1, "cost_per_unit": 1}],
    )
    fake_supply.plans["SP-M"] = monthly("X", [100, 100, 100])
    fake_supply.materials["SP-M"] = materials
    return plan_run(live, token, "SP-M", **RATES)


def test_production_stops_where_the_material_runs_out(
    live: Any, token: Any, fake_supply: Any
) -> None:
    job, plan = _run(live, token, fake_supply, materials_doc())
    assert plan is not None, job.error

    # MAT-A available by month end: 150, 150 + 50, 200 + 60 -> X at 2 per unit: 75, 100, 130
    # cumulative; so 75, 25, 30 made, 170 short at the end of the horizon.
    positions = plan_detail(live, token, plan["id"], "positions")
    made = [sum(r["production"] for r in positions if r["month"] == m) for m in MONTHS]
    assert made == pytest.approx([75, 25, 30], abs=1e-6)
    backlog = {r["month"]: r for r in positions}
    assert backlog["2027-03"]["backorder"] == pytest.approx(170, abs=1e-6)
    assert backlog["2027-03"]["short_of"] == "MAT-A@PA"

    materials = plan_detail(live, token, plan["id"], "materials")
    assert [r["month"] for r in materials] == MONTHS
    assert [r["purchases"] for r in materials] == pytest.approx([0, 0, 60], abs=1e-6)
    assert [r["used"] for r in materials] == pytest.approx([150, 50, 60], abs=1e-6)
    assert all(r["closing"] >= -1e-9 for r in materials)
    assert all(r["binding"] for r in materials)


def test_a_material_bought_at_once_without_limit_changes_nothing(
    live: Any, token: Any, fake_supply: Any
) -> None:
    doc = materials_doc()
    doc["materials"][0]["lead_time_months"] = 0
    doc["contracts"] = []
    job, plan = _run(live, token, fake_supply, doc)
    assert plan is not None, job.error
    positions = plan_detail(live, token, plan["id"], "positions")
    assert sum(r["production"] for r in positions) == pytest.approx(300)
    assert plan_detail(live, token, plan["id"], "materials") == []
