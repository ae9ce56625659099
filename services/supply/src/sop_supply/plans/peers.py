"""Plan lines of the peer services, fetched over REST (never inside a database transaction)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import httpx
import pandas as pd

from sop_shared.http import ServiceClient
from sop_shared.settings import ServiceSettings

LINE_COLUMNS = ["product", "site", "month", "quantity"]


def lines_frame(lines: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """(product, site, month, quantity) columns from JSON line dicts, without a dict per row kept."""
    columns: dict[str, list[Any]] = {name: [] for name in LINE_COLUMNS}
    product, site, month, quantity = columns.values()
    for line in lines:
        product.append(line["product"])
        site.append(line["site"])
        month.append(line["month"])
        quantity.append(line["quantity"])
    frame = pd.DataFrame(columns)
    frame["quantity"] = pd.to_numeric(frame["quantity"], errors="coerce").fillna(0.0).astype(float)
    return frame


class Peers:
    """The demand and capacity services as seen by supply (``transport`` for tests)."""

    def __init__(
        self, settings: ServiceSettings, transport: httpx.BaseTransport | None = None
    ) -> None:
        self.settings = settings
        self.transport = transport

    def _client(self, base_url: str) -> ServiceClient:
        return ServiceClient(
            base_url, self.settings.auth, caller="supply", transport=self.transport
        )

    def demand_lines(self, plan_id: str, lines_url: str | None = None) -> pd.DataFrame:
        with self._client(self.settings.urls.demand_url) as client:
            return lines_frame(
                client.iter_jsonl(lines_url or f"/api/v1/demand-plans/{plan_id}/lines")
            )

    def production_lines(self, plan_id: str, lines_url: str | None = None) -> pd.DataFrame:
        with self._client(self.settings.urls.capacity_url) as client:
            path = lines_url or f"/api/v1/production-plans/{plan_id}/lines"
            return lines_frame(client.iter_jsonl(path))
