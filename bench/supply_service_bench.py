"""End-to-end benchmark of a supply-plan run through the service path, on PostgreSQL.

From the job start with the demand lines already fetched (a generated DataFrame of
100,000 item-sites × 24 months = 2.4 M lines) to the plan version written in PostgreSQL
with its ``sop.supply.plan.changed.v1`` event in the outbox: master data loaded from the
database, the plan computed (netting, safety stock, multi-level BOM explosion, exceptions,
contract review) and written in one transaction (lines, exceptions, review, event).

Run: ``.venv/bin/python bench/supply_service_bench.py [--items 100000] [--months 24]
[--admin-url postgresql://postgres@127.0.0.1:5432/postgres]``. A fresh database is created
and dropped. Targets: compute < 5 s, end to end < 30 s. Besides wall times the compute
phase's CPU time of this process is printed: on a shared machine the wall time also counts
the time other processes hold the cores.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import psycopg
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlmodel import Session

sys.path.insert(0, str(Path(__file__).resolve().parent))

from supply_plan_bench import build_instance  # noqa: E402

from sop_shared.bulk import copy_rows  # noqa: E402
from sop_shared.db import make_engine  # noqa: E402
from sop_shared.migrations import upgrade  # noqa: E402
from sop_shared.outbox.models import OutboxEvent  # noqa: E402
from sop_supply import models  # noqa: E402
from sop_supply.plans import service  # noqa: E402
from sop_supply.plans.compute import month_range  # noqa: E402
from sop_supply.plans.schemas import PlanJobParams  # noqa: E402

SERVICE_DIR = Path(__file__).resolve().parents[1] / "services" / "supply"
SITES = 4
FIRST_MONTH = "2027-01"


def seed(engine, instance, n_items: int, months: list[str]) -> pd.DataFrame:  # noqa: ANN001
    """Master data and positions of the instance in the database; returns the demand lines."""
    a = instance.item_arrays
    n_products = -(-n_items // SITES)
    product = np.array([f"P{i // SITES:06d}" for i in range(n_items)], dtype=object)
    site = np.array([f"S{i % SITES}" for i in range(n_items)], dtype=object)
    n_materials = max(1, n_products // 20)
    material_codes = [f"M{j:05d}" for j in range(n_materials)]
    rng = np.random.default_rng(7)
    now = datetime.now(UTC)
    make_products = sorted({product[i] for i in np.flatnonzero(a["is_make"])})
    bom = {
        (p, material_codes[m]): round(float(q), 2)
        for p in make_products
        for m, q in zip(
            rng.choice(n_materials, size=rng.integers(1, 5), replace=False),
            rng.uniform(0.1, 5.0, size=4),
            strict=False,
        )
    }
    policies = np.array(["fixed", "months_of_cover", "days_of_cover", "statistical"])[
        rng.integers(0, 4, n_items)
    ]
    ss_value = np.select(
        [policies == "fixed", policies == "months_of_cover", policies == "days_of_cover"],
        [a["safety_stock"], np.full(n_items, 0.5), np.full(n_items, 15.0)],
        a["safety_stock"] * 0.8,
    )
    with Session(engine) as s:
        copy_rows(
            s,
            models.Site.__table__,
            ["code", "name", "kind", "version", "created_at"],
            ((f"S{k}", f"Site {k}", "plant", 1, now) for k in range(SITES)),
        )
        copy_rows(
            s,
            models.ProductRef.__table__,
            [
                "code",
                "name",
                "family",
                "category",
                "unit",
                "price",
                "cost",
                "lifecycle",
                "version",
                "deleted",
                "updated_at",
            ],
            (
                (
                    f"P{i:06d}",
                    f"Product {i}",
                    f"FAM{i % 40:02d}",
                    "CAT",
                    "EA",
                    0.0,
                    10.0,
                    "active",
                    1,
                    False,
                    now,
                )
                for i in range(n_products)
            ),
        )
        copy_rows(
            s,
            models.Material.__table__,
            ["code", "name", "unit", "family", "unit_cost", "updated_at"],
            ((m, m, "EA", "MATERIALS", 2.0, now) for m in material_codes),
        )
        copy_rows(
            s,
            models.Supplier.__table__,
            ["code", "name", "updated_at"],
            [("SUP", "Supplier", now)],
        )
        item_columns = [
            "product",
            "site",
            "make_or_buy",
            "lead_time_months",
            "moq",
            "lot_multiple",
            "ss_policy",
            "ss_value",
            "service_level",
            "unit_cost",
            "holding_cost_rate",
            "shelf_life_months",
            "updated_at",
        ]
        copy_rows(
            s,
            models.ItemSite.__table__,
            item_columns,
            (
                (
                    product[i],
                    site[i],
                    "make" if a["is_make"][i] else "buy",
                    int(a["lead_time"][i]),
                    float(a["moq"][i]),
                    float(a["lot_multiple"][i]),
                    str(policies[i]),
                    float(ss_value[i]),
                    0.95,
                    float(a["unit_cost"][i]),
                    0.2,
                    int(a["shelf_life_months"][i]) or None,
                    now,
                )
                for i in range(n_items)
            ),
        )
        material_sites = [(m, f"S{k}") for m in material_codes for k in range(SITES)]
        copy_rows(
            s,
            models.ItemSite.__table__,
            item_columns,
            (
                (m, st, "buy", 1, 500.0, 100.0, "fixed", 100.0, 0.95, 2.0, 0.2, None, now)
                for m, st in material_sites
            ),
        )
        copy_rows(
            s,
            models.InventorySnapshot.__table__,
            ["product", "site", "month", "on_hand", "in_transit", "quality_hold", "updated_at"],
            [
                *(
                    (product[i], site[i], "2026-12", float(a["on_hand"][i]), 0.0, 0.0, now)
                    for i in range(n_items)
                ),
                *((m, st, "2026-12", 2000.0, 0.0, 0.0, now) for m, st in material_sites),
            ],
        )
        rows, cols = np.nonzero(a["scheduled_receipts"])
        copy_rows(
            s,
            models.OpenSupply.__table__,
            ["order_ref", "kind", "product", "site", "due_month", "quantity", "updated_at"],
            (
                (
                    f"O{k}",
                    "production" if a["is_make"][r] else "purchase",
                    product[r],
                    site[r],
                    months[c],
                    float(a["scheduled_receipts"][r, c]),
                    now,
                )
                for k, (r, c) in enumerate(zip(rows, cols, strict=True))
            ),
        )
        copy_rows(
            s,
            models.BomLine.__table__,
            ["product", "material", "qty_per", "updated_at"],
            ((p, m, q, now) for (p, m), q in bom.items()),
        )
        copy_rows(
            s,
            models.Contract.__table__,
            [
                "code",
                "supplier",
                "material",
                "period_start",
                "period_end",
                "min_volume",
                "max_volume",
                "price",
                "updated_at",
            ],
            (
                (f"C{j}", "SUP", m, months[0], months[11], 5000.0, 50000.0, 2.0, now)
                for j, m in enumerate(material_codes[: n_materials // 2])
            ),
        )
        s.commit()
    t = len(months)
    return pd.DataFrame(
        {
            "product": np.repeat(product, t),
            "site": np.repeat(site, t),
            "month": np.tile(np.array(months, dtype=object), n_items),
            "quantity": a["demand"].ravel(),
        }
    )


def server_usage(admin: str, database: str) -> tuple[float, int]:
    """CPU seconds used so far by the PostgreSQL backends of ``database`` (from /proc, the
    server being local) and the current WAL position: contention-independent measures."""
    with psycopg.connect(admin, autocommit=True) as conn:
        pids = [
            r[0]
            for r in conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s", (database,)
            )
        ]
        (lsn,) = conn.execute("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn").fetchone()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        cpu += (int(fields[11]) + int(fields[12])) / ticks  # utime + stime
    return cpu, int(lsn)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()

    name = f"sop_supply_bench_{uuid.uuid4().hex[:8]}"
    admin = make_url(args.admin_url)
    admin_dsn = admin.render_as_string(hide_password=False)
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = admin.set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(SERVICE_DIR, url)
        engine = make_engine(url)
        months = month_range(FIRST_MONTH, month_range(FIRST_MONTH, "2099-12")[args.months - 1])
        instance = build_instance(args.items, args.months)
        started = time.perf_counter()
        demand = seed(engine, instance, args.items, months)
        print(f"load average before the runs: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        print(
            f"seeded {args.items} item-sites and {len(demand)} demand lines in {time.perf_counter() - started:.1f} s"
        )
        runs = []
        for k in range(args.repeat):
            gc.collect()
            params = PlanJobParams(cycle="2026-12", scenario="base", demand_plan_id=f"bench-{k}")
            server_before = server_usage(admin_dsn, name)
            started = time.perf_counter()
            result = service.run_plan(engine, params=params, demand=demand)
            total = time.perf_counter() - started
            server_after = server_usage(admin_dsn, name)
            runs.append((total, result))
            print(
                f"  run {k + 1}: end to end {total:.2f} s = load {result['load_seconds']:.2f} s"
                f" + compute {result['compute_seconds']:.2f} s (CPU {result['compute_cpu_seconds']:.2f} s)"
                f" + write {result['write_seconds']:.2f} s"
                f" (PostgreSQL CPU {server_after[0] - server_before[0]:.1f} s,"
                f" WAL {(server_after[1] - server_before[1]) / 2**20:.0f} MiB);"
                f" {result['lines']} lines, {result['exceptions']} exceptions, plan v{result['version']}"
            )
        with Session(engine) as s:
            events = s.execute(
                select(func.count())
                .select_from(OutboxEvent)
                .where(OutboxEvent.event_type == service.PLAN_CHANGED)
            ).scalar_one()
            lines = s.execute(select(func.count()).select_from(models.SupplyPlanLine)).scalar_one()
        best = min(runs, key=lambda r: r[0])
        print(
            f"supply plan via the service: {args.items} item-sites x {args.months} months; "
            f"best end to end {best[0]:.2f} s (compute {best[1]['compute_seconds']:.2f} s, "
            f"CPU {best[1]['compute_cpu_seconds']:.2f} s, "
            f"write {best[1]['write_seconds']:.2f} s, load {best[1]['load_seconds']:.2f} s); "
            f"{lines} lines and {events} plan.changed event(s) in the outbox"
        )
        engine.dispose()
    finally:
        with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
