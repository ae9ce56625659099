"""The supply plan through the service: POST /supply-plans → job → plan read back over HTTP.

The demand service is a fake (``httpx.MockTransport``) serving the demand plan's lines; the
numbers below are worked by hand in the comments.
"""

from __future__ import annotations

import csv
import io
import json
import math
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import Session

from sop_shared.outbox.models import OutboxEvent

MONTHS = ["2027-01", "2027-02", "2027-03", "2027-04"]


def monthly(product: str, site: str, quantities: list[float]) -> list[tuple[str, str, str, float]]:
    return [(product, site, m, q) for m, q in zip(MONTHS, quantities, strict=True)]


def item(world: Any, product: str, site: str = "P", **params: Any) -> dict[str, Any]:
    return {"product": world.code(product), "site": world.code(site), **params}


def succeeded(job: dict[str, Any]) -> str:
    assert job["state"] == "succeeded", job
    return str(job["result"]["supply_plan_id"])


class TestNettingWithLotSizingAndLeadTime:
    @pytest.fixture
    def plan(self, world: Any) -> str:
        world.products("FG", "TR")
        world.site("P")
        world.feed(
            "item-sites",
            [
                item(
                    world,
                    "FG",
                    make_or_buy="make",
                    lead_time_months=1,
                    moq=100,
                    lot_multiple=50,
                    ss_policy="fixed",
                    ss_value=20,
                ),
                item(world, "TR", make_or_buy="buy", lead_time_months=2, lot_multiple=25),
            ],
        )
        world.feed(
            "inventory",
            [
                # available = 50 on hand - 10 on quality hold + 10 in transit = 50
                item(world, "FG", month="2026-12", on_hand=50, quality_hold=10, in_transit=10),
                item(world, "TR", month="2026-12", on_hand=30),
                item(world, "TR", month="2026-10", on_hand=999),  # older snapshot: ignored
            ],
        )
        world.feed(
            "open-supply",
            [
                item(
                    world,
                    "FG",
                    order_ref=world.code("WO-1"),
                    kind="production",
                    due_month="2027-01",
                    quantity=30,
                )
            ],
        )
        plan_id = world.demand_plan(
            monthly("FG", "P", [60, 80, 40, 100]) + monthly("TR", "P", [20, 20, 20, 20])
        )
        return succeeded(world.run(plan_id))

    def test_make_item_lot_sized_and_released_one_month_ahead(self, world: Any, plan: str) -> None:
        # FG, SS 20, MOQ 100, multiple 50, lead time 1:
        # m0: 50 + 30 (open order) - 60 = 20 >= SS: no order        -> close 20
        # m1: 20 - 80 = -60; net 80 -> 100 (multiple of 50, = MOQ)   -> close 40
        # m2: 40 - 40 = 0;   net 20 -> 50 -> MOQ 100                 -> close 100
        # m3: 100 - 100 = 0; net 20 -> MOQ 100                       -> close 100
        # releases = receipts one month earlier.
        fg = world.lines(plan, "FG", "P")
        assert fg["month"] == MONTHS
        assert fg["opening"] == [50, 20, 40, 100]
        assert fg["scheduled"] == [30, 0, 0, 0]
        assert fg["planned_receipts"] == [0, 100, 100, 100]
        assert fg["planned_releases"] == [100, 100, 100, 0]
        assert fg["closing"] == [20, 40, 100, 100]
        assert fg["safety_stock"] == [20, 20, 20, 20]
        assert fg["shortage"] == [0, 0, 0, 0]
        # value at the product's cost (10); max = SS 20 + one month's lot (MOQ 100) = 120
        assert fg["inventory_value"] == [200, 400, 1000, 1000]
        assert fg["max_stock"] == [120, 120, 120, 120]
        assert fg["days_of_supply"][0] == pytest.approx(20 / ((80 + 40 + 100) / 3 / 30.4))

    def test_buy_item_cannot_be_received_inside_its_lead_time(self, world: Any, plan: str) -> None:
        # TR, buy, lead time 2 (nothing can arrive in m0, m1), multiple 25, no SS:
        # m0: 30 - 20 = 10; m1: 10 - 20 = -10 (backlog 10, frozen);
        # m2: -10 - 20 = -30; net 30 -> 50 (multiple of 25) -> close 20; m3: 20 - 20 = 0.
        tr = world.lines(plan, "TR", "P")
        assert tr["planned_receipts"] == [0, 0, 50, 0]
        assert tr["planned_releases"] == [50, 0, 0, 0]
        assert tr["closing"] == [10, -10, 20, 0]
        assert tr["shortage"] == [0, 10, 0, 0]
        stockouts = world.get(
            f"supply-plans/{plan}/exceptions", kind="stockout", product=world.code("TR")
        )
        assert [(e["month"], e["size"], e["value"]) for e in stockouts["items"]] == [
            ("2027-02", 10, 100)
        ]
        # an item-site exception is about its own site
        [stockout] = stockouts["items"]
        assert (stockout["site"], stockout["scope"], stockout["sites"]) == (
            world.code("P"),
            "item_site",
            [world.code("P")],
        )

    def test_the_plan_header_its_event_and_its_streams(
        self, world: Any, plan: str, live: Any
    ) -> None:
        header = world.get(f"supply-plans/{plan}")
        assert (
            header["status"],
            header["horizon_start"],
            header["horizon_end"],
            header["months"],
        ) == (
            "unconstrained",
            "2027-01",
            "2027-04",
            4,
        )
        assert header["totals"]["demand"] == 360
        assert header["totals"]["planned_production"] == 300
        assert header["totals"]["planned_purchases"] == 50
        assert header["counts"]["lines"] == 8
        assert header["counts"]["stockout"] == 1
        with Session(live.engine) as s:
            events = [
                e for e in s.execute(select(OutboxEvent)).scalars() if e.payload["subject"] == plan
            ]
        assert [e.event_type for e in events] == ["sop.supply.plan.changed.v1"]
        data = events[0].payload["data"]
        assert data["status"] == "unconstrained"
        assert data["upstream_plan_id"] == header["demand_plan_id"]
        assert data["lines_url"] == f"/api/v1/supply-plans/{plan}/production-requirements"
        assert data["totals"] == header["totals"]
        assert data["counts"] == header["counts"]

        jsonl = live.client.get(
            f"/api/v1/supply-plans/{plan}/lines",
            params={"format": "jsonl", "site": world.code("P")},
            headers=live.headers("viewer"),
        )
        rows = [json.loads(line) for line in jsonl.text.splitlines()]
        assert len(rows) == 8
        assert [r["product"] for r in rows] == [world.code("FG")] * 4 + [world.code("TR")] * 4
        as_csv = live.client.get(
            f"/api/v1/supply-plans/{plan}/lines",
            params={"format": "csv", "product": world.code("TR")},
            headers=live.headers("viewer"),
        )
        table = list(csv.DictReader(io.StringIO(as_csv.text)))
        assert [float(r["closing"]) for r in table] == [10, -10, 20, 0]
        # no forward demand after m3 and no stock: days of supply 0; TR has no maximum? it has one
        production = live.client.get(
            f"/api/v1/supply-plans/{plan}/production-requirements",
            params={"format": "jsonl", "site": world.code("P")},
            headers=live.headers("integration"),
        )
        requirements = [json.loads(line) for line in production.text.splitlines()]
        assert [
            (r["product"], r["month"], r["quantity"], r["opening_stock"]) for r in requirements
        ] == [
            (world.code("FG"), m, q, o)
            for m, q, o in zip(MONTHS, [0, 100, 100, 100], [50, 20, 40, 100], strict=True)
        ]
        page = world.get(f"supply-plans/{plan}/lines", site=world.code("P"), limit=3, offset=2)
        assert page["total"] == 8
        assert [(r["product"], r["month"]) for r in page["items"]] == [
            (world.code("FG"), "2027-03"),
            (world.code("FG"), "2027-04"),
            (world.code("TR"), "2027-01"),
        ]

    def test_a_new_run_is_the_next_version(self, world: Any, plan: str) -> None:
        first = world.get(f"supply-plans/{plan}")
        again = succeeded(world.run(first["demand_plan_id"]))
        second = world.get(f"supply-plans/{again}")
        assert second["version"] == first["version"] + 1
        assert (second["cycle"], second["scenario"]) == (first["cycle"], first["scenario"])


