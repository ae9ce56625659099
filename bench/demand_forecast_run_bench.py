"""A forecast run end to end through the job path, beside statsforecast called directly.

(a) statsforecast direct: ``forecast_bench.reference`` — per class family that family's
    candidate models through ``cross_validation`` with the same windows and refit setting
    as the engine (AutoETS/AutoTheta fitted once, ``refit=False``), then ``forecast`` of the
    horizon (the work any selection must do), in this process.
(b) the engine alone: ``select_and_forecast`` on the same frame, in this process.
(c) end to end: ``POST /api/v1/forecast-runs`` to the demand service (its own process, on
    PostgreSQL, with the embedded Kafka broker) → the job and one partition event per
    family in the outbox → relay → broker → the service's ``demand.forecast`` consumer →
    history read, ``select_and_forecast``, forecasts + model choices + totals stored, part
    counted → the job ``succeeded``; timed from the POST to the job's success as polled.

Wall time on a shared 2-core machine swings 2-3x with other load, so CPU seconds are
reported too (this process and its pool workers for (a) and (b); the service's process tree
- itself, its forkserver and the pool workers - from /proc, for (c)). Same seeded data as ``bench/forecast_bench.py`` (36 months, mixed smooth, trending,
intermittent and lumpy series), horizon 24, families of ``--family-size`` products. Numba is
warmed up in both processes before anything is timed. The figure is (c) / (a).

    .venv/bin/python bench/demand_forecast_run_bench.py --series 1000
    .venv/bin/python bench/demand_forecast_run_bench.py --series 10000 --skip-engine  # ~25 min
    [--family-size 500] [--skip-reference] [--admin-url postgresql://...]
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import subprocess
import sys
import time
import uuid
import warnings
from pathlib import Path

import httpx
import pandas as pd
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))

from demand_ingest_bench import create_database, drop_database  # noqa: E402
from forecast_bench import cpu_seconds, make_history, reference  # noqa: E402

from sop_demand.forecasting import select_and_forecast  # noqa: E402
from sop_shared.auth import create_token  # noqa: E402
from sop_shared.broker import EmbeddedBroker, free_port  # noqa: E402
from sop_shared.migrations import upgrade  # noqa: E402
from sop_shared.settings import AuthSettings  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SERVICE_DIR = ROOT / "services" / "demand"
CYCLE = "2024-01"  # make_history covers 2021-01 .. 2023-12


def start_service(url: str, port: int, bootstrap: str, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "SOP_DEMAND_DATABASE_URL": url,
        "SOP_DEMAND_PORT": str(port),
        "SOP_DEMAND_MIGRATE_ON_START": "false",
        "SOP_KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "SOP_LOG_LEVEL": "WARNING",
    }
    with open(log, "wb") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "sop_demand"], env=env, stdout=sink, stderr=sink
        )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    proc.kill()
    raise SystemExit(f"the demand service did not become ready; see {log}")


def seed(base: str, headers: dict[str, str], history: pd.DataFrame, family_size: int) -> list[str]:
    """Products (families of ``family_size``) and their history, through the APIs."""
    ids = sorted(history["unique_id"].unique())
    families = {uid: f"FAM{i // family_size:03d}" for i, uid in enumerate(ids)}
    products = [
        {"code": uid, "name": uid, "family": families[uid], "category": "BENCH", "price": 10.0}
        for uid in ids
    ]
    # a small family to warm up the service's numba code before the timed run
    warm = make_history(8, seed=1)
    warm["unique_id"] = "WARM-" + warm["unique_id"]
    products += [
        {"code": uid, "name": uid, "family": "WARM", "category": "WARM", "price": 1.0}
        for uid in sorted(warm["unique_id"].unique())
    ]
    httpx.post(
        f"{base}/api/v1/products/bulk", json=products, headers=headers, timeout=600
    ).raise_for_status()
    frame = (
        pd.concat([history, warm])
        .rename(columns={"unique_id": "product"})
        .assign(site="S1", month=lambda f: f["ds"].dt.strftime("%Y-%m"), quantity=lambda f: f["y"])
    )[["product", "site", "month", "quantity"]]
    body = io.StringIO()
    frame.to_csv(body, index=False)
    httpx.post(
        f"{base}/api/v1/sales-history",
        content=body.getvalue().encode(),
        headers={**headers, "content-type": "text/csv"},
        timeout=600,
    ).raise_for_status()
    return sorted(set(families.values()))


def run(
    base: str, headers: dict[str, str], horizon: int, families: list[str]
) -> tuple[float, dict]:
    started = time.perf_counter()
    answer = httpx.post(
        f"{base}/api/v1/forecast-runs",
        json={"cycle": CYCLE, "horizon": horizon, "families": families},
        headers=headers,
        timeout=60,
    )
    if answer.status_code != 202:
        raise SystemExit(f"run refused: {answer.status_code} {answer.text[:500]}")
    job_url = base + answer.json()["job_url"]
    while True:
        job = httpx.get(job_url, headers=headers, timeout=30).json()
        if job["state"] in ("succeeded", "failed"):
            break
        time.sleep(0.25)
    elapsed = time.perf_counter() - started
    if job["state"] != "succeeded":
        raise SystemExit(f"run failed: {job.get('error')}")
    return elapsed, {**job, "run_id": answer.json()["id"]}


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of a process tree: the service, its forkserver and the
    pool workers (live ones counted directly, finished ones through their parent's
    cutime/cstime)."""
    ticks = 0
    stats = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            stats[int(entry.name)] = (int(fields[1]), fields)  # ppid, fields
    todo = [pid]
    while todo:
        current = todo.pop()
        if current in stats:
            fields = stats[current][1]
            ticks += sum(int(fields[i]) for i in (11, 12, 13, 14))  # utime stime cutime cstime
        todo.extend(p for p, (ppid, _) in stats.items() if ppid == current)
    return ticks / os.sysconf("SC_CLK_TCK")


