"""Every endpoint but health, readiness, metrics and docs: 401 without a token, 403 with a wrong role.

The matrix is built from the apps' own routes, so a new endpoint is covered the
day it is added; an endpoint that declares no roles fails the test.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from sop_shared.auth import Role, create_token
from sop_shared.devstack import SERVICES
from sop_shared.settings import AuthSettings

OPEN_PATHS = {"/healthz", "/readyz", "/metrics"}


def _routes(app: Any) -> Iterator[Any]:
    """Every route with its full path (FastAPI wraps included routers)."""
    for route in app.routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "effective_route_contexts"):
            yield from route.effective_route_contexts()


def _allowed_roles(route: Any) -> frozenset[Role] | None:
    stack = list(route.dependant.dependencies)
    while stack:
        dep = stack.pop()
        allowed = getattr(dep.call, "allowed_roles", None)
        if allowed is not None:
            return frozenset(allowed)
        stack.extend(dep.dependencies)
    return None


def _client(service: str, tmp: Path) -> TestClient:
    main = importlib.import_module(f"sop_{service}.main")
    settings_mod = importlib.import_module(f"sop_{service}.settings")
    settings_cls = next(
        v
        for k, v in vars(settings_mod).items()
        if k.endswith("Settings") and k != "ServiceSettings"
    )
    app = main.create_app(
        settings_cls(database_url=f"sqlite:///{tmp / service}.db", run_workers=False)
    )
    return TestClient(app, raise_server_exceptions=False)


@pytest.fixture(scope="module", params=list(SERVICES))
def service_client(
    request: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, TestClient]]:
    with _client(request.param, tmp_path_factory.mktemp(request.param)) as client:
        yield request.param, client


def _calls(client: TestClient) -> list[tuple[str, str, frozenset[Role] | None]]:
    out = []
    for route in _routes(client.app):
        if route.path not in OPEN_PATHS and route.path.startswith("/api/"):
            for method in route.methods:
                path = route.path.replace("{", "").replace("}", "")  # any value reaches auth first
                out.append((method, path, _allowed_roles(route)))
    return out


def _bearer(roles: list[str], **kwargs: Any) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {create_token(AuthSettings(), subject='matrix', roles=roles, **kwargs)}"
    }


def test_every_endpoint_declares_its_roles(service_client: tuple[str, TestClient]) -> None:
    _, client = service_client
    calls = _calls(client)
    assert calls, "no API routes found"
    assert [(m, p) for m, p, roles in calls if roles is None] == []


def test_no_token_and_bad_tokens_are_401(service_client: tuple[str, TestClient]) -> None:
    _, client = service_client
    settings = AuthSettings()
    other_key = jwt.encode(
        {"sub": "x", "roles": ["admin"], "iss": settings.issuer, "exp": 2**31},
        "another-secret-key-of-32-characters!",
        algorithm="HS256",
    )
    alg_none = jwt.encode(
        {"sub": "x", "roles": ["admin"], "iss": settings.issuer, "exp": 2**31},
        None,
        algorithm="none",
    )
    bad = [
        {},
        _bearer(["admin"], ttl_seconds=-5),
        {"Authorization": f"Bearer {other_key}"},
        {"Authorization": f"Bearer {alg_none}"},
        {"Authorization": "Basic YWRtaW46YWRtaW4="},
    ]
    for method, path, _ in _calls(client):
        for headers in bad:
            response = client.request(method, path, headers=headers, json={})
            assert response.status_code == 401, (method, path, headers, response.text)
            assert response.headers["content-type"] == "application/problem+json"


def test_wrong_role_is_403(service_client: tuple[str, TestClient]) -> None:
    _, client = service_client
    checked = 0
    for method, path, allowed in _calls(client):
        wrong = sorted(set(Role) - (allowed or set()))
        for role in wrong:
            response = client.request(method, path, headers=_bearer([role]), json={})
            assert response.status_code == 403, (method, path, role, response.text)
            checked += 1
    assert checked > 0


def test_open_endpoints_need_no_token(service_client: tuple[str, TestClient]) -> None:
    _, client = service_client
    for path in ("/healthz", "/metrics", "/openapi.json", "/docs"):
        assert client.get(path).status_code == 200, path
