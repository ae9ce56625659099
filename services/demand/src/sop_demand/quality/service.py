"""Data quality of the sales history and the data-status gate of cycle step 1."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sqlalchemy import or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, func, select

from sop_demand.budget.models import DemandBudget
from sop_demand.history.models import SalesHistory
from sop_demand.months import add_months, month_index, month_of_index
from sop_demand.products.models import Lifecycle, Product
from sop_demand.quality.schemas import (
    DataQualityReport,
    Finding,
    MonthLoaded,
    SeriesGap,
    ValueFlag,
)
from sop_shared.datastatus import DataCheck, DataStatus

LIMIT = 100
OUTLIER_Z = 3.5
SERIES = ["product", "site", "channel"]
SELLING = (Lifecycle.active.value, Lifecycle.phase_out.value)


def _window_frame(session: Session, month_from: str, month_to: str) -> pd.DataFrame:
    rows = session.execute(
        sa_select(
            col(SalesHistory.product),
            col(SalesHistory.site),
            col(SalesHistory.channel),
            col(SalesHistory.month),
            col(SalesHistory.quantity),
            col(SalesHistory.revenue),
        ).where(col(SalesHistory.month) >= month_from, col(SalesHistory.month) <= month_to)
    ).all()
    return pd.DataFrame(
        rows, columns=["product", "site", "channel", "month", "quantity", "revenue"]
    ).astype({"quantity": float, "revenue": float})


def _flags(frame: pd.DataFrame, extra: dict[str, np.ndarray] | None = None) -> list[ValueFlag]:
    out = []
    for i, r in enumerate(frame.head(LIMIT).itertuples(index=False)):
        more = {k: float(v[i]) for k, v in (extra or {}).items()}
        out.append(
            ValueFlag(
                product=r.product,
                site=r.site,
                channel=r.channel or None,
                month=r.month,
                quantity=r.quantity,
                revenue=r.revenue,
                **more,
            )
        )
    return out


def _products_without_history(session: Session) -> list[str]:
    sold = select(SalesHistory.product).distinct()
    return list(
        session.exec(
            select(Product.code)
            .where(col(Product.lifecycle).in_(SELLING), col(Product.code).not_in(sold))
            .order_by(col(Product.code))
        ).all()
    )


def last_month_loaded(session: Session) -> str | None:
    return session.exec(select(func.max(SalesHistory.month))).one()


def data_quality(session: Session, *, months: int, month_to: str | None) -> DataQualityReport:
    """Gaps, negative and outlying values, silent products, over the last ``months`` months."""
    last = last_month_loaded(session)
    end = month_to or last
    without = _products_without_history(session)
    budget_months = list(
        session.exec(select(DemandBudget.month).distinct().order_by(col(DemandBudget.month))).all()
    )
    if end is None:
        empty: Finding = Finding(count=0, items=[])
        return DataQualityReport(
            last_month_loaded=None,
            month_from=None,
            month_to=None,
            months=[],
            series=0,
            gaps=empty,
            negative_values=empty,
            outliers=empty,
            products_without_history=Finding(count=len(without), items=without[:LIMIT]),
            budget_months=budget_months,
        )
    start = add_months(end, -(months - 1))
    frame = _window_frame(session, start, end)
    per_month = (
        frame.groupby("month", sort=True)
        .agg(rows=("quantity", "size"), quantity=("quantity", "sum"), revenue=("revenue", "sum"))
        .reset_index()
    )
    frame = frame.sort_values([*SERIES, "month"], ignore_index=True)
    idx = month_index(frame["month"])
    group = frame.groupby(SERIES, sort=False)
    first = group["month"].transform("min")
    last_m = group["month"].transform("max")
    span = month_index(last_m) - month_index(first) + 1
    count = group["month"].transform("size").to_numpy()
    series_gap = (span - count) > 0
    gap_keys = frame.loc[series_gap, SERIES].drop_duplicates()
    gaps: list[SeriesGap] = []
    for key in gap_keys.head(LIMIT).itertuples(index=False):
        sel = (
            (frame["product"] == key.product)
            & (frame["site"] == key.site)
            & (frame["channel"] == key.channel)
        ).to_numpy()
        have = set(idx[sel].tolist())
        lo, hi = int(idx[sel].min()), int(idx[sel].max())
        missing = [month_of_index(m) for m in range(lo, hi + 1) if m not in have]
        gaps.append(
            SeriesGap(
                product=key.product,
                site=key.site,
                channel=key.channel or None,
                missing_months=missing,
            )
        )
    negative = frame[(frame["quantity"] < 0) | (frame["revenue"] < 0)]
    median = group["quantity"].transform("median")
    mad = (frame["quantity"] - median).abs().groupby([frame[k] for k in SERIES]).transform("median")
    with np.errstate(divide="ignore", invalid="ignore"):
        score = (0.6745 * (frame["quantity"] - median).abs() / mad).to_numpy()
    outlying = np.isfinite(score) & (score > OUTLIER_Z) & (count >= 6)
    out_frame = frame[outlying]
    return DataQualityReport(
        last_month_loaded=last,
        month_from=start,
        month_to=end,
        months=[MonthLoaded(**r) for r in per_month.to_dict("records")],
        series=int(group.ngroups),
        gaps=Finding(count=len(gap_keys), items=gaps),
        negative_values=Finding(count=len(negative), items=_flags(negative)),
        outliers=Finding(
            count=int(outlying.sum()),
            items=_flags(
                out_frame,
                {"median": median.to_numpy()[outlying], "score": score[outlying]},
            ),
        ),
        products_without_history=Finding(count=len(without), items=without[:LIMIT]),
        budget_months=budget_months,
    )


def data_status(session: Session, *, month: str, service: str) -> DataStatus:
    """Ready when the month's history is in, clean, and no selling product lacks history."""
    rows, quantity = session.exec(
        select(func.count(), func.coalesce(func.sum(SalesHistory.quantity), 0.0)).where(
            SalesHistory.month == month
        )
    ).one()
    negatives = session.exec(
        select(func.count()).where(
            SalesHistory.month == month,
            or_(col(SalesHistory.quantity) < 0, col(SalesHistory.revenue) < 0),
        )
    ).one()
    without = _products_without_history(session)
    checks = [
        DataCheck(
            name="sales_history_loaded",
            ok=rows > 0,
            detail=f"{rows} rows, quantity {float(quantity):g} for {month}"
            if rows
            else f"no sales history for {month}",
        ),
        DataCheck(
            name="no_negative_values",
            ok=not negatives,
            detail=f"{negatives} rows with negative quantity or revenue" if negatives else None,
        ),
        DataCheck(
            name="selling_products_have_history",
            ok=not without,
            detail=(
                f"{len(without)} active or phase-out product(s) without history: "
                + ", ".join(without[:10])
            )
            if without
            else None,
        ),
    ]
    return DataStatus(
        service=service,
        month=month,
        ready=all(c.ok for c in checks),
        last_month_loaded=last_month_loaded(session),
        checks=checks,
    )
