"""50 concurrent uploads against a demand process whose connection pool is small (two
connections, no overflow, one second to wait for one): every answer is a 200 or a 503
problem with ``Retry-After``, never a 500, and nothing is half-written (the products in
the database are exactly those of the uploads answered 200).

Without the pool-timeout handler the 503s of this test were 500s (QueuePool limit ... reached).
"""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from sop_shared.auth import create_token
from sop_shared.broker import free_port
from sop_shared.db import make_engine
from sop_shared.settings import AuthSettings
from sop_shared.testing import create_database, drop_database, wait_until

pytestmark = pytest.mark.e2e

UPLOADS = 50
ROWS = 400  # products per upload: long enough for the uploads to overlap


def _status(url: str) -> int:
    try:
        return httpx.get(url, timeout=5).status_code
    except httpx.HTTPError:
        return 0


def test_pool_exhaustion_is_a_503_with_retry_after_and_nothing_half_written(
    tmp_path: Path,
) -> None:
    url = create_database("pool", tmp_path)
    port = free_port()
    env = {
        **os.environ,
        "SOP_DEMAND_DATABASE_URL": url,
        "SOP_DEMAND_PORT": str(port),
        "SOP_KAFKA_ENABLED": "false",
        "SOP_ENV": "test",
        "SOP_LOG_LEVEL": "WARNING",
        "SOP_DB_POOL_SIZE": "2",
        "SOP_DB_MAX_OVERFLOW": "0",
        "SOP_DB_POOL_TIMEOUT_SECONDS": "1",
    }
    log = tmp_path / "demand.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "sop_demand"], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    base = f"http://127.0.0.1:{port}"
    token = create_token(AuthSettings(), subject="loader", roles=["integration"])
    try:
        wait_until(
            lambda: proc.poll() is not None or _status(base + "/readyz") == 200,
            timeout=180,
            interval=0.3,
        )
        assert proc.poll() is None, log.read_text()[-3000:]

        def upload(n: int) -> httpx.Response:
            body = "code,name,family,category\n" + "".join(
                f"U{n}-{i},Product {i},F{n},C\n" for i in range(ROWS)
            )
            return httpx.post(
                base + "/api/v1/products/bulk",
                content=body,
                headers={
                    "Authorization": f"Bearer {token}",
                    "Content-Type": "text/csv",
                    "Idempotency-Key": f"upload-{n}",
                },
                timeout=120,
            )

        with ThreadPoolExecutor(UPLOADS) as pool:
            answers = list(pool.map(upload, range(UPLOADS)))
        statuses = [a.status_code for a in answers]
        assert set(statuses) <= {200, 503}, [(a.status_code, a.text[:300]) for a in answers]
        assert 503 in statuses  # the pool did run out: the test shows the 503, not luck
        for answer in answers:
            assert answer.headers["x-request-id"]
            if answer.status_code == 503:
                assert answer.headers["content-type"] == "application/problem+json"
                assert int(answer.headers["retry-after"]) > 0
                assert answer.json()["trace_id"] == answer.headers["x-request-id"]
        applied = {n for n, a in enumerate(answers) if a.status_code == 200}
        engine = make_engine(url)
        try:
            with engine.connect() as conn:
                families = dict(
                    conn.execute(text("SELECT family, COUNT(*) FROM product GROUP BY family")).all()
                )
        finally:
            engine.dispose()
        assert families == {f"F{n}": ROWS for n in applied}
    finally:
        proc.terminate()
        proc.wait(30)
        drop_database(url)
