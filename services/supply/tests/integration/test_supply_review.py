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
    1 month, demand 100/month, under a contract of 1000-2000 over the four months."""
    world.products("FG1", "FG3", family="BIKES", cost=10.0)
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
    # BIKES Jan: LE = 100 made + 0 bought = 100 units, x 10 = 1000; budget 120 / 1000
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
    # TOYS Jan: the product budget of FG2 rolls up into its family; LE 300 x 5 = 1500
    toys = rows[("TOYS", "2027-01")]
    assert (
        toys["le_volume"],
        toys["le_value"],
        toys["variance_volume"],
        toys["variance_value"],
    ) == (300, 1500, 50, 250)
    assert rows[("BIKES", "2027-02")]["budget_volume"] is None
    by_product = world.get(f"supply-plans/{plan}/budget-comparison", level="product")
    assert [
        (r["key"], r["month"], r["le_volume"], r["budget_volume"]) for r in by_product["rows"]
    ] == [
        (world.code("FG2"), "2027-01", 300, 250),
        (world.code("FG2"), "2027-02", 0, None),
        (world.code("FG2"), "2027-03", 0, None),
        (world.code("FG2"), "2027-04", 300, None),
    ]
