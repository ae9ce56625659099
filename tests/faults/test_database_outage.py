"""PostgreSQL unavailable for a while: /readyz says so, requests get 503 problems, nothing is
half-written, and the service recovers by itself when the database is back.

The outage is real: the service reaches PostgreSQL through a TCP proxy that the test cuts.
(Checked that it can fail: without the OperationalError → 503 mapping the POST answers 500.)
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

from sop_shared.auth import create_token
from sop_shared.broker import free_port
from sop_shared.settings import AuthSettings
from sop_shared.testing import (
    TcpProxy,
    create_database,
    drop_database,
    postgres_admin_url,
    wait_until,
)

pytestmark = pytest.mark.e2e

HEADERS = {
    "Authorization": f"Bearer {create_token(AuthSettings(), subject='ops', roles=['demand_planner'])}"
}


def _product(code: str) -> dict[str, str]:
    return {"code": code, "name": code, "family": "F", "category": "C"}


def test_database_outage_is_reported_and_recovered(tmp_path: Path) -> None:
    if postgres_admin_url() is None:
        pytest.skip("needs PostgreSQL (SOP_TEST_DATABASE_URL); CI sets it")
    url = create_database("outage", tmp_path)
    real = make_url(url)
    proxy = TcpProxy(real.host or "127.0.0.1", real.port or 5432).start()
    via_proxy = real.set(port=proxy.port).render_as_string(hide_password=False)
    port = free_port()
    env = {
        **os.environ,
        "SOP_DEMAND_DATABASE_URL": via_proxy,
        "SOP_DEMAND_PORT": str(port),
        "SOP_KAFKA_ENABLED": "false",
        "SOP_ENV": "test",
    }
    base = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "sop_demand"],
        env=env,
        stdout=open(tmp_path / "demand.log", "wb"),  # noqa: SIM115  (closed with the process)
        stderr=subprocess.STDOUT,
    )
    try:
        wait_until(lambda: _status(base + "/readyz") == 200, timeout=90, interval=0.3)
        assert (
            httpx.post(
                base + "/api/v1/products", json=_product("UP-1"), headers=HEADERS
            ).status_code
            == 201
        )

        proxy.stop()
        ready = httpx.get(base + "/readyz", timeout=30)
        assert ready.status_code == 503
        assert ready.json()["checks"]["database"].startswith("unavailable")
        down_code = f"DOWN-{uuid.uuid4().hex[:6]}"
        refused = httpx.post(
            base + "/api/v1/products", json=_product(down_code), headers=HEADERS, timeout=60
        )
        assert refused.status_code == 503, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["code"] == "database-unavailable"

        proxy = TcpProxy(real.host or "127.0.0.1", real.port or 5432, port=proxy.port).start()
        wait_until(lambda: _status(base + "/readyz") == 200, timeout=60, interval=0.5)
        assert (
            httpx.post(
                base + "/api/v1/products", json=_product("UP-2"), headers=HEADERS
            ).status_code
            == 201
        )
        missing = httpx.get(f"{base}/api/v1/products/{down_code}", headers=HEADERS)
        assert missing.status_code == 404  # the refused write left nothing behind
    finally:
        proc.terminate()
        proc.wait(30)
        proxy.stop()
        drop_database(url)


def _status(url: str) -> int:
    try:
        return httpx.get(url, timeout=5).status_code
    except httpx.HTTPError:
        return 0
