from __future__ import annotations

import csv
import io
import json
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from sop_shared.app import API_PREFIX  # before sop_shared.deps (deps <-> jobs import cycle)
from sop_shared.auth import create_token
from sop_shared.db import transaction
from sop_shared.events import new_event
from sop_shared.migrations import upgrade
from sop_shared.readmodels.products import apply_product_changed
from sop_shared.settings import AuthSettings, KafkaSettings
from sop_shared.testing import create_database, drop_database, wait_until
from sop_supply.main import create_app
from sop_supply.models import ProductRef, Site
from sop_supply.settings import SupplySettings


@pytest.fixture(scope="session")
def service_dir() -> Path:
    return Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def app_factory() -> Callable[..., Any]:
    return lambda **overrides: create_app(SupplySettings(**overrides))


class Seed:
    """Builders: persist the rows a test starts from (products as demand's events leave them)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def product(self, code: str, *, family: str = "FAM", cost: float = 0.0) -> ProductRef:
        row = ProductRef(
            code=code,
            name=code,
            family=family,
            category="CAT",
            unit="EA",
            cost=cost,
            lifecycle="active",
            version=1,
        )
        self.session.add(row)
        self.session.flush()
        return row

    def site(self, code: str) -> Site:
        row = Site(code=code, name=code)
        self.session.add(row)
        self.session.flush()
        return row


@pytest.fixture
def seed(session: Session) -> Seed:
    return Seed(session)


# --- a running service on its own committed database, with fake peers --------------------


@dataclass
class FakePeers:
    """The demand and capacity services as an ``httpx.MockTransport``: plan lines by plan id."""

    demand: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    production: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    materials: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(f"{request.method} {request.url.path}?{request.url.query.decode()}")
        bought = re.fullmatch(r"/api/v1/production-plans/([^/]+)/materials", request.url.path)
        if bought and bought.group(1) in self.production:
            # capacity's material purchases (none unless a test gives some)
            rows = self.materials.get(bought.group(1), [])
            body = csv_body(rows) if rows else "material,site,month,purchases\n"
            return httpx.Response(200, content=body, headers={"content-type": "text/csv"})
        # demand's plan lines; capacity's positions (production per product-site-month, the
        # tests' ``quantity`` served as ``production``, as capacity names it)
        match = re.fullmatch(
            r"/api/v1/(?:(demand)-plans/([^/]+)/lines|(production)-plans/([^/]+)/positions)",
            request.url.path,
        )
        kind, plan = (
            (match.group(1) or match.group(3), match.group(2) or match.group(4))
            if match
            else ("", "")
        )
        store = getattr(self, kind, None) if kind else None
        if store is None or plan not in store:
            problem = {"type": "x", "title": "Not found", "status": 404, "code": "not-found"}
            return httpx.Response(404, json={**problem, "detail": f"{request.url.path} unknown"})
        lines = store[plan]
        if kind == "production":
            lines = [{**r, "production": r.get("quantity", 0.0)} for r in lines]
            lines = [{k: v for k, v in r.items() if k != "quantity"} for r in lines]
        if request.url.params.get("format") == "csv":
            return httpx.Response(
                200, content=csv_body(lines), headers={"content-type": "text/csv"}
            )
        body = "".join(json.dumps(line) + "\n" for line in lines)
        return httpx.Response(200, content=body, headers={"content-type": "application/x-ndjson"})


def csv_body(lines: list[dict[str, Any]]) -> str:
    """Lines as the peers' CSV streams write them: a header, then a row per line."""
    columns = list(dict.fromkeys(name for line in lines for name in line)) or ["product"]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns)
    writer.writeheader()
    writer.writerows(lines)
    return out.getvalue()


@dataclass
class Live:
    client: TestClient
    peers: FakePeers
    engine: Engine
    auth: AuthSettings

    def headers(self, role: str = "supply_planner") -> dict[str, str]:
        token = create_token(self.auth, subject="tester", roles=[role])
        return {"Authorization": f"Bearer {token}"}


@contextmanager
def running_service(
    service_dir: Path, tmp_path: Path, kafka: KafkaSettings | None = None
) -> Iterator[Live]:
    """The service with its workers (job poller; relay and consumers when ``kafka`` is given)
    on a fresh committed database; demand and capacity are fakes."""
    url = create_database("supply_live", tmp_path)
    upgrade(service_dir, url)
    peers = FakePeers()
    settings = SupplySettings(
        database_url=url,
        migrate_on_start=False,
        run_workers=True,
        kafka=kafka or KafkaSettings(enabled=False),
    )
    app = create_app(settings, peer_transport=httpx.MockTransport(peers.handle))
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            yield Live(client, peers, app.state.engine, settings.auth)
    finally:
        drop_database(url)


