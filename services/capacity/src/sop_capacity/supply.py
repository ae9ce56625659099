"""The supply service as this service sees it: production requirements over REST.

Never called inside an open database transaction (STYLE §2). The HTTP transport is
injectable so tests fake supply with ``httpx.MockTransport``.
"""

from __future__ import annotations

from typing import Any

import httpx
import numpy as np
import pandas as pd

from sop_shared.http import ServiceClient
from sop_shared.problems import FieldError, Unprocessable
from sop_shared.settings import ServiceSettings

REQUIREMENT_COLUMNS = [
    "product",
    "site",
    "month",
    "quantity",
    "safety_stock",
    "opening_stock",
    "moq",
    "lot_multiple",
]
OPTIONAL_COLUMNS = ("safety_stock", "opening_stock", "moq", "lot_multiple")
"""Missing: 0 safety stock, unknown opening stock, no minimum lot, whole units."""
MONTH_RE = r"^(19|2\d)\d{2}-(0[1-9]|1[0-2])$"
MAX_REPORTED = 20


class SupplyGateway:
    """Reads what capacity needs from supply, authenticated as ``integration``."""

    def __init__(
        self, settings: ServiceSettings, *, transport: httpx.BaseTransport | None = None
    ) -> None:
        self.settings = settings
        self.transport = transport

    def _client(self) -> ServiceClient:
        return ServiceClient(
            self.settings.urls.supply_url,
            self.settings.auth,
            caller="capacity",
            transport=self.transport,
        )

    def plan_header(self, supply_plan_id: str) -> dict[str, object]:
        """The supply plan itself (cycle, scenario, version, status)."""
        with self._client() as client:
            body = client.get_json(f"/api/v1/supply-plans/{supply_plan_id}")
        if not isinstance(body, dict):
            raise Unprocessable(f"Supply plan {supply_plan_id}: not a JSON object.")
        return body

    def production_requirements(self, supply_plan_id: str) -> pd.DataFrame:
        """One row per product x site x month (duplicates summed), checked column by column."""
        path = f"/api/v1/supply-plans/{supply_plan_id}/production-requirements"
        with self._client() as client:
            rows = list(client.iter_jsonl(path))
        return requirements_frame(rows, source=f"supply plan {supply_plan_id}")

    def material_constraints(self, supply_plan_id: str) -> dict[str, Any]:
        """The plan's purchased materials: stock, open orders, lead times, BOM, contracts
        (supply's ``material-constraints`` document)."""
        path = f"/api/v1/supply-plans/{supply_plan_id}/material-constraints"
        with self._client() as client:
            return dict(client.get_json(path))


def requirements_frame(rows: list[dict[str, object]], *, source: str) -> pd.DataFrame:
    """Validate requirement rows vectorised; refuse them all naming the first bad cells."""
    frame = pd.DataFrame(rows)
    for column in REQUIREMENT_COLUMNS:
        if column not in frame:
            frame[column] = np.nan if column in OPTIONAL_COLUMNS else None
    frame = frame[REQUIREMENT_COLUMNS].copy()
    errors: list[FieldError] = []

    def flag(mask: pd.Series, field: str, message: str) -> None:
        for index in np.flatnonzero(mask.to_numpy())[:MAX_REPORTED]:
            errors.append(FieldError(row=int(index) + 1, field=field, message=message))

    for column in ("product", "site"):
        text = frame[column]
        flag(text.isna() | (text.astype(str).str.strip() == ""), column, "missing")
    month = frame["month"].astype(str)
    flag(~month.str.match(MONTH_RE), "month", "must be a month YYYY-MM")
    for column in ("quantity", *OPTIONAL_COLUMNS):
        frame[column] = pd.to_numeric(frame[column], errors="coerce")
    quantity = frame["quantity"]
    flag(quantity.isna() | ~np.isfinite(quantity.fillna(0)), "quantity", "must be a number")
    flag(quantity < 0, "quantity", "must be >= 0")
    flag(frame["safety_stock"] < 0, "safety_stock", "must be >= 0")
    for column in ("moq", "lot_multiple"):
        flag((frame[column] < 0) | np.isinf(frame[column]), column, "must be a number >= 0")
    if errors:
        first = errors[0]
        raise Unprocessable(
            f"{source} has invalid production requirements; first: row {first.row}, "
            f"{first.field}: {first.message}",
            code="invalid-requirements",
            errors=errors[:100],
        )
    frame["safety_stock"] = frame["safety_stock"].fillna(0.0)  # opening_stock: NaN = unknown
    frame[["moq", "lot_multiple"]] = frame[["moq", "lot_multiple"]].fillna(0.0)
    frame["product"] = frame["product"].astype(str)
    frame["site"] = frame["site"].astype(str)
    return (
        frame.groupby(["product", "site", "month"], as_index=False, sort=True)
        .agg(
            quantity=("quantity", "sum"),
            safety_stock=("safety_stock", "max"),
            opening_stock=("opening_stock", "first"),
            moq=("moq", "max"),
            lot_multiple=("lot_multiple", "max"),
        )
        .reset_index(drop=True)
    )
