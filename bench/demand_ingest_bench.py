"""1,000,000 sales-history rows over the API into PostgreSQL, beside a plain COPY of the file.

The demand service runs as its own process (uvicorn, as in production) on a fresh
PostgreSQL database migrated with Alembic. The same CSV file (product, site, channel,
month, quantity, revenue) is then

  (a) POSTed to ``/api/v1/sales-history`` (validated row by row, all-or-nothing, the
      Idempotency-Key recorded, written with COPY) — timed from the request to the answer;
  (b) loaded with a plain ``COPY sales_history (...) FROM STDIN (FORMAT csv, HEADER)`` into
      the same (emptied) table, same indexes — no validation at all.

The figure that counts is (a) / (b). Target for (a): under 20 s.

    .venv/bin/python bench/demand_ingest_bench.py                # 1,000,000 rows
    .venv/bin/python bench/demand_ingest_bench.py --rows 200000 --rounds 2
    [--admin-url postgresql://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import psycopg
from sqlalchemy.engine import make_url

from sop_shared.auth import create_token
from sop_shared.broker import free_port
from sop_shared.migrations import upgrade
from sop_shared.settings import AuthSettings

ROOT = Path(__file__).resolve().parents[1]
SERVICE_DIR = ROOT / "services" / "demand"
SITES = 5
CHANNELS = ["", "RETAIL", "ONLINE"]


def make_file(rows: int, path: Path, seed: int = 3) -> tuple[list[str], int]:
    """A CSV of ``rows`` history rows: products × 5 sites × 60 months; returns products."""
    months = pd.period_range("2021-01", periods=60, freq="M").strftime("%Y-%m").to_numpy()
    per_product = SITES * len(months)
    n_products = -(-rows // per_product)
    rng = np.random.default_rng(seed)
    p = np.repeat(np.arange(n_products), per_product)[:rows]
    s = np.tile(np.repeat(np.arange(SITES), len(months)), n_products)[:rows]
    m = np.tile(months, n_products * SITES)[:rows]
    quantity = rng.gamma(2.0, 50.0, size=rows).round(0)
    frame = pd.DataFrame(
        {
            "product": np.char.add("SKU-", np.char.zfill(p.astype(str), 6)),
            "site": np.char.add("S", s.astype(str)),
            "channel": np.asarray(CHANNELS, dtype=object)[p % len(CHANNELS)],
            "month": m,
            "quantity": quantity,
            "revenue": (quantity * rng.uniform(5, 50, size=rows)).round(2),
        }
    )
    frame.to_csv(path, index=False)
    return [f"SKU-{i:06d}" for i in range(n_products)], rows


def create_database(admin: str) -> str:
    name = f"sop_bench_demand_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return make_url(admin).set(database=name).render_as_string(hide_password=False)


def drop_database(admin: str, url: str) -> None:
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')


def start_service(url: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "SOP_DEMAND_DATABASE_URL": url,
        "SOP_DEMAND_PORT": str(port),
        "SOP_DEMAND_MIGRATE_ON_START": "false",
        "SOP_KAFKA_ENABLED": "false",
        "SOP_LOG_LEVEL": "WARNING",
    }
    with open(log, "wb") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "sop_demand"], env=env, stdout=sink, stderr=sink
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"the demand service did not start; see {log}")


def load_products(base: str, headers: dict[str, str], products: list[str]) -> None:
    body = [
        {"code": c, "name": c, "family": f"F{i % 40:02d}", "category": "C", "price": 10.0}
        for i, c in enumerate(products)
    ]
    answer = httpx.post(f"{base}/api/v1/products/bulk", json=body, headers=headers, timeout=300)
    answer.raise_for_status()


def truncate(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("TRUNCATE sales_history, sales_load, idempotency_record")


def api_load(base: str, headers: dict[str, str], data: bytes) -> tuple[float, dict]:
    started = time.perf_counter()
    answer = httpx.post(
        f"{base}/api/v1/sales-history",
        content=data,
        headers={**headers, "content-type": "text/csv", "Idempotency-Key": uuid.uuid4().hex},
        timeout=600,
    )
    elapsed = time.perf_counter() - started
    if answer.status_code != 200:
        raise SystemExit(f"load refused: {answer.status_code} {answer.text[:500]}")
    return elapsed, answer.json()


def plain_copy(url: str, data: bytes) -> float:
    started = time.perf_counter()
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        with cur.copy(
            "COPY sales_history (product, site, channel, month, quantity, revenue) "
            "FROM STDIN (FORMAT csv, HEADER, FORCE_NOT_NULL (channel))"
        ) as copy:
            copy.write(data)
        conn.commit()
    return time.perf_counter() - started


def count(url: str) -> int:
    with psycopg.connect(url) as conn:
        return int(conn.execute("SELECT count(*) FROM sales_history").fetchone()[0])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=1, help="best of N of each")
    parser.add_argument(
        "--admin-url",
        default=os.environ.get(
            "SOP_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
        ),
    )
    args = parser.parse_args()

    work = Path(os.environ.get("TMPDIR", "/tmp")) / f"demand-ingest-{uuid.uuid4().hex[:6]}"
    work.mkdir(parents=True)
    csv_path = work / "sales.csv"
    products, rows = make_file(args.rows, csv_path)
    data = csv_path.read_bytes()
    print(f"file: {rows:,} rows, {len(products):,} products, {len(data) / 1e6:.1f} MB")

    url = create_database(args.admin_url)
    proc = None
    try:
        upgrade(SERVICE_DIR, url)
        port = free_port()
        proc = start_service(url, port, work / "demand.log")
        base = f"http://127.0.0.1:{port}"
        token = create_token(AuthSettings(), subject="bench", roles=["integration"])
        headers = {"Authorization": f"Bearer {token}"}
        load_products(base, headers, products)

        api_times, copy_times = [], []
        for _ in range(args.rounds):
            truncate(url)
            elapsed, answer = api_load(base, headers, data)
            assert answer["rows"] == rows, answer
            assert count(url) == rows
            api_times.append(elapsed)
            truncate(url)
            copy_times.append(plain_copy(url, data))
            assert count(url) == rows
        api, plain = min(api_times), min(copy_times)
        print(f"API  (validate + COPY, all-or-nothing): {api:7.2f} s  {rows / api:>10,.0f} rows/s")
        print(
            f"plain COPY of the same file:             {plain:7.2f} s  {rows / plain:>10,.0f} rows/s"
        )
        print(f"ratio API / plain COPY: {api / plain:.2f}   (target for the API: < 20 s)")
        print(
            f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
            f"{platform.python_version()}, load average {os.getloadavg()[0]:.1f}"
        )
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(20)
        drop_database(args.admin_url, url)


if __name__ == "__main__":
    main()
