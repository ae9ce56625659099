from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from sop_capacity.main import create_app
from sop_capacity.settings import CapacitySettings
from sop_shared.jobs import Job
from sop_shared.migrations import upgrade
from sop_shared.testing import create_database, drop_database

# ``import builders`` from any test folder (pytest runs with --import-mode=importlib).
sys.path.insert(0, str(Path(__file__).resolve().parent))

REQUIREMENTS = re.compile(r"^/api/v1/supply-plans/([^/]+)/production-requirements$")
HEADER = re.compile(r"^/api/v1/supply-plans/([^/]+)$")
MATERIALS = re.compile(r"^/api/v1/supply-plans/([^/]+)/material-constraints$")
NO_MATERIALS = {"months": [], "materials": [], "bom": [], "product_lead_times": [], "contracts": []}


class FakeSupply:
    """The supply service's production-requirements stream, served from memory, and each
    plan's header (cycle and scenario: 2027-01 base unless a test says otherwise)."""

    def __init__(self) -> None:
        self.plans: dict[str, list[dict[str, Any]]] = {}
        self.headers: dict[str, dict[str, Any]] = {}
        self.materials: dict[str, dict[str, Any]] = {}
        self.calls: list[str] = []
        self.down = False

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(request.url.path)
        assert request.headers["authorization"].startswith("Bearer ")
        if self.down:
            return httpx.Response(503, json={"title": "down", "detail": "supply is down"})
        header = HEADER.match(request.url.path)
        if header is not None and header.group(1) in self.plans:
            plan_id = header.group(1)
            body = {"id": plan_id, "cycle": "2027-01", "scenario": "base"}
            return httpx.Response(200, json={**body, **self.headers.get(plan_id, {})})
        wanted = MATERIALS.match(request.url.path)
        if wanted is not None and wanted.group(1) in self.plans:
            doc = self.materials.get(wanted.group(1), NO_MATERIALS)
            return httpx.Response(200, json={"plan_id": wanted.group(1), **doc})
        match = REQUIREMENTS.match(request.url.path)
        if match is None or match.group(1) not in self.plans:
            return httpx.Response(
                404,
                json={
                    "title": "Resource not found",
                    "detail": "no such supply plan",
                    "code": "not-found",
                },
                headers={"content-type": "application/problem+json"},
            )
        assert request.url.params.get("format") == "jsonl"
        body = "".join(json.dumps(row) + "\n" for row in self.plans[match.group(1)])
        return httpx.Response(
            200, content=body.encode(), headers={"content-type": "application/x-ndjson"}
        )

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handler)


_FAKE = FakeSupply()


@pytest.fixture
def fake_supply() -> FakeSupply:
    _FAKE.plans.clear()
    _FAKE.headers.clear()
    _FAKE.materials.clear()
    _FAKE.calls.clear()
    _FAKE.down = False
    return _FAKE


@pytest.fixture(scope="session")
def service_dir() -> Path:
    return Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def app_factory() -> Callable[..., Any]:
    return lambda **overrides: create_app(
        CapacitySettings(**overrides), supply_transport=_FAKE.transport()
    )


class Live:
    """The app on a fresh committed database; jobs run when ``run_jobs`` is called."""

    def __init__(self, app: Any, client: Any, engine: Any) -> None:
        self.app = app
        self.client = client
        self.engine = engine

    def run_jobs(self) -> list[Any]:
        """Run every queued job to its end, in this thread; returns the jobs as they ended."""
        runner = self.app.state.jobs
        with Session(self.engine) as session:
            queued = session.exec(
                select(Job).where(Job.state == "queued").order_by(col(Job.created_at))
            ).all()
        for job in queued:
            runner.run(job.id, job.kind, runner.handlers[job.kind])
        with Session(self.engine) as session:
            return [session.get(Job, job.id) for job in queued]


@pytest.fixture
def live(service_dir: Path, tmp_path: Path, fake_supply: FakeSupply) -> Iterator[Live]:
    url = create_database("capacity_live", tmp_path)
    upgrade(service_dir, url)
    app = create_app(
        CapacitySettings(database_url=url, migrate_on_start=False, run_workers=False),
        supply_transport=fake_supply.transport(),
    )
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            yield Live(app, client, app.state.engine)
    finally:
        drop_database(url)