class TestEveryLineColumn:
    def test_one_item_site_by_hand_in_every_column(self, world: Any, live: Any) -> None:
        # FG, made, lead time 1, lot multiple 100, safety stock 20 (fixed), maximum 60,
        # cost 10; 100 in stock at the end of 2026-12, a production order of 50 due 2027-01.
        world.products("FG", cost=10.0)
        world.site("P")
        world.feed(
            "item-sites",
            [
                item(
                    world,
                    "FG",
                    make_or_buy="make",
                    lead_time_months=1,
                    lot_multiple=100,
                    ss_value=20,
                    max_stock=60,
                )
            ],
        )
        world.feed("inventory", [item(world, "FG", month="2026-12", on_hand=100)])
        world.feed(
            "open-supply",
            [
                item(
                    world,
                    "FG",
                    order_ref=world.code("WO"),
                    kind="production",
                    due_month="2027-01",
                    quantity=50,
                )
            ],
        )
        plan = succeeded(world.run(world.demand_plan(monthly("FG", "P", [120, 60, 90, 30]))))
        # m0: 100 + 50 - 120 = 30 >= 20, no order                    -> closing 30
        # m1: 30 - 60 = -30; net 20 + 30 = 50 -> 100 (multiple)       -> closing 70, 10 over 60
        # m2: 70 - 90 = -20; net 40 -> 100                            -> closing 80, 20 over 60
        # m3: 80 - 30 = 50 >= 20                                      -> closing 50
        # releases one month before the receipts: m0 100, m1 100.
        # days of supply = closing / (next 3 months' demand / (3 × 30.4)), the last month's
        # demand repeated beyond the horizon:
        #   m0 30 × 91.2 / (60 + 90 + 30) = 15.2     m1 70 × 91.2 / (90 + 30 + 30) = 42.56
        #   m2 80 × 91.2 / (30 × 3) = 81.0667        m3 50 × 91.2 / 90 = 50.6667
        days = [15.2, 42.56, 80 * 91.2 / 90, 50 * 91.2 / 90]
        rows = world.get(f"supply-plans/{plan}/lines", product=world.code("FG"))["items"]
        expected = [
            {
                "product": world.code("FG"),
                "site": world.code("P"),
                "month": month,
                "kind": "product",
                "make_or_buy": "make",
                "family": "BIKES",
                "demand": demand,
                "dependent_demand": 0,
                "opening": opening,
                "scheduled": scheduled,
                "receipts": scheduled + planned,
                "planned": planned,
                "planned_receipts": planned,
                "planned_releases": release,
                "closing": closing,
                "safety_stock": 20,
                "max_stock": 60,
                "shortage": 0,
                "excess": excess,
                "days_of_supply": pytest.approx(dos),
                "inventory_value": 10 * closing,
            }
            for month, demand, opening, scheduled, planned, release, closing, excess, dos in zip(
                MONTHS,
                [120, 60, 90, 30],
                [100, 30, 70, 80],
                [50, 0, 0, 0],
                [0, 100, 100, 0],
                [100, 100, 0, 0],
                [30, 70, 80, 50],
                [0, 10, 20, 0],
                days,
                strict=True,
            )
        ]
        assert rows == expected
        # the columns docs/CONTRACTS.md promises, under those names
        contract = [
            "product",
            "site",
            "month",
            "demand",
            "opening",
            "receipts",
            "planned",
            "closing",
            "safety_stock",
            "shortage",
            "excess",
            "days_of_supply",
            "inventory_value",
        ]
        assert set(contract) <= set(rows[0])

        requirements = world.get(f"supply-plans/{plan}/production-requirements")["items"]
        assert requirements == [
            {
                "product": world.code("FG"),
                "site": world.code("P"),
                "month": r["month"],
                "family": "BIKES",
                "quantity": r["planned_receipts"],
                "release_quantity": r["planned_releases"],
                "demand": r["demand"],
                "scheduled": r["scheduled"],
                "safety_stock": 20,
                "opening_stock": r["opening"],
                "closing_stock": r["closing"],
                "moq": 0,
                "lot_multiple": 100,  # the item-site's lot rule, which capacity rounds to
            }
            for r in expected
        ]
        # CONTRACTS.md: product, site, month, quantity, safety_stock, opening_stock
        assert [(r["quantity"], r["safety_stock"], r["opening_stock"]) for r in requirements] == [
            (0, 20, 100),
            (100, 20, 30),
            (100, 20, 70),
            (0, 20, 80),
        ]


