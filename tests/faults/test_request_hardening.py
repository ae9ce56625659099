"""A real demand process with a known JWT secret, a database password (PostgreSQL) and a
small body limit (``SOP_MAX_BODY_BYTES``, ``PlatformSettings.max_body_bytes``):

* a body over the limit is refused with a 413 problem document, with or without
  Content-Length (a chunked upload), and nothing of it is written;
* neither the secret, nor the database password, nor any bearer token sent (valid or not)
  appears in what the process writes to stdout or stderr, whatever the request did: 401,
  403, 404, 412, 413, 422 and, on PostgreSQL, 503s while its database is unreachable.
  The log level is DEBUG, so nothing is hidden by the level alone.

The chunked body is counted as it arrives (``BodyLimitMiddleware``): checked that the test
can fail — before that middleware existed, the chunked upload got 200 and its 800 products
were written.

Checked that the secrets test can fail: with a ``sitecustomize`` logging the settings'
database URL and JWT secret at start-up it went red on the secret (and on the password, on
PostgreSQL); logging the Authorization header per request stayed green thanks to
``sop_shared.logging.redact``, and went red once ``redact`` was made a no-op.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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

SECRET = f"hardening-{uuid.uuid4().hex}-jwt-secret"
DB_PASSWORD = f"pw{uuid.uuid4().hex}"
LIMIT = 64 * 1024
AUTH = AuthSettings(jwt_secret=SECRET)


class Lone:
    """One demand process (no broker) and everything the test needs to know about it."""

    def __init__(self, base: str, out: Path, err: Path, proxy: TcpProxy | None) -> None:
        self.base, self.out, self.err, self.proxy = base, out, err, proxy
        self.tokens: list[str] = []  # every bearer token sent, valid or not

    def call(self, method: str, path: str, token: str | None, **kw: Any) -> httpx.Response:
        headers = dict(kw.pop("headers", {}))
        if token is not None:
            self.tokens.append(token)
            headers["Authorization"] = f"Bearer {token}"
        return httpx.request(method, self.base + path, headers=headers, timeout=60, **kw)

    def token(self, role: str, **kw: Any) -> str:
        return create_token(AUTH, subject="hardening", roles=[role], **kw)


def _status(url: str) -> int:
    try:
        return httpx.get(url, timeout=5).status_code
    except httpx.HTTPError:
        return 0


@pytest.fixture(scope="module")
def lone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lone]:
    tmp = tmp_path_factory.mktemp("hardening")
    url = create_database("hardening", tmp)
    proxy = None
    service_url = url
    if postgres_admin_url() is not None:  # a password in the URL (trust auth ignores it)
        real = make_url(url)
        proxy = TcpProxy(real.host or "127.0.0.1", real.port or 5432).start()
        service_url = real.set(password=DB_PASSWORD, port=proxy.port).render_as_string(
            hide_password=False
        )
    port = free_port()
    env = {
        **os.environ,
        "SOP_DEMAND_DATABASE_URL": service_url,
        "SOP_DEMAND_PORT": str(port),
        "SOP_KAFKA_ENABLED": "false",
        "SOP_ENV": "test",
        "SOP_LOG_LEVEL": "DEBUG",
        "SOP_AUTH_JWT_SECRET": SECRET,
        "SOP_MAX_BODY_BYTES": str(LIMIT),
    }
    out, err = tmp / "stdout.log", tmp / "stderr.log"
    with open(out, "wb") as stdout, open(err, "wb") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "sop_demand"], env=env, stdout=stdout, stderr=stderr
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(
            lambda: proc.poll() is not None or _status(base + "/readyz") == 200,
            timeout=120,
            interval=0.3,
        )
        assert proc.poll() is None, err.read_text()[-3000:]
        yield Lone(base, out, err, proxy)
    finally:
        proc.terminate()
        proc.wait(30)
        if proxy is not None:
            proxy.stop()
        drop_database(url)


def _products(prefix: str, count: int) -> list[dict[str, str]]:
    return [
        {
            "code": f"{prefix}-{i:05d}",
            "name": f"Product {i} of a batch too large to be accepted by this service",
            "family": "BIG",
            "category": "LIMIT",
        }
        for i in range(count)
    ]


@pytest.mark.parametrize(
    "chunked",
    [False, True],
    ids=["content-length", "chunked"],
)
def test_body_over_the_limit_is_refused_with_413_and_nothing_written(
    lone: Lone, chunked: bool
) -> None:
    import json

    planner = lone.token("integration")
    small = _products(f"OK{uuid.uuid4().hex[:6]}", 10)
    accepted = lone.call("POST", "/api/v1/products/bulk", planner, json=small)
    assert accepted.status_code == 200, accepted.text  # the endpoint takes a normal body

    prefix = f"BIG{uuid.uuid4().hex[:6]}"
    body = json.dumps(_products(prefix, 800)).encode()
    assert len(body) > LIMIT  # about 100 KB against 64 KiB

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(body), 8192):
            yield body[start : start + 8192]

    refused = lone.call(
        "POST",
        "/api/v1/products/bulk",
        planner,
        content=chunks() if chunked else body,
        headers={"Content-Type": "application/json"},
    )
    assert refused.status_code == 413, refused.text[:500]
    assert refused.headers["content-type"] == "application/problem+json"
    problem = refused.json()
    assert problem["status"] == 413
    assert problem["code"] == "payload-too-large"
    for code in (f"{prefix}-00000", f"{prefix}-00799"):
        missing = lone.call("GET", f"/api/v1/products/{code}", planner)
        assert missing.status_code == 404, missing.text


def test_secrets_never_reach_stdout_or_stderr(lone: Lone) -> None:
    viewer, planner = lone.token("viewer"), lone.token("demand_planner")
    header, payload, signature = planner.split(".")
    forged = create_token(
        AuthSettings(jwt_secret="another-secret-0123456789-abcdefghij"),
        subject="x",
        roles=["admin"],
    )
    answers = {
        "valid read": lone.call("GET", "/api/v1/products", viewer).status_code,
        "valid write": lone.call(
            "POST",
            "/api/v1/products",
            planner,
            json={
                "code": f"SEC{uuid.uuid4().hex[:6]}",
                "name": "n",
                "family": "F",
                "category": "C",
            },
        ).status_code,
        "wrong role": lone.call(
            "POST",
            "/api/v1/products",
            viewer,
            json={"code": "X1", "name": "n", "family": "F", "category": "C"},
        ).status_code,
        "expired": lone.call(
            "GET", "/api/v1/products", lone.token("viewer", ttl_seconds=-60)
        ).status_code,
        "forged": lone.call("GET", "/api/v1/products", forged).status_code,
        "tampered": lone.call(
            "GET", "/api/v1/products", f"{header}.{payload}.{signature[::-1]}"
        ).status_code,
        "garbage": lone.call("GET", "/api/v1/products", f"{payload}.{signature}").status_code,
        "not found": lone.call("GET", "/api/v1/products/NOPE-404", viewer).status_code,
        "invalid body": lone.call(
            "POST", "/api/v1/products", planner, json={"code": "bad code!", "family": 3}
        ).status_code,
        "stale etag": lone.call(
            "POST",
            "/api/v1/demand-plans/00000000-0000-0000-0000-000000000000/submit",
            planner,
            headers={"If-Match": '"7"'},
        ).status_code,
        "too large": lone.call(
            "POST", "/api/v1/products/bulk", planner, content=b"[" + b" " * LIMIT + b"]"
        ).status_code,
    }
    assert answers == {
        "valid read": 200,
        "valid write": 201,
        "wrong role": 403,
        "expired": 401,
        "forged": 401,
        "tampered": 401,
        "garbage": 401,
        "not found": 404,
        "invalid body": 422,
        "stale etag": 404,
        "too large": 413,
    }
    if lone.proxy is not None:  # the database goes away: errors with the connection in them
        lone.proxy.stop()
        down = lone.call("GET", "/api/v1/products", planner)
        assert down.status_code == 503, down.text
        assert _status(lone.base + "/readyz") == 503
        lone.proxy = TcpProxy(*lone.proxy.target, port=lone.proxy.port).start()
        wait_until(lambda: _status(lone.base + "/readyz") == 200, timeout=60, interval=0.5)

    logs = lone.out.read_text(errors="replace") + lone.err.read_text(errors="replace")
    assert "-> 401" in logs  # the requests above were logged at all
    assert "-> 413" in logs
    assert SECRET not in logs
    assert DB_PASSWORD not in logs
    for token in lone.tokens:
        assert token not in logs
        assert token.rsplit(".", 1)[-1] not in logs  # not even its signature
