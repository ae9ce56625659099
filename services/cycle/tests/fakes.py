"""Fake peers: the demand, supply and capacity REST APIs behind ``httpx.MockTransport``."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx

from sop_shared.settings import ServiceUrls

Responder = Callable[[httpx.Request], httpx.Response]


class FakePeers:
    """Answers registered per (service, path); anything else is a 404 problem."""

    def __init__(self, urls: ServiceUrls | None = None) -> None:
        urls = urls or ServiceUrls()
        self.hosts = {
            httpx.URL(urls.demand_url).netloc.decode(): "demand",
            httpx.URL(urls.supply_url).netloc.decode(): "supply",
            httpx.URL(urls.capacity_url).netloc.decode(): "capacity",
        }
        self.routes: dict[tuple[str, str], Responder] = {}
        self.calls: list[tuple[str, str, dict[str, str]]] = []
        self.transport = httpx.MockTransport(self._handle)

    def _handle(self, request: httpx.Request) -> httpx.Response:
        service = self.hosts.get(request.url.netloc.decode(), "unknown")
        self.calls.append((service, request.url.path, dict(request.url.params)))
        responder = self.routes.get((service, request.url.path))
        if responder is None:
            return httpx.Response(
                404,
                json={
                    "type": "about:blank",
                    "title": "Not found",
                    "status": 404,
                    "code": "not-found",
                },
                headers={"content-type": "application/problem+json"},
            )
        return responder(request)

    def json(self, service: str, path: str, body: Any, status: int = 200) -> None:
        self.routes[(service, path)] = lambda _r: httpx.Response(
            status, content=json.dumps(body).encode(), headers={"content-type": "application/json"}
        )

    def down(self, service: str, path: str) -> None:
        def fail(request: httpx.Request) -> httpx.Response:
            raise httpx.ConnectError("connection refused", request=request)

        self.routes[(service, path)] = fail

    def data_status(self, service: str, *, ready: bool, month: str, last: str | None) -> None:
        self.json(
            service,
            "/api/v1/data-status",
            {
                "service": service,
                "month": month,
                "ready": ready,
                "last_month_loaded": last,
                "checks": [{"name": "history_loaded", "ok": ready}],
            },
        )

    def all_ready(self, month: str) -> None:
        for service in ("demand", "supply", "capacity"):
            self.data_status(service, ready=True, month=month, last=month)

    def summaries(
        self,
        *,
        demand: tuple[str, Any] | None = None,
        supply: tuple[str, Any] | None = None,
        production: tuple[str, Any] | None = None,
        contracts: tuple[str, Any] | None = None,
    ) -> None:
        """Serve ``GET /<plans>/{id}/summary`` for (plan id, body) pairs (and the supply
        plan's contract review)."""
        if contracts is not None:
            self.json(
                "supply", f"/api/v1/supply-plans/{contracts[0]}/contract-review", contracts[1]
            )
        for service, collection, pair in (
            ("demand", "demand-plans", demand),
            ("supply", "supply-plans", supply),
            ("capacity", "production-plans", production),
        ):
            if pair is not None:
                self.json(service, f"/api/v1/{collection}/{pair[0]}/summary", pair[1])