class TestSafetyStockPolicies:
    def test_each_policy_by_hand(self, world: Any) -> None:
        codes = ("FIX", "MOC", "DOC", "STAT", "STATLT")
        world.products(*codes)
        world.site("P")
        buy = {"make_or_buy": "buy", "lead_time_months": 0}
        world.feed(
            "item-sites",
            [
                item(world, "FIX", **buy, ss_policy="fixed", ss_value=25),
                item(world, "MOC", **buy, ss_policy="months_of_cover", ss_value=1.5),
                item(world, "DOC", **buy, ss_policy="days_of_cover", ss_value=15.2),
                item(
                    world,
                    "STAT",
                    **{**buy, "lead_time_months": 1},
                    ss_policy="statistical",
                    ss_value=100,
                    service_level=0.95,
                ),
                item(
                    world,
                    "STATLT",
                    **{**buy, "lead_time_months": 1},
                    ss_policy="statistical",
                    ss_value=100,
                    service_level=0.95,
                    lead_time_std_months=0.5,
                ),
            ],
        )
        demand = [100.0, 200.0, 300.0, 400.0]
        plan_id = world.demand_plan([line for c in codes for line in monthly(c, "P", demand)])
        plan = succeeded(world.run(plan_id))
        ss = {c: world.lines(plan, c, "P")["safety_stock"] for c in codes}

        assert ss["FIX"] == [25, 25, 25, 25]
        # 1.5 months of forward demand: next month + half the one after (flat beyond m3)
        # m0: 200 + 150 = 350; m1: 300 + 200 = 500; m2: 400 + 200 = 600; m3: 400 + 200 = 600
        assert ss["MOC"] == pytest.approx([350, 500, 600, 600])
        # 15.2 days = 0.5 month at 30.4 days a month: half of next month's demand
        assert ss["DOC"] == pytest.approx([100, 150, 200, 200])
        # z(95 %) = 1.6449; protection = lead time 1 + review period 1 = 2 months
        # σ = √(2 × 100²) = 141.42 -> SS = 232.6
        assert ss["STAT"] == pytest.approx([1.644854 * math.sqrt(2) * 100] * 4, rel=1e-5)
        # with σ_L = 0.5 month and mean demand d̄ = 250: σ = √(2 × 100² + 250² × 0.5²) = 188.75
        assert ss["STATLT"] == pytest.approx([1.644854 * math.sqrt(35625)] * 4, rel=1e-5)
        assert ss["STATLT"][0] == pytest.approx(310.46, abs=0.01)
        # netting covers the target: FIX closes at 25 every month (lead time 0, no lot sizing)
        assert world.lines(plan, "FIX", "P")["closing"] == [25, 25, 25, 25]

    def test_statistical_sigma_comes_from_the_demand_plan_unless_the_planner_gave_one(
        self, world: Any
    ) -> None:
        # demand's CSV carries forecast_sigma (the σ of the monthly forecast error per line)
        world.products("SIG", "OWN")
        world.site("P")
        stat = {"make_or_buy": "buy", "lead_time_months": 1, "ss_policy": "statistical"}
        world.feed(
            "item-sites",
            [item(world, "SIG", **stat), item(world, "OWN", **stat, ss_value=100)],
        )
        lines = monthly("SIG", "P", [100, 100, 100, 100]) + monthly("OWN", "P", [100] * 4)
        # σ 30, 40, 50, 60 over the months: only the first month's counts
        sigma = {(p, s, m): 30.0 + 10 * MONTHS.index(m) for p, s, m, _ in lines}
        plan = succeeded(world.run(world.demand_plan(lines, sigma=sigma)))
        # SIG: no ss_value -> σ of its first plan month (30, the one-month-ahead error);
        # z(95 %) = 1.644854, L + R = 1 + 1: SS = 1.644854 × √2 × 30 = 69.78 every month
        assert world.lines(plan, "SIG", "P")["safety_stock"] == pytest.approx(
            [1.644854 * math.sqrt(2) * 30] * 4, rel=1e-5
        )
        # OWN: the planner's σ 100 wins over demand's 30: 1.644854 × √2 × 100 = 232.62
        assert world.lines(plan, "OWN", "P")["safety_stock"] == pytest.approx(
            [232.62] * 4, abs=0.01
        )
        assert world.get(f"supply-plans/{plan}")["counts"]["statistical_without_sigma"] == 0