@pytest.fixture
def live(service_dir: Path, tmp_path: Path) -> Iterator[Live]:
    """A database per test: a plan covers every item-site with parameters, so tests sharing
    one would see each other's item-sites in their plans."""
    with running_service(service_dir, tmp_path) as running:
        yield running


class World:
    """One test's corner of the live service: its own codes, so tests never see each other."""

    def __init__(self, live: Live) -> None:
        self.live = live
        self.uid = uuid.uuid4().hex[:6]
        self.cycle = "2026-12"

    def code(self, name: str) -> str:
        return f"{name}-{self.uid}"

    def products(self, *codes: str, family: str = "BIKES", cost: float = 10.0) -> None:
        """Products as the demand service's ``product.changed`` events leave them."""
        with transaction(self.live.engine) as session:
            for code in codes:
                data = {
                    "code": self.code(code),
                    "name": code,
                    "family": family,
                    "category": "C",
                    "cost": cost,
                    "version": 1,
                }
                event = new_event(
                    source="/sop/demand",
                    type="sop.demand.product.changed.v1",
                    subject=data["code"],
                    data=data,
                )
                apply_product_changed(session, event)

    def site(self, code: str) -> None:
        response = self.live.client.post(
            "/api/v1/sites",
            json={"code": self.code(code), "name": code},
            headers=self.live.headers(),
        )
        assert response.status_code == 201, response.text

    def feed(self, resource: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
        response = self.live.client.post(
            f"{API_PREFIX}/{resource}/bulk", json=rows, headers=self.live.headers()
        )
        assert response.status_code == 200, response.text
        return response.json()

    def demand_plan(
        self,
        lines: list[tuple[str, str, str, float]],
        *,
        sigma: dict[tuple[str, str, str], float | None] | None = None,
    ) -> str:
        """Register a demand plan at the fake demand service; returns its id.

        ``sigma`` {(product, site, month): σ or None} gives the lines demand's
        ``forecast_sigma`` column (every line has it then; None is an empty CSV cell).
        """
        plan_id = f"DP-{uuid.uuid4().hex[:8]}"
        self.live.peers.demand[plan_id] = [
            {
                "product": self.code(p),
                "family": "BIKES",
                "site": self.code(s),
                "month": m,
                "quantity": q,
                "revenue": 0.0,
                **({"forecast_sigma": sigma.get((p, s, m))} if sigma is not None else {}),
            }
            for p, s, m, q in lines
        ]
        return plan_id

    def run(self, demand_plan_id: str, *, scenario: str = "base") -> dict[str, Any]:
        """POST /supply-plans, wait for the job, return the job's final state."""
        response = self.live.client.post(
            "/api/v1/supply-plans",
            json={"demand_plan_id": demand_plan_id, "cycle": self.cycle, "scenario": scenario},
            headers=self.live.headers(),
        )
        assert response.status_code == 202, response.text
        return self.wait_job(response.headers["Location"])

    def wait_job(self, location: str) -> dict[str, Any]:
        def done() -> dict[str, Any] | None:
            job = self.live.client.get(location, headers=self.live.headers("viewer")).json()
            return job if job["state"] in ("succeeded", "failed") else None

        return wait_until(done, timeout=60)

    def get(self, path: str, **params: Any) -> Any:
        response = self.live.client.get(
            f"/api/v1/{path}", params=params, headers=self.live.headers("viewer")
        )
        assert response.status_code == 200, response.text
        return response.json()

    def lines(self, plan_id: str, product: str, site: str) -> dict[str, list[float]]:
        """The plan's lines of one item-site as {measure: [month 0, month 1, ...]}."""
        page = self.get(
            f"supply-plans/{plan_id}/lines", product=self.code(product), site=self.code(site)
        )
        out: dict[str, list[Any]] = {}
        for line in page["items"]:
            for key, value in line.items():
                out.setdefault(key, []).append(value)
        return out


@pytest.fixture
def world(live: Live) -> World:
    return World(live)


@pytest.fixture
def world_factory() -> Callable[[Live], World]:
    return World


@pytest.fixture
def start_service(service_dir: Path, tmp_path: Path) -> Callable[..., Any]:
    """``with start_service(kafka=settings) as live:`` (see ``running_service``)."""
    return lambda **kwargs: running_service(service_dir, tmp_path, **kwargs)
