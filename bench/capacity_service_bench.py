"""Benchmark a production-plan run through the capacity service's job path on PostgreSQL.

    .venv/bin/python bench/capacity_service_bench.py                   # 2,000 x 50 x 24
    .venv/bin/python bench/capacity_service_bench.py --products 200 --resources 10 --months 12
    .venv/bin/python bench/capacity_service_bench.py --database postgresql://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/capacity_service_bench.py --shape demo --products 10000 --months 18

Creates a fresh database (dropped at the end), loads master data through the bulk
endpoints (resources, labour pools, calendars, routings, workforce), serves the supply
plan's production requirements from an in-memory fake of the supply service, then runs
the ``production-plan`` job exactly as the service does: fetch over HTTP, read master
data, build the model (numpy), solve with HiGHS, write plan + lines + positions + loads
with COPY and the outbox event in one transaction. Prints each phase (fetch, read, build,
solve, compare = chase/level, write) in wall and CPU seconds, and the plan's total cost so
runs before and after a change can be compared.

The instance follows bench/capacity_lp_bench.py: seasonal requirements, a preferred
method per product and a dearer alternate for ~40 %, capacity near the average load, one
resource-month in ten halved (maintenance), the first 20 lines staffed by 4 crews of 5.
"""

from __future__ import annotations

import argparse
import json
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import psycopg
from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlalchemy.engine import make_url
from sqlmodel import Session, select

from sop_capacity.main import create_app
from sop_capacity.production_plans.models import ProductionPlanLine, ProductionPlanPosition
from sop_capacity.settings import CapacitySettings
from sop_shared.auth import create_token
from sop_shared.db import transaction
from sop_shared.events import new_event
from sop_shared.jobs import Job
from sop_shared.migrations import upgrade
from sop_shared.readmodels.products import apply_product_changed
from sop_shared.settings import AuthSettings

DEMO_MONTH = "2027-01"
PHASES = ["fetch", "read", "build", "solve", "compare", "write"]
SERVICE_DIR = Path(__file__).resolve().parents[1] / "services" / "capacity"
MONTHS0 = (2027, 1)


def months(n: int) -> list[str]:
    y, m = MONTHS0
    return [f"{y + (m - 1 + i) // 12}-{(m - 1 + i) % 12 + 1:02d}" for i in range(n)]


MAX_MEAN_HOURS = 2000.0
WORKING_DAYS = 22


def calendar_fields(hours: float) -> dict[str, float]:
    """Shifts, hours per shift, working days and efficiency (<= 1 where possible) giving
    ``hours`` regular hours; refuses what no calendar can hold."""
    shifts = float(min(max(np.ceil(hours / (WORKING_DAYS * 24.0)), 1.0), 4.0))
    per_shift = min(max(hours / (shifts * WORKING_DAYS), 1e-6), 24.0)
    efficiency = hours / (shifts * per_shift * WORKING_DAYS)
    if efficiency > 2.0:
        raise SystemExit(f"{hours:.0f} h a month do not fit a calendar")
    return {
        "shifts": shifts,
        "working_days": WORKING_DAYS,
        "hours_per_shift": per_shift,
        "efficiency": efficiency,
    }