class TestBomExplosionAndContracts:
    @pytest.fixture
    def plan(self, world: Any) -> str:
        world.products("FG1", "FG2")
        world.site("P")
        world.feed(
            "materials",
            [
                {"code": world.code("RM-A"), "name": "Steel", "unit_cost": 2.0},
                {"code": world.code("RM-B"), "name": "Paint", "unit_cost": 1.0},
            ],
        )
        world.feed(
            "boms",
            [
                {"product": world.code("FG1"), "material": world.code("RM-A"), "qty_per": 2},
                {"product": world.code("FG1"), "material": world.code("RM-B"), "qty_per": 0.5},
                {"product": world.code("FG2"), "material": world.code("RM-A"), "qty_per": 1},
            ],
        )
        world.feed(
            "item-sites",
            [
                item(world, "FG1", make_or_buy="make", lead_time_months=0),
                item(world, "FG2", make_or_buy="make", lead_time_months=0),
                item(world, "RM-A", make_or_buy="buy", lead_time_months=1),
                item(world, "RM-B", make_or_buy="buy", lead_time_months=0),
            ],
        )
        world.feed("inventory", [item(world, "RM-A", month="2026-12", on_hand=300)])
        world.feed("suppliers", [{"code": world.code("SUP"), "name": "Acme"}])
        contract = {"supplier": world.code("SUP"), "period_start": "2027-01"}
        world.feed(
            "contracts",
            [
                {
                    **contract,
                    "code": world.code("C-A"),
                    "material": world.code("RM-A"),
                    "period_end": "2027-03",
                    "min_volume": 1000,
                    "max_volume": 5000,
                    "price": 2.0,
                },
                {
                    **contract,
                    "code": world.code("C-A2"),
                    "material": world.code("RM-A"),
                    "period_end": "2027-03",
                    "min_volume": 0,
                    "max_volume": 300,
                    "price": 1.5,
                },
                {
                    **contract,
                    "code": world.code("C-B"),
                    "material": world.code("RM-B"),
                    "period_end": "2027-04",
                    "min_volume": 0,
                    "max_volume": 100,
                    "price": 1.0,
                },
            ],
        )
        plan_id = world.demand_plan(
            monthly("FG1", "P", [100, 100, 100, 100]) + monthly("FG2", "P", [40, 40, 40, 40])
        )
        return succeeded(world.run(plan_id))

    def test_production_explodes_into_material_requirements(self, world: Any, plan: str) -> None:
        # FG1 and FG2 are made in the month (lead time 0): 100 and 40 a month.
        # RM-A gross = 2 x 100 + 1 x 40 = 240; RM-B gross = 0.5 x 100 = 50.
        # RM-A, lead time 1, 300 on hand: m0: 300 - 240 = 60 (frozen); m1: 60 - 240 = -180
        # -> receive 180 -> 0; m2, m3: receive 240. Purchase orders one month earlier.
        page = world.get(f"supply-plans/{plan}/material-requirements", site=world.code("P"))
        by_material: dict[str, dict[str, list[float]]] = {}
        for r in page["items"]:
            for key in ("gross_requirement", "planned_receipts", "planned_orders", "closing"):
                by_material.setdefault(r["material"], {}).setdefault(key, []).append(r[key])
        rm_a = by_material[world.code("RM-A")]
        assert rm_a["gross_requirement"] == [240, 240, 240, 240]
        assert rm_a["planned_receipts"] == [0, 180, 240, 240]
        assert rm_a["planned_orders"] == [180, 240, 240, 0]
        assert rm_a["closing"] == [60, 0, 0, 0]
        rm_b = by_material[world.code("RM-B")]
        assert rm_b["gross_requirement"] == [50, 50, 50, 50]
        assert rm_b["planned_orders"] == [50, 50, 50, 50]
        line = world.lines(plan, "RM-A", "P")
        assert set(line["kind"]) == {"material"}
        assert line["dependent_demand"] == [240, 240, 240, 240]
        assert world.lines(plan, "FG1", "P")["planned_receipts"] == [100, 100, 100, 100]

    def test_contract_shortfall_and_over_use(self, world: Any, plan: str) -> None:
        # RM-A purchases in Jan-Mar: 0 + 180 + 240 = 420. The cheaper C-A2 (1.5) takes its
        # maximum 300 first, C-A gets 120 of its committed 1000: shortfall 880 (x 2 = 1760).
        # RM-B purchases in Jan-Apr: 4 x 50 = 200 against C-B's maximum 100: 100 over.
        review = world.get(f"supply-plans/{plan}/contract-review")
        rows = {r["contract"]: r for r in review["items"]}
        c_a, c_a2, c_b = rows[world.code("C-A")], rows[world.code("C-A2")], rows[world.code("C-B")]
        assert (c_a["planned_volume"], c_a["allocated_volume"], c_a["shortfall"]) == (420, 120, 880)
        assert (c_a["shortfall_value"], c_a["status"]) == (1760, "under")
        assert (c_a2["allocated_volume"], c_a2["shortfall"], c_a2["status"]) == (300, 0, "ok")
        assert (c_b["planned_volume"], c_b["excess"], c_b["excess_value"], c_b["status"]) == (
            200,
            100,
            100,
            "over",
        )
        assert review["shortfall_value"] == 1760
        found = world.get(
            f"supply-plans/{plan}/exceptions", product=world.code("RM-A"), kind="contract_under_use"
        )
        assert [(e["month"], e["size"], e["reference"], e["site"]) for e in found["items"]] == [
            ("2027-03", 880, world.code("C-A"), None)
        ]
        over = world.get(
            f"supply-plans/{plan}/exceptions", kind="contract_over_use", product=world.code("RM-B")
        )
        assert [(e["size"], e["reference"]) for e in over["items"]] == [(100, world.code("C-B"))]


