"""``make run``'s program brings the broker and four services up, and Ctrl-C stops them all."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from sop_shared.broker import free_port
from sop_shared.devstack import SERVICES
from sop_shared.testing import wait_until

pytestmark = pytest.mark.e2e


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_run_starts_everything_and_ctrl_c_stops_it(tmp_path: Path) -> None:
    ports = {name: free_port() for name in SERVICES}
    broker = free_port()
    env = {
        **os.environ,
        "SOP_DATA_DIR": str(tmp_path),
        "SOP_KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{broker}",
        "SOP_LOAD_DEMO": "0",
        **{f"SOP_{n.upper()}_PORT": str(p) for n, p in ports.items()},
    }
    env.pop("SOP_TEST_DATABASE_URL", None)
    for name in SERVICES:  # the embedded default: SQLite files under the data folder
        env.pop(f"SOP_{name.upper()}_DATABASE_URL", None)
    out = tmp_path / "run.out"
    with open(out, "wb") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "sop_shared.devstack"],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until(
            lambda: b"Press Ctrl-C" in out.read_bytes() or proc.poll() is not None,
            timeout=120,
            interval=0.5,
        )
        assert proc.poll() is None, out.read_text()
        text = out.read_text()
        for port in ports.values():
            assert f"http://127.0.0.1:{port}" in text
            assert httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 200
        token = text.split("development token (admin):\n", 1)[1].split("\n", 1)[0]
        products = httpx.get(
            f"http://127.0.0.1:{ports['demand']}/api/v1/products",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert products.status_code == 200
        assert sorted(p.name for p in tmp_path.glob("*.db")) == sorted(f"{n}.db" for n in SERVICES)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(60)
    assert proc.returncode == 0
    time.sleep(0.2)
    assert not any(_listening(p) for p in [*ports.values(), broker])