def instance(n_products: int, n_resources: int, n_months: int, seed: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    t = np.arange(n_months)
    base = rng.lognormal(mean=4.5, sigma=1.0, size=n_products)
    phase = rng.uniform(0, 12, size=n_products)
    season = 1.0 + 0.3 * np.sin(2 * np.pi * (t[None, :] + phase[:, None]) / 12)
    noise = rng.gamma(shape=20.0, scale=1 / 20.0, size=(n_products, n_months))
    requirement = np.round(base[:, None] * season * noise)

    primary = rng.integers(0, n_resources, size=n_products)
    hours = rng.uniform(0.02, 0.3, size=n_products)
    unit_cost = rng.uniform(1.0, 20.0, size=n_products)
    backorder = unit_cost * rng.uniform(0.5, 2.0, n_products)
    products = [f"P{p:04d}" for p in range(n_products)]
    lines = [f"L{r:02d}" for r in range(n_resources)]
    routings = [
        {
            "product": products[p],
            "resource": lines[primary[p]],
            "hours_per_unit": float(hours[p]),
            "cost_per_unit": float(unit_cost[p]),
            "priority": 1,
        }
        for p in range(n_products)
    ]
    for p in np.flatnonzero(rng.random(n_products) < 0.4):
        alt = int((primary[p] + rng.integers(1, n_resources)) % n_resources)
        routings.append(
            {
                "product": products[p],
                "resource": lines[alt],
                "hours_per_unit": float(hours[p] * rng.uniform(0.8, 1.5)),
                "cost_per_unit": float(unit_cost[p] * rng.uniform(1.1, 1.6)),
                "priority": 2,
            }
        )

    load = np.zeros((n_resources, n_months))
    np.add.at(load, primary, hours[:, None] * requirement)
    # Few resources for many products: slow the clock rather than exceed what a calendar
    # can hold (4 shifts x 24 h x 22 days at 200 % efficiency), as the scaled demo does.
    scale = min(1.0, MAX_MEAN_HOURS / float(load.mean(axis=1).max()))
    hours *= scale
    load *= scale
    for route in routings:
        route["hours_per_unit"] *= scale
    mean_load = load.mean(axis=1)
    available = np.repeat((mean_load * rng.uniform(0.95, 1.1, n_resources))[:, None], n_months, 1)
    available[rng.random((n_resources, n_months)) < 0.1] *= 0.5
    n_pools = min(4, n_resources // 5)
    crews, workforce = [], []
    for q in range(n_pools):
        members = list(range(5 * q, 5 * q + 5))
        crew = float(mean_load[members].sum() * 0.95 / 160.0)
        available[members] = mean_load[members, None] * 1.4  # machines not binding
        crews.append(f"CREW-{q}")
        workforce.append(
            {
                "pool": f"CREW-{q}",
                "headcount": crew,
                "hours_per_person": 160.0,
                "max_overtime_share": 0.2,
                "regular_hour_cost": 25.0,
                "overtime_hour_cost": 40.0,
                "hire_cost": 2000.0,
                "fire_cost": 3000.0,
                "min_headcount": 0.5 * crew,
                "max_headcount": 1.5 * crew,
            }
        )
    ot_cost = rng.uniform(30.0, 60.0, n_resources)
    resources = [{"code": c, "name": c, "site": "PA", "kind": "labour_pool"} for c in crews] + [
        {
            "code": lines[r],
            "name": lines[r],
            "site": "PA",
            "labour_pool": crews[r // 5] if r < 5 * n_pools else None,
            "overtime_hour_cost": float(ot_cost[r]),
        }
        for r in range(n_resources)
    ]
    labels = months(n_months)
    calendars = [
        {
            "resource": lines[r],
            "month": month,
            **calendar_fields(float(available[r, i])),
            "max_overtime_hours": None if r < 5 * n_pools else 0.15 * float(available[r, i]),
        }
        for r in range(n_resources)
        for i, month in enumerate(labels)
    ]
    p_idx, t_idx = np.nonzero(requirement > 0)
    requirements = [
        {
            "product": products[p],
            "site": "PA",
            "month": labels[t],
            "quantity": float(requirement[p, t]),
            "safety_stock": 0.0,
            "opening_stock": 0.0,
        }
        for p, t in zip(p_idx.tolist(), t_idx.tolist(), strict=True)
    ]
    # Costs: holding 0.02 x cost a month, backorder 0.25 x price = the drawn backorder cost.
    prices = {products[p]: float(backorder[p] / 0.25) for p in range(n_products)}
    costs = {products[p]: float(unit_cost[p]) for p in range(n_products)}
    return {
        "products": products,
        "prices": prices,
        "costs": costs,
        "resources": resources,
        "workforce": workforce,
        "calendars": calendars,
        "routings": routings,
        "requirements": requirements,
    }


def demo_instance(n_products: int, n_months: int) -> dict[str, Any]:
    """The cycle bench's company scaled to ``n_products`` (sop_cycle.demo: 3 sites, 3
    families, 6 resources, 2 methods per made product) with the production requirements a
    supply plan would send for its make item-sites: the last year's home-site sales of the
    same month +4 % a year, safety stock half a month of the next month's requirement."""
    from sop_cycle import demo  # the bench only borrows the generator

    company = demo.build(DEMO_MONTH, products=n_products)
    labels = company.horizon_months[:n_months]
    history = pd.DataFrame(company.history)
    make = pd.DataFrame([i for i in company.item_sites if i.get("make_or_buy") == "make"])
    make = make[make["product"].isin({p["code"] for p in company.products})]
    sales = history.pivot_table(index=["product", "site"], columns="month", values="quantity")
    last_year = [demo.shift_month(m, -12 * (1 + i // 12)) for i, m in enumerate(labels)]
    growth = np.array([1.04 ** (1 + i // 12) for i in range(len(labels))])
    keys = pd.MultiIndex.from_frame(make[["product", "site"]])
    # the NPI has no history: it borrows its analog's
    analog = {p["code"]: p.get("analog_code") for p in company.products}
    source = pd.MultiIndex.from_arrays(
        [[analog[p] or p for p in make["product"]], make["site"].tolist()]
    )
    quantity = np.round(sales.reindex(source)[last_year].fillna(0.0).to_numpy() * growth)
    cover = np.round(0.5 * np.concatenate([quantity[:, 1:], quantity[:, -1:]], axis=1))
    p_idx, t_idx = np.divmod(np.arange(quantity.size), n_months)
    products = keys.get_level_values(0).to_numpy(object)
    sites = keys.get_level_values(1).to_numpy(object)
    requirements = [
        {
            "product": pr,
            "site": si,
            "month": labels[t],
            "quantity": float(q),
            "safety_stock": float(ss),
            "opening_stock": 0.0,
        }
        for pr, si, t, q, ss in zip(
            products[p_idx].tolist(),
            sites[p_idx].tolist(),
            t_idx.tolist(),
            quantity.ravel().tolist(),
            cover.ravel().tolist(),
            strict=True,
        )
    ]
    calendars = [c for c in company.calendars if c["month"] in set(labels)]
    return {
        "products": [p["code"] for p in company.products],
        "prices": {p["code"]: p["price"] for p in company.products},
        "costs": {p["code"]: p["cost"] for p in company.products},
        "families": {p["code"]: p["family"] for p in company.products},
        "resources": company.resources,
        "workforce": company.workforce,
        "calendars": calendars,
        "routings": company.routings,
        "requirements": requirements,
    }


def fresh_database(admin: str) -> str:
    name = f"sop_bench_capacity_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return make_url(admin).set(database=name).render_as_string(hide_password=False)


def drop(admin: str, url: str) -> None:
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')


def supply_transport(requirements: list[dict[str, Any]]) -> httpx.MockTransport:
    body = "".join(json.dumps(r) + "\n" for r in requirements).encode()

    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body, headers={"content-type": "application/x-ndjson"})

    return httpx.MockTransport(handle)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=2000)
    parser.add_argument("--resources", type=int, default=50)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--database", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--strategy", default="optimal", choices=["optimal", "chase", "level"])
    parser.add_argument(
        "--shape",
        default="random",
        choices=["random", "demo"],
        help="demo: the cycle bench's company scaled to --products (--resources ignored)",
    )
    args = parser.parse_args()

    t0 = time.perf_counter()
    if args.shape == "demo":
        data = demo_instance(args.products, args.months)
    else:
        data = instance(args.products, args.resources, args.months, args.seed)
    print(
        f"instance ({args.shape}): {len(data['products'])} products, "
        f"{len(data['resources'])} resources ({len(data['workforce'])} crews) x {args.months} "
        f"months; {len(data['routings'])} routings, {len(data['requirements'])} requirement "
        f"rows (generated in {time.perf_counter() - t0:.2f} s)"
    )
    url = fresh_database(args.database)
    try:
        t0 = time.perf_counter()
        upgrade(SERVICE_DIR, url)
        print(f"database: {make_url(url).database} migrated in {time.perf_counter() - t0:.2f} s")
        settings = CapacitySettings(database_url=url, migrate_on_start=False, run_workers=False)
        app = create_app(settings, supply_transport=supply_transport(data["requirements"]))
        token = create_token(AuthSettings(), subject="bench", roles=["capacity_planner"])
        headers = {"Authorization": f"Bearer {token}"}
        with TestClient(app) as client:
            engine = app.state.engine
            t0 = time.perf_counter()
            with transaction(engine) as session:
                for code in data["products"]:
                    event = new_event(
                        source="/bench",
                        type="sop.demand.product.changed.v1",
                        subject=code,
                        data={
                            "code": code,
                            "name": code,
                            "family": data.get("families", {}).get(code, "F"),
                            "category": "C",
                            "price": data["prices"][code],
                            "cost": data["costs"][code],
                            "version": 1,
                        },
                    )
                    apply_product_changed(session, event)
            loaded = {"products (read model)": time.perf_counter() - t0}
            for path in ("resources", "workforce", "calendars", "routings"):
                t0 = time.perf_counter()
                response = client.post(
                    f"/api/v1/{path}/bulk",
                    content="\n".join(json.dumps(r) for r in data[path]).encode(),
                    headers={**headers, "content-type": "application/x-ndjson"},
                )
                assert response.status_code < 300, response.text[:2000]
                loaded[f"{path} ({len(data[path])} rows, bulk API)"] = time.perf_counter() - t0
            for what, seconds in loaded.items():
                print(f"load {what}: {seconds:.2f} s")

            accepted = client.post(
                "/api/v1/production-plans",
                json={"supply_plan_id": "SP-BENCH", "cycle": "2027-01", "strategy": args.strategy},
                headers=headers,
            )
            accepted.raise_for_status()
            job_id = uuid.UUID(accepted.json()["id"])
            runner = app.state.jobs
            t0, c0 = time.perf_counter(), time.process_time()
            runner.run(job_id, "production-plan", runner.handlers["production-plan"])
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            with Session(engine) as session:
                job = session.get(Job, job_id)
                assert job is not None
                if job.state != "succeeded":
                    raise SystemExit(f"job failed: {job.error}")
                result = job.result or {}
                lines = session.exec(select(func.count()).select_from(ProductionPlanLine)).one()
                positions = session.exec(
                    select(func.count()).select_from(ProductionPlanPosition)
                ).one()
            plan = client.get(
                f"/api/v1/production-plans/{result['production_plan_id']}", headers=headers
            ).json()
            print(f"strategy: {plan['strategy']}  status: {plan['solve_status']}")
            print("model: " + ", ".join(f"{k} {v:,}" for k, v in plan["model_size"].items()))
            print("costs: " + ", ".join(f"{k} {v:,.0f}" for k, v in plan["costs"].items()))
            print(
                f"plan: {lines:,} lines, {positions:,} positions, ending backorder "
                f"{plan['totals']['ending_backorder']:,.0f}, overtime hours "
                f"{plan['totals']['overtime_hours']:,.0f}"
            )
            print(f"total cost {plan['costs']['total']:.6f}")
            print(f"load average: {Path('/proc/loadavg').read_text().strip()}")
            print(f"{'phase':<10} {'wall s':>8} {'cpu s':>8}")
            phases = result["phases"]  # stored as JSON: keys come back in any order
            for name in sorted(phases, key=PHASES.index):
                seconds = phases[name]
                print(f"{name:<10} {seconds['wall']:8.2f} {seconds['cpu']:8.2f}")
            print(f"{'job':<10} {wall:8.2f} {cpu:8.2f}")
    finally:
        drop(args.database, url)
        print("database dropped")


if __name__ == "__main__":
    main()