class TestPurchasesAndContractSites:
    """Buy item-sites at two sites: a traded product TR and a material RM that FG is made of.

    FG (made, lead time 0, 2 RM each) is demanded at P 10 a month and at Q 40 in Feb and Apr;
    TR (bought at P, lead time 1, MOQ 30, cost 4) 10, 20, 10, 10 with 15 in stock;
    RM (bought at P and Q, lead time 0, multiple 25, cost 2) with 5 in stock at P.
    """

    @pytest.fixture
    def plan(self, world: Any) -> str:
        world.products("FG", cost=10.0)
        world.products("TR", cost=4.0)
        world.site("P")
        world.site("Q")
        world.feed("materials", [{"code": world.code("RM"), "name": "Resin", "unit_cost": 2.0}])
        world.feed(
            "boms", [{"product": world.code("FG"), "material": world.code("RM"), "qty_per": 2}]
        )
        made = {"make_or_buy": "make", "lead_time_months": 0}
        resin = {"make_or_buy": "buy", "lead_time_months": 0, "lot_multiple": 25}
        world.feed(
            "item-sites",
            [
                item(world, "FG", "P", **made),
                item(world, "FG", "Q", **made),
                item(world, "TR", "P", make_or_buy="buy", lead_time_months=1, moq=30),
                item(world, "RM", "P", **resin),
                item(world, "RM", "Q", **resin),
            ],
        )
        world.feed(
            "inventory",
            [
                item(world, "TR", month="2026-12", on_hand=15),
                item(world, "RM", month="2026-12", on_hand=5),
            ],
        )
        world.feed("suppliers", [{"code": world.code("SUP"), "name": "Acme"}])
        contract = {"supplier": world.code("SUP"), "material": world.code("RM"), "price": 2.0}
        world.feed(
            "contracts",
            [
                {
                    **contract,
                    "code": world.code("C1"),
                    "period_start": "2027-01",
                    "period_end": "2027-03",
                    "min_volume": 500,
                    "max_volume": 1000,
                },
                {
                    **contract,
                    "code": world.code("C2"),
                    "period_start": "2027-04",
                    "period_end": "2027-04",
                    "min_volume": 0,
                    "max_volume": 50,
                },
            ],
        )
        lines = (
            monthly("FG", "P", [10, 10, 10, 10])
            + monthly("FG", "Q", [0, 40, 0, 40])
            + monthly("TR", "P", [10, 20, 10, 10])
        )
        return succeeded(world.run(world.demand_plan(lines)))

    def test_purchase_requirements_by_hand(self, world: Any, plan: str) -> None:
        # TR at P, lead time 1 (nothing can arrive in Jan), MOQ 30:
        #   Jan 15 - 10 = 5; Feb 5 - 20 = -15 -> 30 -> 15; Mar 15 - 10 = 5; Apr 5 - 10 = -5 -> 30
        #   receipts 0, 30, 0, 30; orders placed a month earlier: 30, 0, 30, 0; value × 4
        # RM at P: FG made 10 a month x 2 = 20 a month, multiple 25:
        #   Jan 5 - 20 = -15 -> 25 -> 10; Feb -10 -> 25 -> 15; Mar -5 -> 25 -> 20; Apr 20 - 20 = 0
        #   receipts = orders (lead time 0) 25, 25, 25, 0; value × 2
        rows = world.get(f"supply-plans/{plan}/purchase-requirements", site=world.code("P"))
        got = {(r["product"], r["kind"]): {k: [] for k in r} for r in rows["items"]}
        for r in rows["items"]:
            for key, value in r.items():
                got[(r["product"], r["kind"])][key].append(value)
        assert set(got) == {(world.code("RM"), "material"), (world.code("TR"), "product")}
        tr = got[(world.code("TR"), "product")]
        assert tr["month"] == MONTHS
        assert tr["demand"] == [10, 20, 10, 10]
        assert tr["opening_stock"] == [15, 5, 15, 5]
        assert tr["quantity"] == [0, 30, 0, 30]
        assert tr["order_quantity"] == [30, 0, 30, 0]
        assert tr["value"] == [0, 120, 0, 120]
        assert tr["closing_stock"] == [5, 15, 5, 25]
        assert tr["scheduled"] == tr["shortage"] == tr["safety_stock"] == [0, 0, 0, 0]
        rm = got[(world.code("RM"), "material")]
        assert rm["demand"] == [20, 20, 20, 20]
        assert rm["opening_stock"] == [5, 10, 15, 20]
        assert rm["quantity"] == rm["order_quantity"] == [25, 25, 25, 0]
        assert rm["value"] == [50, 50, 50, 0]
        assert rm["closing_stock"] == [10, 15, 20, 0]
        # RM at Q: FG made 40 in Feb and Apr -> 80 of RM: Feb -80 -> 100 -> 20; Apr 20 - 80
        # = -60 -> 75 -> 15
        at_q = world.get(
            f"supply-plans/{plan}/purchase-requirements", site=world.code("Q"), kind="material"
        )["items"]
        assert [r["quantity"] for r in at_q] == [0, 100, 0, 75]
        # the buy filter on the lines is the same set of item-sites; FG (made) is in neither
        bought = world.get(f"supply-plans/{plan}/lines", make_or_buy="buy")
        assert bought["total"] == 12
        assert {(r["product"], r["site"]) for r in bought["items"]} == {
            (world.code("TR"), world.code("P")),
            (world.code("RM"), world.code("P")),
            (world.code("RM"), world.code("Q")),
        }
        # purchases: TR 60 + RM at P 75 + RM at Q 175
        assert world.get(f"supply-plans/{plan}")["totals"]["planned_purchases"] == 310

    def test_contract_exceptions_are_site_independent_and_name_the_buying_sites(
        self, world: Any, plan: str, live: Any
    ) -> None:
        # C1 (Jan-Mar, min 500): RM bought 75 at P + 100 at Q = 175 -> 325 short, at 2 = 650
        # C2 (Apr, max 50): RM bought 75 at Q only (P buys nothing in April) -> 25 over
        found = world.get(f"supply-plans/{plan}/exceptions", product=world.code("RM"))["items"]
        contract = [e for e in found if e["kind"].startswith("contract")]
        assert [
            (e["kind"], e["month"], e["size"], e["reference"], e["site"], e["scope"], e["sites"])
            for e in contract
        ] == [
            (
                "contract_over_use",
                "2027-04",
                25,
                world.code("C2"),
                None,
                "all_sites",
                [world.code("Q")],
            ),
            (
                "contract_under_use",
                "2027-03",
                325,
                world.code("C1"),
                None,
                "all_sites",
                [world.code("P"), world.code("Q")],
            ),
        ]
        # in CSV the sites are space-separated
        text = live.client.get(
            f"/api/v1/supply-plans/{plan}/exceptions",
            params={"format": "csv", "kind": "contract_under_use"},
            headers=live.headers("viewer"),
        ).text
        [row] = list(csv.DictReader(io.StringIO(text)))
        assert (row["scope"], row["sites"]) == ("all_sites", f"{world.code('P')} {world.code('Q')}")


