"""Every endpoint but health, readiness, metrics and docs: 401 without a token, 403 with a wrong role.

The matrix is built from the apps' own routes (every route but the open set below), so a
new endpoint is covered the day it is added; an endpoint that declares no roles fails the
test. Because ``READ_ROLES`` is every platform role, most reads have no "wrong" platform
role: the 403 half is proven on them with valid tokens that carry none of the platform's
roles.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from fastapi.testclient import TestClient

from sop_shared.auth import Role, create_token
from sop_shared.devstack import SERVICES
from sop_shared.settings import AuthSettings

#: The only paths that answer without a token: health, readiness, metrics and the docs.
OPEN_PATHS = frozenset(
    {"/healthz", "/readyz", "/metrics", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}
)


def _routes(app: Any) -> Iterator[Any]:
    """Every route of the app with its full path (FastAPI wraps included routers)."""
    for route in app.routes:
        if hasattr(route, "effective_route_contexts"):
            yield from route.effective_route_contexts()
        else:
            yield route


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
        settings_cls(
            database_url=f"sqlite:///{tmp / service}.db",
            run_workers=False,
            # hundreds of bad tokens from one address on purpose: no rate limit here
            # (shared/tests/test_hardening.py shows the limit)
            auth=AuthSettings(failed_limit=0),
        )
    )
    return TestClient(app, raise_server_exceptions=False)


@pytest.fixture(scope="module", params=list(SERVICES))
def service_client(
    request: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, TestClient]]:
    with _client(request.param, tmp_path_factory.mktemp(request.param)) as client:
        yield request.param, client


def _calls(client: TestClient) -> list[tuple[str, str, frozenset[Role] | None]]:
    """(method, path, allowed roles) of every route outside ``OPEN_PATHS``."""
    out = []
    for route in _routes(client.app):
        if route.path in OPEN_PATHS:
            continue
        for method in sorted(getattr(route, "methods", None) or {"GET"}):
            path = route.path.replace("{", "").replace("}", "")  # any value reaches auth first
            out.append((method, path, _allowed_roles(route)))
    return out


def _claims_token(**claims: Any) -> dict[str, str]:
    """A correctly signed, unexpired token with these claims (``roles`` as given, unchecked)."""
    settings = AuthSettings()
    body = {"sub": "matrix", "iss": settings.issuer, "exp": int(time.time()) + 600, **claims}
    token = jwt.encode(body, settings.jwt_secret, algorithm=settings.jwt_algorithm)
    return {"Authorization": f"Bearer {token}"}


#: Valid tokens whose roles are none of the platform's: every guarded route must refuse them.
NO_PLATFORM_ROLE = {
    "roles=[]": {"roles": []},
    "roles=[superuser]": {"roles": ["superuser"]},
    "roles=[ADMIN]": {"roles": ["ADMIN"]},  # role names are case-sensitive
    "no roles claim": {},
}


def _bearer(roles: list[str], **kwargs: Any) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {create_token(AuthSettings(), subject='matrix', roles=roles, **kwargs)}"
    }


def test_every_endpoint_declares_its_roles(service_client: tuple[str, TestClient]) -> None:
    _, client = service_client
    calls = _calls(client)
    assert calls, "no API routes found"
    assert [(m, p) for m, p, roles in calls if roles is None] == []


def test_every_guarded_path_is_under_api_v1(service_client: tuple[str, TestClient]) -> None:
    _, client = service_client
    outside = [(m, p) for m, p, _ in _calls(client) if not p.startswith("/api/v1/")]
    assert outside == []


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


def test_no_token_with_a_malformed_body_is_401(service_client: tuple[str, TestClient]) -> None:
    _, client = service_client
    json_body_calls = [
        (m, p)
        for route in _routes(client.app)
        if getattr(getattr(route, "dependant", None), "body_params", None)
        for m in route.methods
        for p in [route.path.replace("{", "").replace("}", "")]
    ]
    assert json_body_calls
    for method, path in json_body_calls:
        response = client.request(
            method, path, content=b'{"code": ', headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 401, (method, path, response.text)


def test_wrong_role_is_403(service_client: tuple[str, TestClient]) -> None:
    _, client = service_client
    checked = 0
    for method, path, allowed in _calls(client):
        wrong = sorted(set(Role) - (allowed or set()))
        for role in wrong:
            response = client.request(method, path, headers=_bearer([role]), json={})
            assert response.status_code == 403, (method, path, role, response.text)
            assert response.headers["content-type"] == "application/problem+json"
            checked += 1
    assert checked > 0


@pytest.mark.parametrize("claims", list(NO_PLATFORM_ROLE.values()), ids=list(NO_PLATFORM_ROLE))
def test_valid_token_without_a_platform_role_is_403_everywhere(
    service_client: tuple[str, TestClient], claims: dict[str, Any]
) -> None:
    _, client = service_client
    headers = _claims_token(**claims)
    calls = _calls(client)
    assert calls
    for method, path, _ in calls:
        response = client.request(method, path, headers=headers, json={})
        assert response.status_code == 403, (method, path, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == "forbidden"


def test_open_endpoints_need_no_token(service_client: tuple[str, TestClient]) -> None:
    _, client = service_client
    for path in ("/healthz", "/metrics", "/openapi.json", "/docs", "/redoc"):
        assert client.get(path).status_code == 200, path
