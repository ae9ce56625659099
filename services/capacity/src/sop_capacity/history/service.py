"""Production history: upload actuals, read them, and turn them into real utilisation/efficiency."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlmodel import Session

from sop_capacity.calendars.repository import CalendarRepository
from sop_capacity.history.models import ALL_PRODUCTS, ProductionHistory
from sop_capacity.history.repository import HistoryRepository
from sop_capacity.history.schemas import (
    HistoryPage,
    HistoryRead,
    HistoryRow,
    UtilisationList,
    UtilisationRead,
)
from sop_capacity.ingest import BulkResult, ingest, replace_rows, table_of
from sop_capacity.resources.repository import ResourceRepository
from sop_capacity.routings.repository import RoutingRepository
from sop_shared.bulk import refuse_rows
from sop_shared.readmodels.products import known_products


def _apply(session: Session, rows: list[HistoryRow]) -> tuple[int, int]:
    resources = ResourceRepository(session).by_codes(r.resource for r in rows)
    products = known_products(session, (r.product for r in rows if r.product))
    problems = []
    for number, row in enumerate(rows, start=1):
        if row.resource not in resources:
            problems.append((number, "resource", f"unknown resource {row.resource!r}"))
        if row.product and row.product not in products:
            problems.append((number, "product", f"unknown product {row.product!r}"))
    refuse_rows(problems, f"{len(problems)} unknown product or resource reference(s)")
    now = datetime.now(UTC)
    records = [
        {**r.model_dump(), "product": r.product or ALL_PRODUCTS, "updated_at": now} for r in rows
    ]
    keys = [(r["resource"], r["month"], r["product"]) for r in records]
    existing = HistoryRepository(session).existing_keys(keys)
    return replace_rows(
        session, table_of(ProductionHistory), ("resource", "month", "product"), existing, records
    )


def bulk_upsert(
    session: Session, *, raw: bytes, content_type: str | None, idempotency_key: str | None
) -> BulkResult:
    """Create or replace actuals keyed by (resource, month, product)."""
    return ingest(
        session,
        raw=raw,
        content_type=content_type,
        idempotency_key=idempotency_key,
        endpoint="POST /production-history/bulk",
        model=HistoryRow,
        key=lambda r: (r.resource, r.month, r.product or ALL_PRODUCTS),
        apply=_apply,
    )


def list_history(
    session: Session,
    *,
    resource: str | None,
    from_month: str | None,
    to_month: str | None,
    limit: int,
    offset: int,
) -> HistoryPage:
    rows, total = HistoryRepository(session).page(
        resource=resource, from_month=from_month, to_month=to_month, limit=limit, offset=offset
    )
    items = [
        HistoryRead.model_validate({**r.model_dump(), "product": r.product or None}) for r in rows
    ]
    return HistoryPage(items=items, total=total, limit=limit, offset=offset)


def _frame(rows: Sequence[Any], columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame([{c: getattr(r, c) for c in columns} for r in rows], columns=columns)


def utilisation(
    session: Session, *, resource: str | None, from_month: str | None, to_month: str | None
) -> UtilisationList:
    """Per resource-month: hours worked vs calendar hours, and output vs routing standard.

    A resource-month total row wins over the sum of its product rows; efficiency uses only
    product rows whose product has a routing on that resource.
    """
    hist = _frame(
        HistoryRepository(session).rows(
            resource=resource, from_month=from_month, to_month=to_month
        ),
        ["resource", "month", "product", "output_quantity", "hours_worked"],
    )
    if hist.empty:
        return UtilisationList(items=[])
    calendars = CalendarRepository(session).for_resources(hist["resource"].unique().tolist())
    cal = _frame(calendars, ["resource", "month", "available_hours"])
    routing = _frame(RoutingRepository(session).all(), ["product", "resource", "hours_per_unit"])

    is_total = hist["product"] == ALL_PRODUCTS
    keys = ["resource", "month"]
    totals = hist[is_total].set_index(keys)[["hours_worked", "output_quantity"]]
    parts = hist[~is_total].merge(routing, on=["product", "resource"], how="left")
    parts["earned"] = parts["output_quantity"] * parts["hours_per_unit"]
    parts["std_hours"] = parts["hours_worked"].where(parts["hours_per_unit"].notna())
    by_cell = parts.groupby(keys).agg(
        hours_worked=("hours_worked", "sum"),
        output_quantity=("output_quantity", "sum"),
        earned=("earned", lambda s: s.sum(min_count=1)),
        std_hours=("std_hours", lambda s: s.sum(min_count=1)),
    )
    cells = by_cell[["hours_worked", "output_quantity"]].combine_first(totals)
    cells.update(totals)  # a reported total wins over the sum of product rows
    cells = cells.join(by_cell[["earned", "std_hours"]]).reset_index()
    cells = cells.merge(cal, on=keys, how="left").sort_values(keys)
    avail = cells["available_hours"].to_numpy(dtype=float)
    worked = cells["hours_worked"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        util = np.where(avail > 0, worked / avail, np.nan)
        eff = cells["earned"].to_numpy(dtype=float) / cells["std_hours"].to_numpy(dtype=float)
    cells["utilisation"] = util
    cells["efficiency"] = np.where(np.isfinite(eff), eff, np.nan)
    cells = cells.rename(columns={"earned": "earned_hours"})
    cells = cells.astype(object).where(cells.notna(), None)
    return UtilisationList(
        items=[
            UtilisationRead.model_validate(r)
            for r in cells[list(UtilisationRead.model_fields)].to_dict("records")
        ]
    )