def test_an_unknown_demand_plan_fails_the_job_and_writes_nothing(world: Any) -> None:
    before = world.get("supply-plans", cycle=world.cycle)["total"]
    job = world.run("DP-does-not-exist")
    assert job["state"] == "failed"
    assert "DP-does-not-exist" in job["error"]
    assert world.get("supply-plans", cycle=world.cycle)["total"] == before


def test_unknown_plan_is_a_404_problem(world: Any, live: Any) -> None:
    response = live.client.get(
        "/api/v1/supply-plans/00000000-0000-0000-0000-000000000000/lines",
        params={"format": "jsonl"},
        headers=live.headers("viewer"),
    )
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def _plan_event(live: Any, plan: str) -> dict[str, Any]:
    """The data of the plan's ``supply.plan.changed`` outbox row."""
    with Session(live.engine) as s:
        [event] = [
            e for e in s.execute(select(OutboxEvent)).scalars() if e.payload["subject"] == plan
        ]
    return dict(event.payload["data"])


class TestContractTotalsCountOnlyJudgedContracts:
    """Three contracts over a three-month plan (Jan-Mar 2027):

    * C-TR on TR (bought, lead time 0, no stock, demand 20 a month), Jan-Mar, min 100,
      max 500, price 2: purchases 3 x 20 = 60 -> shortfall 40, x 2 = 80, status ``under``;
    * C-YEAR on NB (bought, no demand: nothing bought), Jan-Dec (12 months, 3 inside the
      horizon), min 10, max 100, price 3: not yet covered 10, x 3 = 30, status ``partial``;
    * C-MADE on FG (made at its only site: nothing can be bought), Jan-Mar, min 50, max 100,
      price 2: unused 50, x 2 = 100, status ``no_buy_item``.

    Only C-TR's 80 is a shortfall; C-YEAR's 30 is reported apart; C-MADE is counted apart.
    """

    @pytest.fixture
    def plan(self, world: Any) -> str:
        world.products("TR", "NB", "FG")
        world.site("P")
        buy = {"make_or_buy": "buy", "lead_time_months": 0}
        world.feed(
            "item-sites",
            [
                item(world, "TR", **buy),
                item(world, "NB", **buy),
                item(world, "FG", make_or_buy="make", lead_time_months=0),
            ],
        )
        world.feed("suppliers", [{"code": world.code("SUP"), "name": "Acme"}])
        sup = {"supplier": world.code("SUP"), "period_start": "2027-01"}
        world.feed(
            "contracts",
            [
                {
                    **sup,
                    "code": world.code("C-TR"),
                    "material": world.code("TR"),
                    "period_end": "2027-03",
                    "min_volume": 100,
                    "max_volume": 500,
                    "price": 2,
                },
                {
                    **sup,
                    "code": world.code("C-YEAR"),
                    "material": world.code("NB"),
                    "period_end": "2027-12",
                    "min_volume": 10,
                    "max_volume": 100,
                    "price": 3,
                },
                {
                    **sup,
                    "code": world.code("C-MADE"),
                    "material": world.code("FG"),
                    "period_end": "2027-03",
                    "min_volume": 50,
                    "max_volume": 100,
                    "price": 2,
                },
            ],
        )
        lines = [("TR", "P", m, 20.0) for m in MONTHS[:3]] + [
            ("FG", "P", m, 10.0) for m in MONTHS[:3]
        ]
        return succeeded(world.run(world.demand_plan(lines)))

    def test_review_rows_and_totals(self, world: Any, plan: str, live: Any) -> None:
        review = world.get(f"supply-plans/{plan}/contract-review")
        rows = {r["contract"]: r for r in review["items"]}
        c_tr, c_year = rows[world.code("C-TR")], rows[world.code("C-YEAR")]
        c_made = rows[world.code("C-MADE")]
        assert (c_tr["planned_volume"], c_tr["shortfall"], c_tr["shortfall_value"]) == (60, 40, 80)
        assert c_tr["status"] == "under"
        assert (c_year["months_in_period"], c_year["months_in_horizon"]) == (12, 3)
        assert (c_year["planned_volume"], c_year["shortfall_value"], c_year["status"]) == (
            0,
            30,
            "partial",
        )
        assert (c_made["planned_volume"], c_made["shortfall_value"], c_made["status"]) == (
            0,
            100,
            "no_buy_item",
        )
        # 80 only: not 80 + 30 + 100 = 210
        assert (review["shortfall_value"], review["excess_value"]) == (80, 0)
        assert (review["partial_count"], review["partial_shortfall_value"]) == (1, 30)
        assert review["no_buy_item_count"] == 1

        header = world.get(f"supply-plans/{plan}")
        assert header["totals"]["contract_shortfall_value"] == 80
        assert header["totals"]["contract_partial_shortfall_value"] == 30
        assert (
            header["counts"]["contracts_partial"],
            header["counts"]["contracts_no_buy_item"],
        ) == (
            1,
            1,
        )
        assert header["counts"]["contract_under_use"] == 1
        data = _plan_event(live, plan)
        assert (data["totals"], data["counts"]) == (header["totals"], header["counts"])
        assert world.get(f"supply-plans/{plan}/summary")["plan"]["totals"] == header["totals"]
        # only the judged contract is an exception
        found = world.get(f"supply-plans/{plan}/exceptions", kind="contract_under_use")["items"]
        assert [(e["reference"], e["size"], e["value"]) for e in found] == [
            (world.code("C-TR"), 40, 80)
        ]


