"""REST access to the demand, supply and capacity services (CONTRACTS.md).

One ``ServiceClient`` per peer, built once per app. The transport is injectable so tests
fake the peers with ``httpx.MockTransport``; the base URLs come from ``settings.urls``.
Never called inside an open database transaction (STYLE §2).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar

import httpx

from sop_cycle.cycles.schemas import PeerDataStatus
from sop_shared.events.catalog import PlanLink
from sop_shared.http import ServiceClient
from sop_shared.problems import DomainError
from sop_shared.settings import AuthSettings, ServiceSettings

log = logging.getLogger("sop.cycle.peers")

T = TypeVar("T")
PEERS = ("demand", "supply", "capacity")
#: Where each plan kind lives: (service, collection path).
PLAN_ENDPOINTS = {
    "demand": ("demand", "/api/v1/demand-plans"),
    "supply": ("supply", "/api/v1/supply-plans"),
    "production": ("capacity", "/api/v1/production-plans"),
}


def plan_link(kind: str, plan_id: str, version: int | None) -> PlanLink:
    """Where a plan and its lines are read (paths under the owning service's base URL)."""
    service, path = PLAN_ENDPOINTS[kind]
    return PlanLink(
        service=service,
        plan_id=plan_id,
        version=version,
        plan=f"{path}/{plan_id}",
        lines_csv=f"{path}/{plan_id}/lines?format=csv",
        lines_jsonl=f"{path}/{plan_id}/lines?format=jsonl",
    )


#: The documents the cycle reads per plan: name → (plan kind, path under the plan).
DOCUMENTS = {
    "demand": ("demand", "summary"),
    "supply": ("supply", "summary"),
    "production": ("production", "summary"),
    "contracts": ("supply", "contract-review"),
    "latest_estimate": ("demand", "latest-estimate"),
}


class PeerError(Exception):
    """A peer answered with a problem or could not be reached."""


class Peers:
    def __init__(
        self,
        urls: Mapping[str, str],
        auth: AuthSettings,
        *,
        transport: httpx.BaseTransport | None = None,
        attempts: int = 3,
    ) -> None:
        self.urls = dict(urls)
        self._clients = {
            name: ServiceClient(url, auth, caller="cycle", attempts=attempts, transport=transport)
            for name, url in self.urls.items()
        }

    @classmethod
    def from_settings(
        cls, settings: ServiceSettings, *, transport: httpx.BaseTransport | None = None
    ) -> Peers:
        urls = {
            "demand": settings.urls.demand_url,
            "supply": settings.urls.supply_url,
            "capacity": settings.urls.capacity_url,
        }
        attempts = int(getattr(settings, "peer_attempts", 3))
        return cls(urls, settings.auth, transport=transport, attempts=attempts)

    def client(self, service: str) -> ServiceClient:
        return self._clients[service]

    def close(self) -> None:
        for client in self._clients.values():
            client.close()

    # --- calls --------------------------------------------------------------------------

    def data_status(self, service: str, month: str) -> PeerDataStatus:
        """One service's data-status; an error or an unreachable peer reads as not ready."""
        try:
            body = self.client(service).get_json("/api/v1/data-status", month=month)
        except DomainError as exc:
            return PeerDataStatus(
                service=service, month=month, ready=False, detail=f"{exc.code}: {exc.detail}"
            )
        except (httpx.HTTPError, ValueError) as exc:
            return PeerDataStatus(service=service, month=month, ready=False, detail=str(exc))
        failing = [
            c.get("name", "?")
            for c in (body.get("checks") or [])
            if isinstance(c, dict) and not c.get("ok", True)
        ]
        return PeerDataStatus(
            service=body.get("service", service),
            month=body.get("month", month),
            ready=bool(body.get("ready")),
            last_month_loaded=body.get("last_month_loaded"),
            detail=f"failing checks: {', '.join(failing)}" if failing else None,
        )

    def data_statuses(self, services: Iterable[str], month: str) -> list[PeerDataStatus]:
        return parallel([partial(self.data_status, s, month) for s in services])

    def plan_document(
        self, name: str, plan_id: str, params: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        kind, leaf = DOCUMENTS[name]
        service, path = PLAN_ENDPOINTS[kind]
        try:
            body = self.client(service).get_json(f"{path}/{plan_id}/{leaf}", **(params or {}))
        except DomainError as exc:
            raise PeerError(f"{service}: {exc.detail}") from exc
        except (httpx.HTTPError, ValueError) as exc:
            raise PeerError(f"{service}: {exc}") from exc
        if not isinstance(body, dict):
            raise PeerError(f"{service}: the {leaf} of {plan_id} is not a JSON object")
        return body

    def plan_summary(self, kind: str, plan_id: str) -> dict[str, Any]:
        return self.plan_document(kind, plan_id)

    def plan_documents(
        self, wanted: Mapping[str, tuple[str | None, Mapping[str, Any] | None]]
    ) -> dict[str, dict[str, Any] | str]:
        """Several documents side by side: name → (plan id, query) → body, or error text."""
        names = [n for n, (pid, _) in wanted.items() if pid]

        def fetch(name: str) -> dict[str, Any] | str:
            plan_id, params = wanted[name]
            try:
                return self.plan_document(name, str(plan_id), params)
            except PeerError as exc:
                log.warning("%s of plan %s unavailable: %s", name, plan_id, exc)
                return str(exc)

        results = parallel([partial(fetch, n) for n in names])
        return dict(zip(names, results, strict=True))

    def plan_summaries(self, plan_ids: Mapping[str, str | None]) -> dict[str, dict[str, Any] | str]:
        """Summaries of several plans at once: kind → body, or kind → error text."""
        return self.plan_documents({k: (pid, None) for k, pid in plan_ids.items()})


def parallel(calls: list[Callable[[], T]]) -> list[T]:
    """Run independent peer calls side by side (they wait on the network, not the CPU)."""
    if len(calls) <= 1:
        return [c() for c in calls]
    with ThreadPoolExecutor(max_workers=min(len(calls), 8)) as pool:
        return list(pool.map(lambda c: c(), calls))
