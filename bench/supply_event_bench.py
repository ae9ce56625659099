"""Supply plan from the demand event to the published supply event, real services, PostgreSQL.

What runs, as in production: the embedded Kafka broker; the demand service (uvicorn) on its
own PostgreSQL database holding a submitted demand plan of ``--items`` item-sites × 24
months (2.4 M lines); the supply service on another database with the master data of
``bench/supply_service_bench.py`` (100,000 item-sites, ~100k BOM lines into 5,000 materials).

The clock starts when the ``sop.demand.plan.changed.v1`` event commits in demand's outbox
(as ``POST /demand-plans/{id}/submit`` writes it) and stops when this script's Kafka
consumer receives supply's ``sop.supply.plan.changed.v1`` for that demand plan: demand's
relay, supply's consumer and inbox, the job poller, the fetch of every line over HTTP as
CSV (PostgreSQL COPY on demand's side, pandas on supply's), compute, the write of the plan
in one transaction, and supply's relay. The job's own phases come from its result.

Run: ``.venv/bin/python bench/supply_event_bench.py [--items 100000] [--runs 2]
[--admin-url postgresql://postgres@127.0.0.1:5432/postgres]``. Target (issue 5): < 30 s.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from kafka import KafkaConsumer
from sqlalchemy import text
from sqlmodel import Session, col, select

sys.path.insert(0, str(Path(__file__).resolve().parent))

from supply_plan_bench import build_instance  # noqa: E402
from supply_service_bench import FIRST_MONTH, seed  # noqa: E402

from sop_demand.plans.events import plan_changed  # noqa: E402
from sop_demand.plans.models import DemandPlan, DemandPlanLine  # noqa: E402
from sop_shared.broker import free_port  # noqa: E402
from sop_shared.bulk import copy_rows  # noqa: E402
from sop_shared.db import make_engine, transaction  # noqa: E402
from sop_shared.devstack import DevStack  # noqa: E402
from sop_shared.events.envelope import topic_for  # noqa: E402
from sop_shared.jobs.models import Job  # noqa: E402
from sop_shared.migrations import upgrade  # noqa: E402
from sop_shared.testing import create_database, drop_database  # noqa: E402
from sop_supply.plans.compute import month_range  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CYCLE = "2026-12"
SEED_SCENARIO = "bench-seed"


def seed_demand(engine, demand: pd.DataFrame) -> None:  # noqa: ANN001
    """The lines of a submitted plan, straight into demand's tables (COPY), once."""
    with transaction(engine) as s:
        plan = DemandPlan(
            cycle=CYCLE, scenario=SEED_SCENARIO, version_no=1, status="draft", created_by="bench"
        )
        s.add(plan)
        s.flush()
        q = demand["quantity"].to_numpy()
        columns = ["plan_id", "product", "site", "month", "family", "category"]
        columns += ["baseline", "adjusted", "quantity", "price", "revenue"]
        rows = zip(
            [plan.id] * len(demand),
            demand["product"],
            demand["site"],
            demand["month"],
            ["FAM"] * len(demand),
            ["CAT"] * len(demand),
            q,
            q,
            q,
            [10.0] * len(demand),
            q * 10.0,
            strict=True,
        )
        copy_rows(s, DemandPlanLine.__table__, columns, rows)


def prepare(engine, run: int) -> uuid.UUID:  # noqa: ANN001
    """A draft version holding the seeded lines (copied before the clock starts)."""
    with transaction(engine) as s:
        seeded = s.execute(
            text("SELECT id FROM demand_plan WHERE scenario = :seed"), {"seed": SEED_SCENARIO}
        ).scalar_one()
        plan = DemandPlan(
            cycle=CYCLE, scenario="base", version_no=run + 1, status="draft", created_by="bench"
        )
        s.add(plan)
        s.flush()
        s.execute(
            text(
                "INSERT INTO demand_plan_line SELECT :new, product, site, month, family,"
                " category, baseline, adjusted, quantity, price, revenue"
                " FROM demand_plan_line WHERE plan_id = :old"
            ),
            {"new": plan.id, "old": seeded},
        )
        return plan.id