def test_a_release_inside_the_lead_time_is_a_past_due_exception(world: Any, live: Any) -> None:
    # FG made, lead time 2, no stock, demand 10 a month, cost 10. Make items are planned at
    # their due month: receipts 10, 10, 10, 10. Their releases fall 2 months earlier: the
    # receipts of Jan and Feb should have been released in Nov and Dec 2026 (past due, 10
    # each, value 100 each) and are lumped into Jan's releases: 10 + 10 + Mar's 10 = 30;
    # Apr's receipt is released in Feb: releases 30, 10, 0, 0.
    world.products("FG", cost=10.0)
    world.site("P")
    world.feed("item-sites", [item(world, "FG", make_or_buy="make", lead_time_months=2)])
    plan = succeeded(world.run(world.demand_plan(monthly("FG", "P", [10, 10, 10, 10]))))
    fg = world.lines(plan, "FG", "P")
    assert fg["planned_receipts"] == [10, 10, 10, 10]
    assert fg["planned_releases"] == [30, 10, 0, 0]
    found = world.get(f"supply-plans/{plan}/exceptions", kind="release_past_due")["items"]
    assert [(e["product"], e["site"], e["month"], e["size"], e["value"]) for e in found] == [
        (world.code("FG"), world.code("P"), "2027-01", 10, 100),
        (world.code("FG"), world.code("P"), "2027-02", 10, 100),
    ]
    header = world.get(f"supply-plans/{plan}")
    assert (header["counts"]["release_past_due"], header["counts"]["exceptions"]) == (2, 2)
    assert _plan_event(live, plan)["counts"]["release_past_due"] == 2
    summary = {r["month"]: r for r in world.get(f"supply-plans/{plan}/summary")["rows"]}
    assert summary["2027-01"]["exceptions"] == {"release_past_due": 1}
    assert summary["2027-03"]["exceptions"] == {}