def stored(url: str, run_id: str) -> tuple[int, float]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT count(*) FROM forecast_value WHERE run_id = %s", (run_id,)
        ).fetchone()[0]
        seconds = conn.execute(
            "SELECT coalesce(sum(seconds), 0) FROM forecast_partition WHERE run_id = %s",
            (run_id,),
        ).fetchone()[0]
    return int(rows), float(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--series", type=int, default=10_000)
    parser.add_argument("--horizon", type=int, default=24)
    parser.add_argument("--family-size", type=int, default=500)
    parser.add_argument("--skip-reference", action="store_true")
    parser.add_argument("--skip-engine", action="store_true", help="do not time (b)")
    parser.add_argument(
        "--admin-url",
        default=os.environ.get(
            "SOP_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
        ),
    )
    args = parser.parse_args()
    warnings.filterwarnings("ignore")

    history = make_history(args.series)
    print(
        f"series={args.series} months=36 horizon={args.horizon} "
        f"family size={args.family_size} cpus={os.cpu_count()} "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    work = Path(os.environ.get("TMPDIR", "/tmp")) / f"demand-fcrun-{uuid.uuid4().hex[:6]}"
    work.mkdir(parents=True)

    # (a) and (b) in this process, numba warmed up first
    warm = make_history(8, seed=1)
    select_and_forecast(warm, args.horizon, n_jobs=1)
    reference(warm, args.horizon, n_jobs=1)
    direct = engine = None
    if not args.skip_reference:
        t, c = time.perf_counter(), cpu_seconds()
        reference(history, args.horizon, n_jobs=-1)
        direct = (time.perf_counter() - t, cpu_seconds() - c)
        print(
            f"(a) statsforecast direct:      {direct[0]:8.1f} s wall  {direct[1]:8.1f} s cpu"
            f"  (load average {os.getloadavg()[0]:.1f})"
        )
    if not args.skip_engine:
        t, c = time.perf_counter(), cpu_seconds()
        select_and_forecast(history, args.horizon, n_jobs=-1)
        engine = (time.perf_counter() - t, cpu_seconds() - c)
        print(
            f"(b) select_and_forecast:       {engine[0]:8.1f} s wall  {engine[1]:8.1f} s cpu"
            f"  (load average {os.getloadavg()[0]:.1f})"
        )

    # (c) through the service
    url = create_database(args.admin_url)
    proc = None
    broker = EmbeddedBroker(port=free_port(), log_path=work / "broker.log").start()
    try:
        upgrade(SERVICE_DIR, url)
        port = free_port()
        proc = start_service(url, port, broker.bootstrap, work / "demand.log")
        base = f"http://127.0.0.1:{port}"
        headers = {
            "Authorization": "Bearer "
            + create_token(AuthSettings(), subject="bench", roles=["demand_planner", "integration"])
        }
        families = seed(base, headers, history, args.family_size)
        warm_time, _ = run(base, headers, args.horizon, ["WARM"])
        print(f"    (warm-up run of 8 series through the service: {warm_time:.1f} s)")
        cpu_before = process_cpu(proc.pid)
        e2e, job = run(base, headers, args.horizon, families)
        e2e_cpu = process_cpu(proc.pid) - cpu_before
        rows, partition_seconds = stored(url, job["run_id"])
        assert rows == args.series * args.horizon, rows
        print(
            f"(c) end to end via the job path: {e2e:8.1f} s wall  {e2e_cpu:8.1f} s cpu"
            f"  ({len(families)} partitions, {partition_seconds:.1f} s inside the handlers, "
            f"{rows:,} forecasts stored; load average {os.getloadavg()[0]:.1f})"
        )
        if direct is not None:
            print(
                f"ratio (c)/(a): wall {e2e / direct[0]:.2f}  cpu {e2e_cpu / direct[1]:.2f}"
                "   (target <= 1.3)"
            )
        if direct is not None and engine is not None:
            print(
                f"ratio (b)/(a): wall {engine[0] / direct[0]:.2f}  cpu {engine[1] / direct[1]:.2f}"
                "   (the engine alone)"
            )
        print(
            f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
            f"{platform.python_version()}, load average after {os.getloadavg()[0]:.1f}"
        )
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(30)
        broker.stop()
        drop_database(args.admin_url, url)


if __name__ == "__main__":
    main()