def submit(engine, plan_id: uuid.UUID, products: int) -> str:  # noqa: ANN001
    """What ``POST /demand-plans/{id}/submit`` commits: the version frozen with its totals
    and its event in the outbox, in one transaction."""
    with transaction(engine) as s:
        plan = s.get(DemandPlan, plan_id)
        assert plan is not None
        totals = s.execute(
            text(
                "SELECT count(*), coalesce(sum(quantity), 0), coalesce(sum(revenue), 0)"
                " FROM demand_plan_line WHERE plan_id = :id"
            ),
            {"id": plan.id},
        ).one()
        plan.lines, plan.total_quantity, plan.total_revenue = totals
        plan.status, plan.submitted_by, plan.submitted_at = "submitted", "bench", datetime.now(UTC)
        plan_changed(s, plan, products=products)
        return str(plan.id)


def wait_for_supply_event(consumer: KafkaConsumer, demand_plan: str, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for records in consumer.poll(timeout_ms=200).values():
            for record in records:
                event = json.loads(record.value)
                data = event.get("data") or {}
                if (
                    event.get("type") == "sop.supply.plan.changed.v1"
                    and data.get("upstream_plan_id") == demand_plan
                ):
                    return event
    raise TimeoutError(f"no supply plan event for demand plan {demand_plan} in {timeout} s")


def job_result(engine, started: datetime) -> dict:  # noqa: ANN001
    """The supply-plan job's result (its phases) from supply's own job table."""
    with Session(engine) as s:
        job = s.exec(
            select(Job)
            .where(Job.kind == "supply-plan", col(Job.created_at) >= started)
            .order_by(col(Job.created_at).desc())
        ).first()
        return dict(job.result or {}) if job else {}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()

    os.environ["SOP_TEST_DATABASE_URL"] = args.admin_url
    tmp = Path(tempfile.mkdtemp(prefix="supply-event-bench-"))
    urls = {name: create_database(f"{name}_eventbench", tmp) for name in ("demand", "supply")}
    try:
        for name, url in urls.items():
            upgrade(ROOT / "services" / name, url)
        engines = {name: make_engine(url) for name, url in urls.items()}
        months = month_range(FIRST_MONTH, month_range(FIRST_MONTH, "2099-12")[args.months - 1])
        started = time.perf_counter()
        demand = seed(
            engines["supply"], build_instance(args.items, args.months), args.items, months
        )
        seed_demand(engines["demand"], demand)
        products = demand["product"].nunique()
        print(
            f"seeded {args.items} item-sites, {len(demand)} demand lines"
            f" in {time.perf_counter() - started:.1f} s (logs in {tmp})",
            flush=True,
        )
        stack = DevStack(
            data_dir=tmp,
            ports={"demand": free_port(), "supply": free_port()},
            broker_port=free_port(),
            database_urls=urls,
            env={"SOP_ENV": "test", "SOP_LOG_LEVEL": "WARNING"},
            quiet=True,
        )
        stack.start_broker()
        try:
            for name in ("demand", "supply"):
                stack.start_service(name)
            stack.wait_ready(["demand", "supply"])
            consumer = KafkaConsumer(
                topic_for("supply"),
                bootstrap_servers=stack.bootstrap,
                auto_offset_reset="earliest",
                enable_auto_commit=False,
            )
            for run in range(args.runs):
                print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
                draft = prepare(engines["demand"], run)
                t0, wall = time.perf_counter(), datetime.now(UTC)
                plan_id = submit(engines["demand"], draft, products)
                wait_for_supply_event(consumer, plan_id, args.timeout)
                elapsed = time.perf_counter() - t0
                result = job_result(engines["supply"], wall)
                phases = ", ".join(
                    f"{k.removesuffix('_seconds')} {v:.2f} s"
                    for k, v in result.items()
                    if k.endswith("_seconds")
                )
                print(
                    f"run {run + 1}: demand event committed → supply event received"
                    f" {elapsed:.2f} s; job: {phases};"
                    f" {result.get('lines')} lines, {result.get('exceptions')} exceptions",
                    flush=True,
                )
            consumer.close()
        finally:
            stack.stop()
        for engine in engines.values():
            engine.dispose()
    finally:
        for url in urls.values():
            drop_database(url)


if __name__ == "__main__":
    main()
