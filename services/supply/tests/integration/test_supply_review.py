"""Supply review over HTTP: exceptions by kind/product/site/month, the family × month summary
and supply LE vs budget with the projected inventory value (numbers worked by hand)."""

from __future__ import annotations

import json
from typing import Any

import pytest

MONTHS = ["2027-01", "2027-02", "2027-03", "2027-04"]


@pytest.fixture
def plan(world: Any) -> str:
    """BIKES: FG1 made to demand (100/month, cost 10); FG3 bought, lead time 2, SS 50, 40 on
    hand, demand 10/month (cost 10). TOYS: FG2 bought (cost 5), MOQ 300, max 150, shelf life
    1 month, demand 100/month, under a contract of 1000-2000 over the four months.
    FG4 (BIKES) is not planned (no demand, no item-site) but has a budget.
    Budget: BIKES Jan 120 / 1000 as a family row *and* FG1 Jan 70 / 700 as a product row (the
    ERP sent both); FG3 Feb 15 / 150 and FG4 Feb 5 / 50 (no family row in Feb); FG2 Jan
    250 / 1250."""
    world.products("FG1", "FG3", "FG4", family="BIKES", cost=10.0)
    world.products("FG2", family="TOYS", cost=5.0)
    world.site("P")
    p = world.code("P")
    world.feed(
        "item-sites",
        [
            {"product": world.code("FG1"), "site": p, "make_or_buy": "make", "lead_time_months": 0},
            {
                "product": world.code("FG2"),
                "site": p,
                "make_or_buy": "buy",
                "lead_time_months": 0,
                "moq": 300,
                "max_stock": 150,
                "shelf_life_months": 1,
            },
            {
                "product": world.code("FG3"),
                "site": p,
                "make_or_buy": "buy",
                "lead_time_months": 2,
                "ss_policy": "fixed",
                "ss_value": 50,
            },
        ],
    )
    world.feed(
        "inventory", [{"product": world.code("FG3"), "site": p, "month": "2026-12", "on_hand": 40}]
    )
    world.feed("suppliers", [{"code": world.code("SUP"), "name": "Toy maker"}])
    world.feed(
        "contracts",
        [
            {
                "code": world.code("C"),
                "supplier": world.code("SUP"),
                "material": world.code("FG2"),
                "period_start": "2027-01",
                "period_end": "2027-04",
                "min_volume": 1000,
                "max_volume": 2000,
                "price": 4.0,
            }
        ],
    )
    world.feed(
        "supply-budget",
        [
            {"family": "BIKES", "month": "2027-01", "volume": 120, "value": 1000},
            {"product": world.code("FG1"), "month": "2027-01", "volume": 70, "value": 700},
            {"product": world.code("FG3"), "month": "2027-02", "volume": 15, "value": 150},
            {"product": world.code("FG4"), "month": "2027-02", "volume": 5, "value": 50},
            {"product": world.code("FG2"), "month": "2027-01", "volume": 250, "value": 1250},
        ],
    )
    lines = (
        [("FG1", "P", m, 100.0) for m in MONTHS]
        + [("FG2", "P", m, 100.0) for m in MONTHS]
        + [("FG3", "P", m, 10.0) for m in MONTHS]
    )
    job = world.run(world.demand_plan(lines))
    assert job["state"] == "succeeded", job
    return str(job["result"]["supply_plan_id"])


def test_exceptions_by_kind_product_and_month(world: Any, plan: str, live: Any) -> None:
    # FG2: m0 -100 -> order 300 -> 200; m1 100; m2 0; m3 -100 -> 300 -> 200.
    #   above max 150: m0 50, m3 50. Shelf life 1 month: 200 - next month's 100 = 100 at risk
    #   in m0 and m3 (m1: 100 - 100 = 0).
    # FG3: lead time 2 freezes m0, m1: closes 30, 20 against SS 50 -> below SS by 20, 30.
    # Contract on FG2: purchases 600 < minimum 1000 -> under-use 400 (x price 4 = 1600).
    def found(**filters: Any) -> list[tuple[Any, ...]]:
        items = world.get(f"supply-plans/{plan}/exceptions", **filters)["items"]
        return [(e["kind"], e["product"], e["month"], e["size"], e["value"]) for e in items]

    fg2, fg3 = world.code("FG2"), world.code("FG3")
    assert found(product=fg2) == [
        ("above_max", fg2, "2027-01", 50, 250),
        ("above_max", fg2, "2027-04", 50, 250),
        ("contract_under_use", fg2, "2027-04", 400, 1600),
        ("shelf_life_at_risk", fg2, "2027-01", 100, 500),
        ("shelf_life_at_risk", fg2, "2027-04", 100, 500),
    ]
    assert found(kind="below_safety_stock") == [
        ("below_safety_stock", fg3, "2027-01", 20, 200),
        ("below_safety_stock", fg3, "2027-02", 30, 300),
    ]
    assert found(month="2027-04", site=world.code("P"), kind="above_max") == [
        ("above_max", fg2, "2027-04", 50, 250)
    ]
    assert found(kind="stockout") == []
    streamed = live.client.get(
        f"/api/v1/supply-plans/{plan}/exceptions",
        params={"format": "jsonl", "family": "TOYS"},
        headers=live.headers("viewer"),
    )
    assert len([json.loads(x) for x in streamed.text.splitlines()]) == 5
    bad = live.client.get(
        f"/api/v1/supply-plans/{plan}/exceptions",
        params={"kind": "fire"},
        headers=live.headers("viewer"),
    )
    assert bad.status_code == 422


