"""``/readyz`` tells the truth: 503 while the database lacks this code's schema, and 503 as
soon as the broker freezes (a frozen broker still accepts TCP connections, so a connect
probe said ``ok`` for about 10 s; the check is now a Metadata round trip under 1.5 s).

Checked that it can fail: with the former TCP-connect probe the first readiness call
after the freeze answered 200, and with the former ``SELECT 1`` the empty database was
``ok``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from sop_shared.broker import EmbeddedBroker, free_port
from sop_shared.migrations import upgrade
from sop_shared.testing import create_database, drop_database, wait_until

pytestmark = pytest.mark.e2e

CYCLE = Path(__file__).resolve().parents[2] / "services" / "cycle"


def _ready(base: str) -> httpx.Response | None:
    try:
        return httpx.get(base + "/readyz", timeout=3)  # a slower answer fails the test
    except httpx.ConnectError:
        return None  # not listening yet


def test_readyz_fails_without_schema_and_within_3s_of_a_broker_freeze(tmp_path: Path) -> None:
    url = create_database("ready", tmp_path)
    port = free_port()
    broker = EmbeddedBroker(log_path=tmp_path / "broker.log").start()
    env = {
        **os.environ,
        "SOP_CYCLE_DATABASE_URL": url,
        "SOP_CYCLE_PORT": str(port),
        "SOP_CYCLE_MIGRATE_ON_START": "false",  # the schema is left to the test
        "SOP_KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap,
        "SOP_ENV": "test",
    }
    base = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "sop_cycle"],
        env=env,
        stdout=open(tmp_path / "cycle.log", "wb"),  # noqa: SIM115  (closed with the process)
        stderr=subprocess.STDOUT,
    )
    frozen = False
    try:
        empty = wait_until(lambda: _ready(base), timeout=90, interval=0.3)
        assert empty.status_code == 503, empty.text
        assert empty.json()["checks"]["database"].startswith("schema missing"), empty.text
        assert empty.json()["checks"]["broker"] == "ok"

        upgrade(CYCLE, url)
        assert (ready := _ready(base)) is not None
        assert ready.status_code == 200, ready.text

        os.kill(broker.process.pid, signal.SIGSTOP)  # type: ignore[union-attr]
        frozen = True
        down = _ready(base)  # the first call after the freeze, answered within 3 s
        assert down is not None
        assert down.status_code == 503, down.text
        assert down.json()["checks"]["broker"] == "unavailable"

        os.kill(broker.process.pid, signal.SIGCONT)  # type: ignore[union-attr]
        frozen = False
        wait_until(lambda: (r := _ready(base)) is not None and r.status_code == 200, timeout=30)
    finally:
        if frozen:
            os.kill(broker.process.pid, signal.SIGCONT)  # type: ignore[union-attr]
        proc.terminate()
        proc.wait(30)
        broker.stop()
        drop_database(url)
