"""Request ids and metrics on an app built by ``create_service_app``, as every service's is.

A caller's ``X-Request-ID`` comes back on the answer and is on the JSON access-log line
(and on a problem document's ``trace_id``); without one the app makes one up. After a
request, ``/metrics`` counts it under the route's template, not the raw path.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from sop_shared.app import create_service_app
from sop_shared.auth import Role, create_token, require_roles
from sop_shared.logging import JsonFormatter
from sop_shared.settings import AuthSettings, ServiceSettings
from sop_shared.testing import create_database, drop_database

ROUTE = "/api/v1/pings/{ping_id}"

router = APIRouter(prefix="/pings", tags=["pings"])


@router.get("/{ping_id}", dependencies=[require_roles(Role.viewer)])
def read_ping(ping_id: int) -> dict[str, int]:
    logging.getLogger("sop.pings").info("ping %s read", ping_id)
    return {"ping": ping_id}


class Lines(logging.Handler):
    """Formats each record as it is emitted (the request id lives only during the request)."""

    def __init__(self, formatter: logging.Formatter) -> None:
        super().__init__()
        self.setFormatter(formatter)
        self.lines: list[dict[str, object]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))


@pytest.fixture
def service(tmp_path: Path) -> Iterator[tuple[str, TestClient]]:
    """A minimal service (its own name, so its metrics are its own) on a fresh database."""
    name = f"obs{uuid.uuid4().hex[:8]}"
    url = create_database(name, tmp_path)
    settings = ServiceSettings(
        service_name=name, database_url=url, migrate_on_start=False, run_workers=False
    )
    app = create_service_app(
        settings, title="obs", description="observability", service_dir=tmp_path, routers=[router]
    )
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            yield name, client
    finally:
        drop_database(url)


@pytest.fixture
def log_lines() -> Iterator[Lines]:
    """The access log as the service writes it: through the JSON formatter it configured."""
    formatter = next(
        h.formatter for h in logging.getLogger().handlers if isinstance(h.formatter, JsonFormatter)
    )
    handler = Lines(formatter)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)


def _viewer() -> dict[str, str]:
    token = create_token(AuthSettings(), subject="obs", roles=["viewer"])
    return {"Authorization": f"Bearer {token}"}


def _access_lines(lines: Lines) -> list[dict[str, object]]:
    return [e for e in lines.lines if e["logger"] == "sop.app" and "status" in e]


def test_a_given_request_id_is_echoed_and_logged(
    service: tuple[str, TestClient], log_lines: Lines
) -> None:
    name, client = service
    response = client.get("/api/v1/pings/7", headers={**_viewer(), "X-Request-ID": "abc"})
    assert response.status_code == 200
    assert response.headers["X-Request-ID"] == "abc"
    [access] = _access_lines(log_lines)
    assert access["request_id"] == "abc"
    assert access["service"] == name
    assert access["status"] == 200
    assert access["message"] == "GET /api/v1/pings/7 -> 200"
    # what the route itself logs carries the same id
    [own] = [e for e in log_lines.lines if e["logger"] == "sop.pings"]
    assert own["request_id"] == "abc"


def test_without_a_request_id_one_is_made_up(
    service: tuple[str, TestClient], log_lines: Lines
) -> None:
    _, client = service
    first = client.get("/api/v1/pings/1", headers=_viewer())
    second = client.get("/api/v1/pings/2", headers=_viewer())
    ids = [first.headers["X-Request-ID"], second.headers["X-Request-ID"]]
    for value in ids:
        assert len(value) == 32
        int(value, 16)  # a uuid4 in hex
    assert ids[0] != ids[1]
    assert [e["request_id"] for e in _access_lines(log_lines)] == ids


def test_a_problem_carries_the_request_id(service: tuple[str, TestClient]) -> None:
    _, client = service
    response = client.get("/api/v1/pings/7", headers={"X-Request-ID": "req-401"})
    assert response.status_code == 401
    assert response.headers["X-Request-ID"] == "req-401"
    assert response.json()["trace_id"] == "req-401"


def _samples(client: TestClient, service: str) -> dict[tuple[str, tuple[str, ...]], float]:
    """This service's HTTP samples: (sample name, sorted label values) -> value."""
    response = client.get("/metrics")
    assert response.status_code == 200
    out = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            if sample.labels.get("service") == service:
                key = tuple(f"{k}={v}" for k, v in sorted(sample.labels.items()))
                out[(sample.name, key)] = sample.value
    return out


def _delta(
    before: dict[tuple[str, tuple[str, ...]], float],
    after: dict[tuple[str, tuple[str, ...]], float],
    name: str,
    **labels: str,
) -> float:
    """How much the sample ``name`` with these labels (and any others) grew."""

    def total(samples: dict[tuple[str, tuple[str, ...]], float]) -> float:
        wanted = {f"{k}={v}" for k, v in labels.items()}
        return sum(v for (n, key), v in samples.items() if n == name and wanted <= set(key))

    return total(after) - total(before)


def _route_labels(samples: dict[tuple[str, tuple[str, ...]], float]) -> set[str]:
    return {part for _, key in samples for part in key if part.startswith("route=")}


def test_metrics_count_requests_by_route_template(service: tuple[str, TestClient]) -> None:
    name, client = service
    before = _samples(client, name)
    for ping in (3, 4):
        assert client.get(f"/api/v1/pings/{ping}", headers=_viewer()).status_code == 200
    assert client.get("/api/v1/pings/5").status_code == 401
    after = _samples(client, name)

    # one series per route template, never per raw path (3, 4, 5 share it)
    [route] = {r for r in _route_labels(after) if r.endswith("/pings/{ping_id}")}
    assert not any(r.endswith(("/pings/3", "/pings/4", "/pings/5")) for r in _route_labels(after))
    template = route.removeprefix("route=")
    counter = "sop_http_requests_total"
    assert _delta(before, after, counter, route=template, method="GET", status="200") == 2
    assert _delta(before, after, counter, route=template, method="GET", status="401") == 1
    histogram = "sop_http_request_duration_seconds_count"
    assert _delta(before, after, histogram, route=template, method="GET") == 3
    assert _delta(before, after, "sop_http_request_duration_seconds_bucket", route=template) > 0


def test_the_route_label_is_the_full_path_template(
    service: tuple[str, TestClient], log_lines: Lines
) -> None:
    name, client = service
    assert client.get("/api/v1/pings/9", headers=_viewer()).status_code == 200
    [access] = _access_lines(log_lines)
    assert access["path"] == ROUTE
    assert f"route={ROUTE}" in _route_labels(_samples(client, name))
