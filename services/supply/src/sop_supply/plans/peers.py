"""Plan lines of the peer services, fetched over REST (never inside a database transaction)."""

from __future__ import annotations

from typing import IO

import httpx
import pandas as pd

from sop_shared.http import ServiceClient
from sop_shared.problems import UpstreamUnavailable
from sop_shared.settings import ServiceSettings

LINE_COLUMNS = ["product", "site", "month", "quantity"]
DEMAND_FIELDS = "product,site,month,quantity,forecast_sigma"
"""What the plan uses of a demand line: half the bytes of the whole line."""
TEXT_COLUMNS = {"product": str, "site": str, "month": str, "family": str, "category": str}


def read_lines(body: IO[bytes], *, quantity: str = "quantity") -> pd.DataFrame:
    """Plan lines from a peer's CSV stream: every column it sends, codes kept as text
    (a product called ``NA`` stays ``NA``), an empty number read as missing; the column
    ``quantity`` names becomes ``quantity``."""
    try:
        frame = pd.read_csv(body, dtype=TEXT_COLUMNS, keep_default_na=False, na_values=[""])
    except pd.errors.EmptyDataError:  # not even a header line
        return pd.DataFrame({name: pd.Series(dtype=object) for name in LINE_COLUMNS})
    if quantity != "quantity" and quantity in frame.columns:
        frame = frame.drop(columns=["quantity"], errors="ignore")
        frame = frame.rename(columns={quantity: "quantity"})
    missing = [name for name in LINE_COLUMNS if name not in frame.columns]
    if missing:
        raise UpstreamUnavailable(f"plan lines without the column(s) {', '.join(missing)}")
    frame["quantity"] = pd.to_numeric(frame["quantity"], errors="coerce").fillna(0.0)
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
            path = lines_url or f"/api/v1/demand-plans/{plan_id}/lines"
            with client.open(path, format="csv", fields=DEMAND_FIELDS) as body:
                return read_lines(body)

    def production_lines(self, plan_id: str) -> pd.DataFrame:
        """Production per product-site-month of a capacity plan, zeros included: its
        positions, not its lines. Lines exist only where something is made, so a product
        the plan cannot make (or makes none of) would look absent from the plan and be
        planned as usual, hiding its shortage."""
        with self._client(self.settings.urls.capacity_url) as client:
            path = f"/api/v1/production-plans/{plan_id}/positions"
            with client.open(path, format="csv") as body:
                return read_lines(body, quantity="production")

    def material_purchases(self, plan_id: str) -> pd.DataFrame:
        """New purchases per material-site-month of a capacity plan (its material-feasible
        buying) as product, site, month, quantity; no rows for a plan without materials."""
        with self._client(self.settings.urls.capacity_url) as client:
            path = f"/api/v1/production-plans/{plan_id}/materials"
            with client.open(path, format="csv") as body:
                try:
                    frame = pd.read_csv(body, dtype=TEXT_COLUMNS | {"material": str})
                except pd.errors.EmptyDataError:
                    frame = pd.DataFrame(columns=["material", "site", "month", "purchases"])
        frame = frame.rename(columns={"material": "product", "purchases": "quantity"})
        return frame[LINE_COLUMNS].astype({"quantity": float})