def test_summary_by_family_and_month(world: Any, plan: str) -> None:
    summary = world.get(f"supply-plans/{plan}/summary")
    assert summary["plan"]["id"] == plan
    rows = {(r["family"], r["month"]): r for r in summary["rows"]}
    assert set(rows) == {(f, m) for f in ("BIKES", "TOYS") for m in MONTHS}
    bikes = rows[("BIKES", "2027-01")]
    # FG1 100 + FG3 10 demand; FG1 made 100, FG3 frozen; closing 0 + 30; value 30 x 10
    assert (bikes["demand"], bikes["supply"], bikes["production"], bikes["purchases"]) == (
        110,
        100,
        100,
        0,
    )
    assert (bikes["closing_stock"], bikes["safety_stock"], bikes["inventory_value"]) == (
        30,
        50,
        300,
    )
    assert bikes["exceptions"] == {"below_safety_stock": 1}
    toys = rows[("TOYS", "2027-01")]
    assert (toys["supply"], toys["purchases"], toys["closing_stock"], toys["inventory_value"]) == (
        300,
        300,
        200,
        1000,
    )
    assert (toys["excess"], toys["exceptions"]) == (50, {"above_max": 1, "shelf_life_at_risk": 1})
    assert rows[("TOYS", "2027-04")]["contract_issues"] == 1
    assert rows[("BIKES", "2027-03")]["exceptions"] == {}


def test_supply_le_against_budget(world: Any, plan: str) -> None:
    by_family = world.get(f"supply-plans/{plan}/budget-comparison")
    assert by_family["total"] == 2
    rows = {(r["key"], r["month"]): r for r in by_family["rows"]}
    # BIKES Jan: LE = 100 made + 0 bought = 100 units, x 10 = 1000. The family row 120 / 1000
    # is the family's budget; FG1's product row (70 / 700) is not added to it (not 190 / 1700)
    bikes = rows[("BIKES", "2027-01")]
    assert (
        bikes["le_volume"],
        bikes["le_value"],
        bikes["budget_volume"],
        bikes["budget_value"],
    ) == (100, 1000, 120, 1000)
    assert (bikes["variance_volume"], bikes["variance_value"], bikes["inventory_value"]) == (
        -20,
        0,
        300,
    )
    # BIKES Feb: no family row, so its products' rows add up: FG3 15 / 150 + FG4 5 / 50 =
    # 20 / 200 (FG4 is not planned, its budget still counts). LE 100 made -> 1000: +80 / +800
    feb = rows[("BIKES", "2027-02")]
    assert (feb["le_volume"], feb["budget_volume"], feb["budget_value"]) == (100, 20, 200)
    assert (feb["variance_volume"], feb["variance_value"]) == (80, 800)
    # TOYS Jan: the product budget of FG2 rolls up into its family; LE 300 x 5 = 1500
    toys = rows[("TOYS", "2027-01")]
    assert (
        toys["le_volume"],
        toys["le_value"],
        toys["variance_volume"],
        toys["variance_value"],
    ) == (300, 1500, 50, 250)
    assert rows[("BIKES", "2027-03")]["budget_volume"] is None
    # like for like: no variance where there is no budget (not LE − 0), and the coverage
    # says how much was compared: BIKES Jan, BIKES Feb, TOYS Jan of 2 families × 4 months
    assert rows[("BIKES", "2027-03")]["variance_volume"] is None
    assert rows[("TOYS", "2027-02")]["variance_value"] is None
    assert by_family["budget_coverage"] == pytest.approx(3 / 8)
    assert by_family["budget_months"] == ["2027-01", "2027-02"]

    # Product level: every planned item (FG1, FG2, FG3) and every budgeted one (FG4), budget
    # null where the item has no row in the month. LE: FG1 made 100 a month; FG2 receipts
    # 300, 0, 0, 300; FG3 (lead time 2, SS 50, 40 on hand, demand 10): frozen Jan, Feb
    # (30, 20), Mar 20 - 10 = 10 -> receive 40 -> 50, Apr 50 - 10 = 40 -> receive 10.
    by_product = world.get(f"supply-plans/{plan}/budget-comparison", level="product")
    assert by_product["total"] == 4
    # FG1 Jan, FG2 Jan, FG3 Feb, FG4 Feb of 4 items × 4 months
    assert by_product["budget_coverage"] == pytest.approx(4 / 16)
    got = {(r["key"], r["month"]): (r["le_volume"], r["budget_volume"]) for r in by_product["rows"]}
    fg1, fg2, fg3, fg4 = (world.code(c) for c in ("FG1", "FG2", "FG3", "FG4"))
    assert [got[(fg1, m)] for m in MONTHS] == [(100, 70), (100, None), (100, None), (100, None)]
    assert [got[(fg2, m)] for m in MONTHS] == [(300, 250), (0, None), (0, None), (300, None)]
    assert [got[(fg3, m)] for m in MONTHS] == [(0, None), (0, 15), (40, None), (10, None)]
    assert [got[(fg4, m)] for m in MONTHS] == [(0, None), (0, 5), (0, None), (0, None)]
    fg3_feb = next(r for r in by_product["rows"] if (r["key"], r["month"]) == (fg3, "2027-02"))
    assert (fg3_feb["variance_volume"], fg3_feb["variance_value"]) == (-15, -150)
    second = world.get(f"supply-plans/{plan}/budget-comparison", level="product", limit=1, offset=1)
    assert (second["total"], {r["key"] for r in second["rows"]}) == (4, {fg2})
