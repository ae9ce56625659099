"""The demo company generator: deterministic, seasonal, of the promised size and coherent;
and its loader: only endpoints the services offer, idempotent, tolerant of missing ones."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from typing import Any

import httpx
import pytest

from sop_cycle import demo

MONTH = "2026-12"


@pytest.fixture(scope="module")
def company() -> demo.DemoCompany:
    return demo.build(MONTH)


def test_same_seed_same_company_other_seed_other_numbers(company: demo.DemoCompany) -> None:
    again = demo.build(MONTH)
    assert again.history == company.history
    assert again.calendars == company.calendars
    other = demo.build(MONTH, seed=1)
    assert other.history != company.history
    assert [p["code"] for p in other.products] == [p["code"] for p in company.products]


def test_sizes(company: demo.DemoCompany) -> None:
    assert len(company.sites) == 3
    assert company.families == ["BEV", "CARE", "SNK"]
    assert len(company.products) == 20
    assert company.history_months[0] == "2023-12"
    assert company.history_months[-1] == "2026-11"  # the month before the cycle
    assert len(company.history_months) == 36
    series = {(r["product"], r["site"]) for r in company.history}
    assert len(series) == 21  # 19 products at home + 2 beverages traded at the DC
    assert len(company.history) == 21 * 36
    assert {r["site"] for r in company.history} == {"PLANT-N", "PLANT-S", "DC-E"}
    assert len(company.budgets) == 3 * 24
    assert len(company.promotions) == 2


def test_lifecycle_npi_and_eol(company: demo.DemoCompany) -> None:
    by_code = {p["code"]: p for p in company.products}
    npi = by_code["BEV-008"]
    assert (npi["lifecycle"], npi["analog_code"], npi["launch_date"]) == (
        "npi",
        "BEV-001",
        "2027-02-01",
    )
    assert "BEV-008" not in {r["product"] for r in company.history}
    eol = by_code["SNK-006"]
    assert (eol["lifecycle"], eol["eol_date"], eol["successor_code"]) == (
        "phase_out",
        "2027-03-01",
        "SNK-005",
    )
    # every product still selling has history up to the month before the cycle
    last = {r["product"] for r in company.history if r["month"] == "2026-11"}
    assert {p["code"] for p in company.products if p["lifecycle"] != "npi"} == last


def _family_by_month_of_year(company: demo.DemoCompany, family: str) -> dict[int, float]:
    families = {p["code"]: p["family"] for p in company.products}
    totals: defaultdict[int, float] = defaultdict(float)
    for r in company.history:
        if families[r["product"]] == family:
            totals[int(r["month"][5:])] += r["quantity"]
    return totals


def test_seasonality(company: demo.DemoCompany) -> None:
    bev = _family_by_month_of_year(company, "BEV")
    snk = _family_by_month_of_year(company, "SNK")
    assert max(bev, key=bev.get) in (6, 7, 8)  # type: ignore[arg-type]
    assert bev[7] > 1.6 * bev[1]  # ±35 % swing: July ≈ 1.35 / 0.65 of January
    assert max(snk, key=snk.get) in (11, 12, 1)  # type: ignore[arg-type]
    assert snk[12] > 1.4 * snk[6]


def test_historic_promotion_lifts_its_month(company: demo.DemoCompany) -> None:
    june = [
        r["quantity"]
        for r in company.history
        if r["product"] == "BEV-002" and r["site"] == "PLANT-N" and r["month"].endswith("-06")
    ]
    may = [
        r["quantity"]
        for r in company.history
        if r["product"] == "BEV-002" and r["site"] == "PLANT-N" and r["month"].endswith("-05")
    ]
    assert sum(june) > 1.25 * sum(may)


def test_master_data_hangs_together(company: demo.DemoCompany) -> None:
    products = {p["code"] for p in company.products}
    materials = {m["code"] for m in company.materials}
    sites = {s["code"] for s in company.sites}
    assert {i["site"] for i in company.item_sites} <= sites
    assert {i["product"] for i in company.item_sites} == products | materials
    assert {(i["product"], i["site"]) for i in company.item_sites} == {
        (s["product"], s["site"]) for s in company.inventory
    }
    assert {s["month"] for s in company.inventory} == {"2026-11"}
    assert {b["product"] for b in company.boms} <= products
    assert {b["material"] for b in company.boms} <= materials
    assert {c["material"] for c in company.contracts} <= materials
    resources = {r["code"] for r in company.resources}
    assert {r["resource"] for r in company.routings} <= resources
    assert {r["product"] for r in company.routings} == {
        p for p in products if not p.startswith("CARE")
    }
    pools = {r["code"] for r in company.resources if r["kind"] == "labour_pool"}
    assert {w["pool"] for w in company.workforce} == pools
    # calendars: every non-pool resource, every month of the next year at least
    covered = Counter(c["resource"] for c in company.calendars)
    assert set(covered) == resources - pools
    assert min(covered.values()) >= 12
    assert "2026-12" in {c["month"] for c in company.calendars}
    assert {h["month"] for h in company.production_history} >= {"2026-11"}


class FakeStack:
    """Four services behind one MockTransport; ``missing`` endpoints are not in OpenAPI."""

    def __init__(self, company: demo.DemoCompany, missing: set[str]) -> None:
        self.codes = [p["code"] for p in company.products]
        self.missing = missing
        self.posts: list[tuple[str, str, int, str | None]] = []
        self.transport = httpx.MockTransport(self.handle)

    PATHS = {
        "demand": [
            "/api/v1/products/bulk",
            "/api/v1/sales-history",
            "/api/v1/demand-budgets",
            "/api/v1/promotions",
        ],
        "supply": [
            "/api/v1/sites",
            "/api/v1/materials/bulk",
            "/api/v1/suppliers/bulk",
            "/api/v1/item-sites/bulk",
            "/api/v1/inventory/bulk",
            "/api/v1/open-supply/bulk",
            "/api/v1/boms/bulk",
            "/api/v1/contracts/bulk",
            "/api/v1/supply-budget/bulk",
        ],
        "capacity": [
            "/api/v1/resources/bulk",
            "/api/v1/calendars/bulk",
            "/api/v1/routings/bulk",
            "/api/v1/workforce/bulk",
            "/api/v1/production-history/bulk",
        ],
        "cycle": ["/api/v1/cycles"],
    }

    def handle(self, request: httpx.Request) -> httpx.Response:
        service = request.url.host.split(".")[0]
        path = request.url.path
        if path == "/openapi.json":
            paths: dict[str, Any] = {
                p: {"post": {}} for p in self.PATHS[service] if p not in self.missing
            }
            if service in ("supply", "capacity"):
                paths["/api/v1/products"] = {"get": {}}
            return httpx.Response(200, json={"paths": paths})
        if request.method == "GET":
            return httpx.Response(
                200, json={"items": [{"code": c} for c in self.codes], "total": len(self.codes)}
            )
        body = json.loads(request.content)
        self.posts.append(
            (
                service,
                path,
                len(body) if isinstance(body, list) else 1,
                request.headers.get("Idempotency-Key"),
            )
        )
        if path == "/api/v1/sites" and body["code"] == "DC-E":
            return httpx.Response(409, json={"code": "site-exists"})
        return httpx.Response(201, json={})


def test_loader_sends_everything_in_order_and_skips_missing_endpoints(
    company: demo.DemoCompany,
) -> None:
    stack = FakeStack(company, missing={"/api/v1/open-supply/bulk"})
    urls = {s: f"http://{s}.test" for s in ("demand", "supply", "capacity", "cycle")}
    summary = demo.load(urls, "token", month=MONTH, transport=stack.transport, wait_seconds=1)
    assert summary == (
        "demo company: 3 sites, 3 families, 20 products, 36 months of history (756 rows), "
        "6 resources; cycle 2026-12 opened; skipped 1 missing endpoint(s)"
    )
    sent = [(s, p) for s, p, _, _ in stack.posts]
    assert sent[0] == ("demand", "/api/v1/products/bulk")
    assert sent[-1] == ("cycle", "/api/v1/cycles")
    assert ("supply", "/api/v1/open-supply/bulk") not in sent
    assert ("demand", "/api/v1/sales-history", 756) in [(s, p, n) for s, p, n, _ in stack.posts]
    keys = [k for *_, k in stack.posts]
    assert all(k and k.startswith("demo-") for k in keys)
    # a second run sends the very same keys (the services replay instead of duplicating)
    first = keys
    stack.posts.clear()
    demo.load(urls, "token", month=MONTH, transport=stack.transport, wait_seconds=1)
    assert [k for *_, k in stack.posts] == first


def test_a_refusal_is_an_error_naming_the_service(company: demo.DemoCompany) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/openapi.json":
            return httpx.Response(200, json={"paths": {"/api/v1/products/bulk": {"post": {}}}})
        return httpx.Response(422, json={"code": "validation-error", "detail": "row 3, price"})

    urls = {s: f"http://{s}.test" for s in ("demand", "supply", "capacity", "cycle")}
    with pytest.raises(demo.DemoLoadError, match=r"demand refused products \(422\)"):
        demo.load(urls, "t", month=MONTH, transport=httpx.MockTransport(refuse), wait_seconds=1)


def test_scaled_company_for_benchmarks() -> None:
    big = demo.build(MONTH, products=200)
    assert len(big.products) == 200
    assert len({p["code"] for p in big.products}) == 200
    # every product but the NPI sold at the three sites, made at its plant at most
    series = {(r["product"], r["site"]) for r in big.history}
    assert len(series) == 199 * 3
    keys = [(i["product"], i["site"]) for i in big.item_sites]
    assert len(keys) == len(set(keys))
    refs = [o["order_ref"] for o in big.open_supply]
    assert len(refs) == len(set(refs))
    made = {(i["product"], i["site"]) for i in big.item_sites if i["make_or_buy"] == "make"}
    assert {site for _, site in made} == {"PLANT-N", "PLANT-S"}
    # the volume is shared out: the company sells about what the 20-product demo sells
    small = sum(r["quantity"] for r in demo.build(MONTH).history)
    home = sum(r["quantity"] for r in big.history)
    assert 0.7 * small < home / 1.6 < 1.4 * small  # 1 + 2 × 0.3 of the home volume
