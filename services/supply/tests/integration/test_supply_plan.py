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
