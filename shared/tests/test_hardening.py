"""What every service app answers whatever the route: request ids (500s included),
security headers, a strict CSP on the docs, CORS closed unless configured, failed
authentication rate-limited, ``Allow`` on 405, and 503 + Retry-After when no database
connection is free. A small app built by the real factory, on a real SQLite file."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient
from sqlalchemy import text

from sop_shared.app import create_service_app
from sop_shared.auth import READ_ROLES, create_token, require_roles
from sop_shared.deps import SessionDep
from sop_shared.settings import AuthSettings, KafkaSettings, PlatformSettings, ServiceSettings

router = APIRouter(prefix="/things", tags=["things"])


@router.get("", dependencies=[require_roles(*READ_ROLES)])
def list_things(session: SessionDep) -> dict[str, int]:
    return {"one": session.execute(text("SELECT 1")).scalar_one()}


@router.post("", dependencies=[require_roles(*READ_ROLES)])
def create_thing() -> dict[str, int]:
    return {"created": 1}


@router.get("/boom", dependencies=[require_roles(*READ_ROLES)])
def boom() -> None:
    raise RuntimeError("a bug")


def _client(tmp_path: Path, **platform: Any) -> TestClient:
    settings = ServiceSettings(
        service_name="things",
        database_url=f"sqlite:///{tmp_path / 'things.db'}",
        migrate_on_start=False,
        run_workers=False,
        platform=PlatformSettings(**platform),
        kafka=KafkaSettings(enabled=False),
        auth=AuthSettings(failed_limit=5),
    )
    app = create_service_app(
        settings, title="Things", description="t", service_dir=tmp_path, routers=[router]
    )
    return TestClient(app, raise_server_exceptions=False)


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with _client(tmp_path) as running:
        yield running


AUTH = {"Authorization": f"Bearer {create_token(AuthSettings(), subject='t', roles=['viewer'])}"}


def test_a_500_carries_the_request_id_and_the_trace_id(client: TestClient) -> None:
    response = client.get("/api/v1/things/boom", headers={**AUTH, "X-Request-ID": "req-500"})
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["x-request-id"] == "req-500"
    assert response.json()["trace_id"] == "req-500"
    assert "a bug" not in response.text
    generated = client.get("/api/v1/things/boom", headers=AUTH)
    assert generated.json()["trace_id"] == generated.headers["x-request-id"]


def test_a_client_request_id_is_echoed_only_when_short_and_plain(client: TestClient) -> None:
    assert client.get("/healthz", headers={"X-Request-ID": "abc.1-2"}).headers["x-request-id"] == (
        "abc.1-2"
    )
    for offered in ("a" * 20_000, "a b", "<script>"):
        response = client.get("/api/v1/things", headers={**AUTH, "X-Request-ID": offered})
        assert response.status_code == 200
        assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"]), offered


def test_security_headers_on_api_answers_and_problems(client: TestClient) -> None:
    for response in (
        client.get("/api/v1/things", headers=AUTH),
        client.get("/api/v1/things"),  # a 401 problem
        client.get("/api/v1/things/boom", headers=AUTH),
    ):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["content-security-policy"].startswith("default-src 'none'")
        assert response.headers["x-frame-options"] == "DENY"


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_docs_have_a_strict_csp_that_lets_their_own_scripts_run(
    client: TestClient, path: str
) -> None:
    response = client.get(path)
    assert response.status_code == 200
    policy = dict(
        part.strip().split(" ", 1)
        for part in response.headers["content-security-policy"].split(";")
    )
    assert policy["default-src"] == "'none'"
    assert "'unsafe-inline'" not in policy["script-src"]
    assert "'unsafe-eval'" not in policy["script-src"]
    assert policy["frame-ancestors"] == "'none'"
    inline = re.findall(r"<script>(.*?)</script>", response.text, flags=re.DOTALL)
    assert len(re.findall(r"'sha256-", policy["script-src"])) == len(inline)


def test_cors_is_closed_by_default(client: TestClient) -> None:
    preflight = client.options(
        "/api/v1/things",
        headers={"Origin": "https://app.example", "Access-Control-Request-Method": "GET"},
    )
    assert "access-control-allow-origin" not in preflight.headers
    got = client.get("/api/v1/things", headers={**AUTH, "Origin": "https://app.example"})
    assert "access-control-allow-origin" not in got.headers


def test_cors_allows_the_configured_origins_only(tmp_path: Path) -> None:
    with _client(tmp_path, cors_origins=["https://app.example"]) as client:
        ok = client.options(
            "/api/v1/things",
            headers={
                "Origin": "https://app.example",
                "Access-Control-Request-Method": "PATCH",
                "Access-Control-Request-Headers": "authorization,if-match",
            },
        )
        assert ok.status_code == 200
        assert ok.headers["access-control-allow-origin"] == "https://app.example"
        assert "if-match" in ok.headers["access-control-allow-headers"].lower()
        other = client.options(
            "/api/v1/things",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
        )
        assert other.headers.get("access-control-allow-origin") != "https://evil.example"
        got = client.get("/api/v1/things", headers={**AUTH, "Origin": "https://app.example"})
        assert got.headers["access-control-allow-origin"] == "https://app.example"
        assert "x-request-id" in got.headers["access-control-expose-headers"].lower()


def test_failed_authentication_is_rate_limited(client: TestClient) -> None:
    bad = {"Authorization": "Bearer not-a-token"}
    for _ in range(5):  # failed_limit=5
        assert client.get("/api/v1/things", headers=bad).status_code == 401
    limited = client.get("/api/v1/things", headers=bad)
    assert limited.status_code == 429
    assert limited.headers["content-type"] == "application/problem+json"
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    assert limited.json()["code"] == "too-many-failed-authentications"
    # the address is limited while its failures are recent, whatever token it sends next
    assert client.get("/api/v1/things", headers=AUTH).status_code == 429
    # requests without any token are not failed guesses: they never count
    assert client.get("/healthz").status_code == 200


def test_no_token_is_not_counted_as_a_failure(client: TestClient) -> None:
    for _ in range(20):
        assert client.get("/api/v1/things").status_code == 401
    assert client.get("/api/v1/things", headers=AUTH).status_code == 200


def test_405_allow_lists_every_method_of_the_path(client: TestClient) -> None:
    response = client.delete("/api/v1/things", headers=AUTH)
    assert response.status_code == 405
    assert response.headers["content-type"] == "application/problem+json"
    assert sorted(m.strip() for m in response.headers["allow"].split(",")) == ["GET", "POST"]


def test_no_free_connection_is_a_503_with_retry_after(tmp_path: Path) -> None:
    with _client(
        tmp_path, db_pool_size=1, db_max_overflow=0, db_pool_timeout_seconds=0.2
    ) as client:
        held = client.app.state.engine.connect()  # type: ignore[attr-defined]
        try:
            busy = client.get("/api/v1/things", headers=AUTH)
        finally:
            held.close()
        assert busy.status_code == 503, busy.text
        assert busy.headers["content-type"] == "application/problem+json"
        assert busy.headers["retry-after"] == "5"
        assert busy.json()["trace_id"] == busy.headers["x-request-id"]
        assert client.get("/api/v1/things", headers=AUTH).status_code == 200
