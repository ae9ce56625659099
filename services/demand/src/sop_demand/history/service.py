"""Sales history: vectorised all-or-nothing batch loads, reads and per-month aggregates."""

from __future__ import annotations

from itertools import repeat
from typing import Any

import numpy as np
from fastapi.responses import StreamingResponse
from sqlmodel import Session, col, select

from sop_demand.history import frames
from sop_demand.history.models import SalesHistory, SalesLoad
from sop_demand.history.repository import SalesLoadRepository, SalesRepository
from sop_demand.history.schemas import (
    COLUMNS,
    LoadMode,
    SalesLoadPage,
    SalesLoadRead,
    SalesPage,
    SalesRead,
)
from sop_shared import bulk
from sop_shared.auth import Caller
from sop_shared.streaming import LineFormat, stream_query
from sop_shared.types import CODE_RE, MAX_MONEY, MONTH_RE, month_window

ENDPOINT = "sales-history"
KEYS = ["product", "site", "channel", "month"]


def validate_sales(
    body: bytes, content_type: str | None, prices: dict[str, float]
) -> frames.pd.DataFrame:
    """The batch as product, site, channel, month, quantity, revenue, or a refusal naming
    every bad row and column (unknown product, negative quantity, month format, duplicate)."""
    frame = frames.read_frame(body, content_type, columns=COLUMNS, numeric=("quantity", "revenue"))
    issues: list[frames.Issue] = []
    product, product_codes = frames.text_column(
        frame,
        "product",
        issues,
        required=True,
        allowed=prices,
        allowed_message="unknown product {value}",
    )
    site, site_codes = frames.text_column(
        frame,
        "site",
        issues,
        required=True,
        pattern=CODE_RE,
        pattern_message="invalid site code {value}",
    )
    channel, channel_codes = frames.text_column(
        frame,
        "channel",
        issues,
        required=False,
        pattern=CODE_RE,
        pattern_message="invalid channel code {value}",
    )
    month, month_codes = frames.text_column(
        frame,
        "month",
        issues,
        required=True,
        pattern=MONTH_RE,
        pattern_message="month must be YYYY-MM, got {value}",
    )
    first, last = month_window()
    outside = month.str.match(MONTH_RE.pattern) & ((month < first) | (month > last))
    issues.append(
        frames.Issue(
            np.flatnonzero(outside.to_numpy(dtype=bool)),
            "month",
            frames.valued(month, f"month must lie between {first} and {last}, got {{value}}"),
        )
    )
    quantity = frames.number_column(frame, "quantity", issues, required=True)
    revenue = frames.number_column(frame, "revenue", issues, required=False, maximum=MAX_MONEY)
    clean = frames.pd.DataFrame(
        {
            "product": product,
            "site": site,
            "channel": channel,
            "month": month,
            "quantity": quantity,
            "revenue": revenue,
        }
    )
    frames.duplicates(clean, KEYS, [product_codes, site_codes, channel_codes, month_codes], issues)
    frames.refuse(issues, "row(s)")
    missing = clean["revenue"].isna().to_numpy()
    if missing.any():
        price = clean["product"].map(prices).to_numpy(dtype=float)
        clean["revenue"] = np.where(missing, clean["quantity"].to_numpy() * price, clean["revenue"])
    return clean


def load_sales(
    session: Session,
    *,
    body: bytes,
    content_type: str | None,
    mode: LoadMode,
    idempotency_key: str | None,
    caller: Caller,
) -> SalesLoadRead:
    """Validate the whole batch, then replace its months (or its keys) and COPY it in."""
    digest = bulk.body_hash(body)
    endpoint = f"{ENDPOINT}.{mode}"
    previous = bulk.replay(session, key=idempotency_key, endpoint=endpoint, digest=digest)
    if previous is not None:
        return SalesLoadRead.model_validate(previous)
    repo = SalesRepository(session)
    clean = validate_sales(body, content_type, repo.prices())
    months = sorted(clean["month"].unique().tolist())
    if mode == "replace":
        replaced = repo.delete_months(months)
    else:
        replaced = repo.delete_keys(
            zip(
                clean["product"].tolist(),
                clean["site"].tolist(),
                clean["channel"].tolist(),
                clean["month"].tolist(),
                strict=True,
            )
        )
    load = SalesLoadRepository(session).add(
        SalesLoad(
            mode=mode,
            rows=len(clean),
            months=months,
            replaced_rows=replaced,
            created_by=caller.subject,
        )
    )
    session.flush()
    repo.write(
        zip(
            clean["product"].tolist(),
            clean["site"].tolist(),
            clean["channel"].tolist(),
            clean["month"].tolist(),
            clean["quantity"].tolist(),
            clean["revenue"].tolist(),
            repeat(load.id),
            strict=False,
        )
    )
    result = SalesLoadRead.model_validate(load)
    bulk.remember(
        session,
        key=idempotency_key,
        endpoint=endpoint,
        digest=digest,
        status_code=200,
        response=result.model_dump(mode="json"),
    )
    return result


def read_sales(
    session: Session,
    *,
    product: str | None,
    site: str | None,
    family: str | None,
    month_from: str | None,
    month_to: str | None,
    fmt: LineFormat,
    limit: int,
    offset: int,
) -> SalesPage | StreamingResponse:
    """A page of history rows, or all of them streamed as JSON lines or CSV."""
    repo = SalesRepository(session)
    query = repo.filtered(
        product=product, site=site, family=family, month_from=month_from, month_to=month_to
    )
    order = [
        col(SalesHistory.product),
        col(SalesHistory.site),
        col(SalesHistory.channel),
        col(SalesHistory.month),
    ]
    if fmt != "json":
        columns = ["product", "site", "channel", "month", "quantity", "revenue"]
        stream = query.with_only_columns(*(getattr(SalesHistory, c) for c in columns))
        return stream_query(
            session,
            stream.order_by(*order),
            columns=columns,
            fmt=fmt,
            filename="sales-history",
            convert=lambda row: _channel_out(dict(row._mapping)),
        )
    rows, total = repo.page(query, order=order, limit=limit, offset=offset)
    return SalesPage(
        items=[SalesRead.model_validate(_channel_out(r.model_dump())) for r in rows],
        total=total,
        limit=limit,
        offset=offset,
    )


def _channel_out(record: dict[str, Any]) -> dict[str, Any]:
    record["channel"] = record["channel"] or None
    return record


def list_loads(session: Session, *, limit: int, offset: int) -> SalesLoadPage:
    rows, total = SalesLoadRepository(session).list_page(
        select(SalesLoad), order_by=col(SalesLoad.id).desc(), limit=limit, offset=offset
    )
    return SalesLoadPage(
        items=[SalesLoadRead.model_validate(r) for r in rows],
        total=total,
        limit=limit,
        offset=offset,
    )
