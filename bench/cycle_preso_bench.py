"""Benchmark: from a demand plan submitted to the pre-S&OP view ready.

The clock starts when ``POST /demand-plans/{id}/submit`` returns (the plan's event is in
demand's outbox) and stops when the cycle service's ``GET /cycles/{month}/pre-sop`` answers
``ready`` for that plan: supply has planned it (event), capacity has planned the supply plan
(event), supply has answered with the constrained plan (event), the cycle has recorded all
three, and the view has been assembled over REST from the three summaries. Intermediate
times say where the time goes. Target (issue 7): p95 < 5 s for the demo company.

Against a running stack (``make run``, URLs as arguments)::

    .venv/bin/python bench/cycle_preso_bench.py --demand-url http://127.0.0.1:8101 \\
        --supply-url http://127.0.0.1:8102 --capacity-url http://127.0.0.1:8103 \\
        --cycle-url http://127.0.0.1:8104 --runs 5

Or let it start its own stack on free ports, load the demo company and run the forecast
(``--products 10000`` scales the company to 10,000 products × 3 sites)::

    .venv/bin/python bench/cycle_preso_bench.py --start-stack --runs 5

Without arguments (``make bench``) it measures only the cycle service's own share in
process: recording the three plan events and assembling the view from fake peers whose
summaries are sized for ``--families`` × ``--months`` (10,000 products fall into ~50
families; the view is family × month, so its cost follows families, not products).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from sop_shared.auth import create_token
from sop_shared.settings import AuthSettings

MARKS = ("demand_recorded", "supply_recorded", "production_recorded", "settled", "view_ready")


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values), q)) if values else float("nan")


def report(title: str, runs: list[dict[str, float]]) -> None:
    print(f"\n{title}: {len(runs)} run(s)")
    print(f"  {'mark':<22}{'p50 s':>9}{'p95 s':>9}{'max s':>9}")
    for mark in MARKS:
        values = [r[mark] for r in runs if mark in r]
        if values:
            print(f"  {mark:<22}{pct(values, 50):>9.2f}{pct(values, 95):>9.2f}{max(values):>9.2f}")


# --- against a stack ----------------------------------------------------------------------


class Stack:
    def __init__(self, urls: dict[str, str], token: str) -> None:
        self.urls = urls
        self.http = httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=120)

    def get(self, service: str, path: str, **params: Any) -> Any:
        """GET, waiting out a busy service (503: e.g. SQLite locked by a running job)."""
        deadline = time.monotonic() + 300
        while True:
            response = self.http.get(self.urls[service] + path, params=params)
            if response.status_code != 503 or time.monotonic() > deadline:
                response.raise_for_status()
                return response.json()
            time.sleep(0.5)

    def post(self, service: str, path: str, body: Any = None, **headers: str) -> httpx.Response:
        return self.http.post(self.urls[service] + path, json=body, headers=headers)


def ensure_forecast(stack: Stack, month: str, windows: int = 3, timeout: float = 7200) -> str:
    """A succeeded forecast run of the cycle (started if there is none); set-up, not timed."""
    runs = stack.get("demand", "/api/v1/forecast-runs", cycle=month)["items"]
    done = [r for r in runs if r["status"] == "succeeded"]
    if done:
        return str(done[0]["id"])
    started = stack.post(
        "demand", "/api/v1/forecast-runs", {"cycle": month, "horizon": 18, "n_windows": windows}
    )
    started.raise_for_status()
    run_id = started.json()["id"]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = stack.get("demand", f"/api/v1/forecast-runs/{run_id}")
        if run["status"] in ("succeeded", "failed"):
            print(f"forecast run {run['status']} ({run.get('series')} series)", flush=True)
            if run["status"] == "failed":
                raise RuntimeError(f"forecast run failed: {run.get('error')}")
            return str(run_id)
        time.sleep(1)
    raise TimeoutError("forecast run did not finish")


def one_run(stack: Stack, month: str, run_id: str, timeout: float) -> dict[str, float]:
    created = stack.post(
        "demand", "/api/v1/demand-plans", {"cycle": month, "forecast_run_id": run_id}
    )
    created.raise_for_status()
    plan_id = created.json()["id"]
    etag = created.headers.get("ETag", '"1"')
    submitted = stack.post("demand", f"/api/v1/demand-plans/{plan_id}/submit", **{"If-Match": etag})
    submitted.raise_for_status()
    t0 = time.perf_counter()
    marks: dict[str, float] = {}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        cycle = stack.get("cycle", f"/api/v1/cycles/{month}")
        plans = cycle["current_plans"]
        now = time.perf_counter() - t0
        demand = plans.get("demand") or {}
        if demand.get("plan_id") == plan_id:
            marks.setdefault("demand_recorded", now)
            if plans.get("supply"):
                marks.setdefault("supply_recorded", now)
            if plans.get("production"):
                marks.setdefault("production_recorded", now)
            if (
                plans.get("supply")
                and plans["supply"]["status"] == "constrained"
                and plans.get("production")
            ):
                view = stack.get("cycle", f"/api/v1/cycles/{month}/pre-sop")
                if view["ready"] and view["plans"]["demand"]["plan_id"] == plan_id:
                    marks.setdefault("settled", now)
                    marks["view_ready"] = time.perf_counter() - t0
                    return marks
        time.sleep(0.1)
    raise TimeoutError(f"pre-S&OP view not ready {timeout}s after submitting {plan_id}: {marks}")


def run_stack(
    urls: dict[str, str], token: str, month: str, runs: int, timeout: float, windows: int = 3
) -> None:
    stack = Stack(urls, token)
    opened = stack.post("cycle", "/api/v1/cycles", {"month": month})
    if opened.status_code not in (201, 409):
        opened.raise_for_status()
    run_id = ensure_forecast(stack, month, windows)
    results = []
    for n in range(runs):
        marks = one_run(stack, month, run_id, timeout)
        print(f"run {n + 1}: " + ", ".join(f"{k} {v:.2f}s" for k, v in marks.items()), flush=True)
        results.append(marks)
    report(f"demand plan submitted → pre-S&OP view ready (cycle {month})", results)


def start_stack_and_run(args: argparse.Namespace) -> None:
    import os

    from sop_cycle import demo
    from sop_shared.broker import free_port
    from sop_shared.devstack import SERVICES, DevStack
    from sop_shared.testing import create_database, drop_database

    tmp = Path(tempfile.mkdtemp(prefix="cycle-bench-"))
    databases: dict[str, str] = {}
    if args.postgres:  # one throw-away database per service, dropped at the end
        os.environ["SOP_TEST_DATABASE_URL"] = args.postgres
        databases = {n: create_database(f"{n}_cyclebench", tmp) for n in SERVICES}
    stack = DevStack(
        data_dir=tmp,
        ports={n: free_port() for n in SERVICES},
        broker_port=free_port(),
        database_urls=databases,
        env={"SOP_ENV": "test", "SOP_LOG_LEVEL": "WARNING"},
        quiet=True,
    )
    try:
        with stack:
            urls = {n: stack.url(n) for n in SERVICES}
            token = create_token(AuthSettings(), subject="bench", roles=["admin"])
            started = time.perf_counter()
            summary = demo.load(
                urls, token, month=args.month, products=args.products, wait_seconds=900
            )
            print(summary, flush=True)
            print(f"loaded in {time.perf_counter() - started:.1f}s (logs in {tmp})", flush=True)
            run_stack(urls, token, args.month, args.runs, args.timeout, args.windows)
    finally:
        for url in databases.values():
            drop_database(url)


# --- the cycle's own share, in process -------------------------------------------------------


def run_in_process(args: argparse.Namespace) -> None:
    """Record the three plan events and assemble the view against fake peers."""
    from sqlalchemy.engine import Engine

    from sop_cycle.consumers.handlers import HANDLERS
    from sop_cycle.cycles import service as cycles
    from sop_cycle.cycles.calendar import shift_month
    from sop_cycle.cycles.schemas import CycleCreate
    from sop_cycle.peers import Peers
    from sop_cycle.plans.service import current_plans
    from sop_cycle.presop.service import assemble, thresholds
    from sop_cycle.settings import CycleSettings
    from sop_shared.auth import Caller, Role
    from sop_shared.db import make_engine, transaction
    from sop_shared.events import new_event
    from sop_shared.events.catalog import PlanChangedData
    from sop_shared.migrations import upgrade

    rng = np.random.default_rng(7)
    month = args.month
    months = [shift_month(month, i) for i in range(args.months)]
    families = [f"FAM-{i:03d}" for i in range(args.families)]
    resources = [f"RES-{i:03d}" for i in range(args.resources)]
    grid = [(f, m) for f in families for m in months]
    qty = rng.gamma(4, 2500, len(grid))
    demand_doc = {
        "items": [
            {
                "family": f,
                "month": m,
                "quantity": q,
                "revenue": q * 3.0,
                "budget_quantity": q * 0.97,
                "budget_revenue": q * 2.9,
            }
            for (f, m), q in zip(grid, qty, strict=True)
        ]
    }
    short = np.where(rng.random(len(grid)) < 0.1, qty * 0.2, 0.0)
    supply_doc = {
        "rows": [
            {
                "family": f,
                "month": m,
                "demand": q,
                "supply": q - s,
                "shortage": s,
                "closing_stock": q * 0.6,
                "safety_stock": q * 0.5,
                "inventory_value": q * 0.6 * 1.4,
                "exceptions": {"stockout": int(s > 0)},
                "contract_issues": 0,
            }
            for (f, m), q, s in zip(grid, qty, short, strict=True)
        ]
    }
    capacity_doc = {
        "utilisation": [
            {
                "resource": r,
                "month": m,
                "available_hours": 320.0,
                "hours_used": u,
                "utilisation": u / 320,
            }
            for r in resources
            for m, u in zip(months, rng.uniform(150, 360, len(months)), strict=True)
        ],
        "bottlenecks": [],
        "costs": {"production": 1.0},
        "overtime": {"total_hours": 10.0, "cost": 100.0},
        "unmet_demand": {"ending_backorder": 0.0, "items": []},
    }
    bodies = {
        "contract-review": json.dumps({"items": []}).encode(),
        "demand-plans": json.dumps(demand_doc).encode(),
        "supply-plans": json.dumps(supply_doc).encode(),
        "production-plans": json.dumps(capacity_doc).encode(),
    }

    def answer(request: httpx.Request) -> httpx.Response:
        collection = request.url.path.split("/")[3]
        if request.url.path.endswith("/contract-review"):
            collection = "contract-review"
        if collection in bodies:
            return httpx.Response(
                200, content=bodies[collection], headers={"content-type": "application/json"}
            )
        return httpx.Response(404, json={"code": "not-found", "title": "Not found", "status": 404})

    settings = CycleSettings()
    peers = Peers.from_settings(settings, transport=httpx.MockTransport(answer))
    tmp = Path(tempfile.mkdtemp(prefix="cycle-bench-"))
    url = args.database_url or f"sqlite:///{tmp / 'cycle.db'}"
    upgrade(Path(__file__).resolve().parents[1] / "services" / "cycle", url)
    engine: Engine = make_engine(url)
    actor = Caller(subject="bench", roles=frozenset({Role.sop_coordinator}))
    with transaction(engine) as s:
        cycles.open_cycle(s, data=CycleCreate(month=month), actor=actor, settings=settings)

    def event(kind: str, plan_id: str, version: int, status: str, upstream: str | None) -> Any:
        kinds = {
            "demand": ("demand", "sop.demand.plan.changed.v1"),
            "supply": ("supply", "sop.supply.plan.changed.v1"),
            "production": ("capacity", "sop.capacity.plan.changed.v1"),
        }
        domain, type_ = kinds[kind]
        return new_event(
            source=f"/sop/{domain}",
            type=type_,
            subject=plan_id,
            cycle=month,
            data=PlanChangedData(
                plan_id=plan_id,
                cycle=month,
                version=version,
                status=status,
                upstream_plan_id=upstream,
            ),
        )

    handle_ms, view_ms = [], []
    for n in range(1, args.runs + 1):
        chain = [
            event("demand", f"D{n}", n, "submitted", None),
            event("supply", f"S{n}", 2 * n - 1, "unconstrained", f"D{n}"),
            event("production", f"P{n}", n, "optimal", f"S{n}"),
            event("supply", f"S{n}c", 2 * n, "constrained", f"D{n}"),
        ]
        started = time.perf_counter()
        for e in chain:
            with transaction(engine) as s:
                HANDLERS[e.type](s, e)
        handle_ms.append((time.perf_counter() - started) * 1000 / len(chain))
        started = time.perf_counter()
        with transaction(engine) as s:
            plans = current_plans(s, cycle=month)
        done = assemble(peers, plans, thresholds(settings))
        assert done.ready, done.missing
        view_ms.append((time.perf_counter() - started) * 1000)
    print(
        f"cycle's own share, in process ({url.split(':')[0]}): {args.families} families × "
        f"{args.months} months, {args.resources} resources, {args.runs} runs"
    )
    print(
        f"  plan event applied (record + step moves):  p50 {statistics.median(handle_ms):.1f} ms"
        f"  p95 {pct(handle_ms, 95):.1f} ms"
    )
    print(
        f"  pre-S&OP view assembled (3 summaries):      p50 {statistics.median(view_ms):.1f} ms"
        f"  p95 {pct(view_ms, 95):.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    for name in ("demand", "supply", "capacity", "cycle"):
        parser.add_argument(f"--{name}-url")
    parser.add_argument("--token", help="bearer token (default: an admin token for the dev secret)")
    parser.add_argument("--month", default=time.strftime("%Y-%m"), help="cycle month")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per run")
    parser.add_argument(
        "--start-stack", action="store_true", help="start a stack with the demo company"
    )
    parser.add_argument(
        "--postgres",
        metavar="ADMIN_URL",
        help="with --start-stack: PostgreSQL databases (e.g. postgresql://postgres@127.0.0.1:5432/postgres)",
    )
    parser.add_argument(
        "--products", type=int, help="with --start-stack: scale the company to N products × 3 sites"
    )
    parser.add_argument(
        "--windows",
        type=int,
        default=3,
        help="backtest windows of the set-up forecast run (not timed; 1 keeps 30k series short)",
    )
    parser.add_argument("--families", type=int, default=50, help="in-process: families")
    parser.add_argument("--months", type=int, default=24, help="in-process: horizon months")
    parser.add_argument("--resources", type=int, default=50, help="in-process: resources")
    parser.add_argument("--database-url", help="in-process: database (default a SQLite file)")
    args = parser.parse_args()
    urls = {n: getattr(args, f"{n}_url") for n in ("demand", "supply", "capacity", "cycle")}
    if args.start_stack:
        start_stack_and_run(args)
    elif all(urls.values()):
        token = args.token or create_token(AuthSettings(), subject="bench", roles=["admin"])
        run_stack(
            {k: v.rstrip("/") for k, v in urls.items() if v},
            token,
            args.month,
            args.runs,
            args.timeout,
            args.windows,
        )
    else:
        run_in_process(args)


if __name__ == "__main__":
    main()
