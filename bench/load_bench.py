"""Load test of the read endpoints the front end uses most (bounded in time, loopback only).

Usage (against a running stack, e.g. `make run`):
    .venv/bin/python bench/load_bench.py --users 50 --seconds 30 \
        --target demand=/api/v1/products?limit=100 \
        --target supply=/api/v1/supply-plans/{supply_plan}/lines?limit=100

``{demand_plan}``, ``{supply_plan}`` and ``{production_plan}`` are replaced by the newest
plan ids of the services. Prints p50/p95/p99 latency and throughput per target.

Each user waits ``--think`` seconds on average (uniform 0.5x-1.5x) between requests, as a
planner paging through a grid does; ``--think 0`` is a closed-loop saturation run, where the
latency only measures the queue (50 users / throughput).
"""

from __future__ import annotations

import argparse
import random
import statistics
import threading
import time
from collections import defaultdict

import httpx

from sop_shared.auth import create_token
from sop_shared.settings import AuthSettings, ServiceUrls

LIST_PATHS = {
    "demand_plan": ("demand", "/api/v1/demand-plans"),
    "supply_plan": ("supply", "/api/v1/supply-plans"),
    "production_plan": ("capacity", "/api/v1/production-plans"),
}


def newest_ids(urls: ServiceUrls, headers: dict[str, str]) -> dict[str, str]:
    ids: dict[str, str] = {}
    for name, (service, path) in LIST_PATHS.items():
        try:
            page = httpx.get(
                getattr(urls, f"{service}_url") + path,
                headers=headers,
                params={"limit": 1},
                timeout=10,
            )
            items = page.json().get("items", []) if page.status_code == 200 else []
            if items:
                ids[name] = str(items[0]["id"])
        except httpx.HTTPError:
            continue
    return ids


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--think", type=float, default=1.0, help="mean think time, seconds")
    parser.add_argument("--target", action="append", required=True, help="service=/path")
    args = parser.parse_args()

    urls = ServiceUrls()
    headers = {
        "Authorization": f"Bearer {create_token(AuthSettings(), subject='load', roles=['viewer'])}"
    }
    ids = newest_ids(urls, headers)
    targets = []
    for spec in args.target:
        service, _, path = spec.partition("=")
        targets.append((spec, getattr(urls, f"{service}_url") + path.format(**ids)))

    latencies: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, int] = defaultdict(int)
    deadline = time.monotonic() + args.seconds
    lock = threading.Lock()

    def user(index: int) -> None:
        pause = random.Random(index)
        with httpx.Client(headers=headers, timeout=30) as client:
            i = index
            time.sleep(pause.uniform(0, args.think))  # users arrive spread out, not in lockstep
            while time.monotonic() < deadline:
                name, url = targets[i % len(targets)]
                i += 1
                started = time.perf_counter()
                try:
                    ok = client.get(url).status_code == 200
                except httpx.HTTPError:
                    ok = False
                elapsed = (time.perf_counter() - started) * 1000
                with lock:
                    latencies[name].append(elapsed)
                    if not ok:
                        errors[name] += 1
                if args.think:
                    time.sleep(args.think * pause.uniform(0.5, 1.5))

    threads = [threading.Thread(target=user, args=(i,)) for i in range(args.users)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - started
    print(f"{args.users} users, think {args.think} s, {wall:.1f} s")
    for name, values in latencies.items():
        print(
            f"{name}: n={len(values)} errors={errors[name]} throughput={len(values) / wall:.0f} req/s "
            f"p50={statistics.median(values):.1f} ms p95={percentile(values, 0.95):.1f} ms "
            f"p99={percentile(values, 0.99):.1f} ms"
        )


if __name__ == "__main__":
    main()
