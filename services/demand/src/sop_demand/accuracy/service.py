"""Forecast accuracy against the frozen forecast of each cycle, and forecast value added.

Each cycle counts once: its frozen run (the one its demand plan was submitted from), else its
latest succeeded run. A forecast for month M made with actuals up to H has lag M - H (the
cycle month is lag 1). A month is scored once its actuals are loaded; a product without a
sales row in a loaded month sold 0. MASE scales each product's errors by the in-sample
seasonal-naive error of the history the run had (``forecasting.accuracy.mase_scale``).

FVA compares, per cycle, the base scenario's approved (else latest submitted) plan: the
``review`` layer (promotions, NPI, EOL) and the ``consensus`` layer (after planners'
overrides), each against the statistical baseline; positive FVA means the layer helped.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from sop_demand.accuracy.schemas import (
    AccuracyReport,
    AccuracyRow,
    FvaReport,
    FvaRow,
    RunRef,
)
from sop_demand.forecasting.accuracy import METRICS, accuracy, forecast_value_added, mase_scale
from sop_demand.forecasts.models import ForecastRun, ForecastValue
from sop_demand.forecasts.repository import ForecastRunRepository
from sop_demand.history.models import SalesHistory
from sop_demand.months import month_index, months_of_index, to_timestamps
from sop_demand.plans.models import DemandPlan, DemandPlanLine, PlanStatus
from sop_demand.products.models import Product

KEY = "series"
LAYERS = {"review": "adjusted", "consensus": "quantity"}
PRIORITY: dict[str, int] = {
    PlanStatus.approved.value: 0,
    PlanStatus.submitted.value: 1,
    PlanStatus.superseded.value: 2,
}


def _last_loaded(session: Session) -> str | None:
    return session.exec(select(func.max(SalesHistory.month))).one()


def _forecasts(
    session: Session, runs: Sequence[ForecastRun], lags: Sequence[int], last: str
) -> pd.DataFrame:
    frames = []
    for run in runs:
        end = month_index(run.history_end)
        wanted = [m for m in months_of_index(np.asarray([end + lag for lag in lags])) if m <= last]
        if not wanted:
            continue
        rows = session.exec(
            select(ForecastValue.product, ForecastValue.month, ForecastValue.mean).where(
                ForecastValue.run_id == run.id, col(ForecastValue.month).in_(wanted)
            )
        ).all()
        frame = pd.DataFrame(rows, columns=["product", "month", "forecast"])
        frames.append(frame.assign(cycle=run.cycle, history_end=run.history_end))
    if not frames:
        return pd.DataFrame(columns=["product", "month", "forecast", "cycle", "history_end"])
    return pd.concat(frames, ignore_index=True)


def _actuals(session: Session, months: Sequence[str]) -> pd.DataFrame:
    rows = session.exec(
        select(SalesHistory.product, SalesHistory.month, func.sum(SalesHistory.quantity))
        .where(col(SalesHistory.month).in_(list(months)))
        .group_by(SalesHistory.product, SalesHistory.month)
    ).all()
    return pd.DataFrame(rows, columns=["product", "month", "actual"]).astype({"actual": float})


def _scales(session: Session, frame: pd.DataFrame, season_length: int = 12) -> pd.Series:
    """Seasonal-naive in-sample MAE per (cycle, product) on the history each run had."""
    products = sorted(set(frame["product"]))
    latest = frame["history_end"].max()
    rows = session.exec(
        select(SalesHistory.product, SalesHistory.month, func.sum(SalesHistory.quantity))
        .where(col(SalesHistory.product).in_(products), col(SalesHistory.month) <= latest)
        .group_by(SalesHistory.product, SalesHistory.month)
    ).all()
    history = pd.DataFrame(rows, columns=["product", "month", "y"]).astype({"y": float})
    if history.empty:
        return pd.Series(dtype=float, name="scale")
    # a dense grid from each product's first sale (missing months sold 0)
    dense = history.pivot_table(index="product", columns="month", values="y", aggfunc="sum")
    all_months = months_of_index(
        np.arange(month_index(dense.columns.min()), month_index(latest) + 1)
    )
    dense = dense.reindex(columns=all_months)
    started = dense.notna().cummax(axis=1)
    dense = dense.fillna(0.0).where(started)
    long = dense.stack().rename("y").reset_index()
    parts = []
    for (cycle, end), _ in frame.groupby(["cycle", "history_end"]):
        part = long[long["month"] <= end]
        scale = mase_scale(
            pd.DataFrame(
                {
                    "unique_id": part["product"].to_numpy(),
                    "ds": to_timestamps(part["month"]).to_numpy(),
                    "y": part["y"].to_numpy(),
                }
            ),
            season_length=season_length,
        )
        scale.index = f"{cycle}|" + scale.index.astype(str)
        parts.append(scale)
    return pd.concat(parts) if parts else pd.Series(dtype=float, name="scale")


def _scored(
    session: Session,
    frame: pd.DataFrame,
    last: str,
    *,
    family: str | None,
    product: str | None,
    month_from: str | None,
    month_to: str | None,
) -> pd.DataFrame:
    """Add actual, family, lag and the series key; apply the filters."""
    families = dict(session.exec(select(Product.code, Product.family)).all())
    frame = frame.assign(family=frame["product"].map(families).fillna(""))
    if family:
        frame = frame[frame["family"] == family]
    if product:
        frame = frame[frame["product"] == product]
    if month_from:
        frame = frame[frame["month"] >= month_from]
    if month_to:
        frame = frame[frame["month"] <= month_to]
    frame = frame[frame["month"] <= last]
    if frame.empty:
        return frame.assign(actual=[], lag=[], **{KEY: []})
    actuals = _actuals(session, sorted(set(frame["month"])))
    frame = frame.merge(actuals, on=["product", "month"], how="left")
    frame["actual"] = frame["actual"].fillna(0.0)
    frame["lag"] = month_index(frame["month"]) - month_index(frame["history_end"])
    frame[KEY] = frame["cycle"] + "|" + frame["product"]
    return frame


def _clean(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if np.isfinite(number) else None


def _keys(row: dict[str, object], by: Sequence[str]) -> dict[str, object]:
    return {k: (int(row[k]) if k == "lag" else row[k]) for k in by}  # type: ignore[call-overload]


def accuracy_report(
    session: Session,
    *,
    by: Sequence[str],
    lags: Sequence[int],
    family: str | None,
    product: str | None,
    month_from: str | None,
    month_to: str | None,
) -> AccuracyReport:
    """WAPE, MAPE, sMAPE, bias and MASE per group of ``by`` (product, family, lag, ...)."""
    runs = ForecastRunRepository(session).frozen_runs()
    last = _last_loaded(session)
    refs = [RunRef(cycle=r.cycle, run_id=r.id, frozen=r.frozen) for r in runs]
    empty = AccuracyReport(by=list(by), lags=list(lags), actuals_through=last, runs=refs, items=[])
    if last is None or not runs:
        return empty
    frame = _forecasts(session, runs, lags, last)
    frame = _scored(
        session,
        frame,
        last,
        family=family,
        product=product,
        month_from=month_from,
        month_to=month_to,
    )
    if frame.empty:
        return empty
    scale = _scales(session, frame)
    table = accuracy(frame, by=list(by) or None, scale=scale, id_col=KEY, metrics=list(METRICS))
    items = [
        AccuracyRow(
            **_keys(r, by),
            n=int(r["n"]),
            **{m: _clean(r[m]) for m in METRICS},
        )
        for r in table.to_dict("records")
    ]
    return empty.model_copy(update={"items": items})


def _plan_layers(session: Session, cycles: Sequence[str]) -> pd.DataFrame:
    """Per cycle: product × month baseline, review and consensus of its base plan."""
    plans = session.exec(
        select(DemandPlan).where(
            col(DemandPlan.cycle).in_(list(cycles)),
            DemandPlan.scenario == "base",
            col(DemandPlan.status).in_(list(PRIORITY)),
        )
    ).all()
    chosen: dict[str, DemandPlan] = {}
    for plan in sorted(plans, key=lambda p: (PRIORITY[p.status], -p.version_no)):
        chosen.setdefault(plan.cycle, plan)  # approved, else the newest submitted
    frames = []
    for cycle, plan in chosen.items():
        rows = session.execute(
            sa_select(
                col(DemandPlanLine.product),
                col(DemandPlanLine.month),
                func.sum(DemandPlanLine.baseline),
                func.sum(DemandPlanLine.adjusted),
                func.sum(DemandPlanLine.quantity),
            )
            .where(col(DemandPlanLine.plan_id) == plan.id)
            .group_by(DemandPlanLine.product, DemandPlanLine.month)
        ).all()
        frames.append(
            pd.DataFrame(rows, columns=["product", "month", "baseline", "adjusted", "quantity"])
            .astype({"baseline": float, "adjusted": float, "quantity": float})
            .assign(cycle=cycle)
        )
    if not frames:
        return pd.DataFrame(
            columns=["product", "month", "baseline", "adjusted", "quantity", "cycle"]
        )
    return pd.concat(frames, ignore_index=True)


def fva_report(
    session: Session,
    *,
    by: Sequence[str],
    lags: Sequence[int],
    metric: str,
    family: str | None,
    product: str | None,
    month_from: str | None,
    month_to: str | None,
) -> FvaReport:
    """Forecast value added of the review and consensus layers over the baseline."""
    runs = {r.cycle: r for r in ForecastRunRepository(session).frozen_runs()}
    last = _last_loaded(session)
    report = FvaReport(metric=metric, by=list(by), lags=list(lags), actuals_through=last, items=[])
    if last is None:
        return report
    layers = _plan_layers(session, sorted(runs))
    if layers.empty:
        return report
    layers["history_end"] = layers["cycle"].map({c: r.history_end for c, r in runs.items()})
    layers = layers.dropna(subset=["history_end"])
    frame = _scored(
        session,
        layers,
        last,
        family=family,
        product=product,
        month_from=month_from,
        month_to=month_to,
    )
    frame = frame[frame["lag"].isin(list(lags))] if not frame.empty else frame
    if frame.empty:
        return report
    scale = _scales(session, frame) if metric == "mase" else None
    items = []
    for layer, column in LAYERS.items():
        table = forecast_value_added(
            frame,
            baseline="baseline",
            layer=column,
            by=list(by) or None,
            metric=metric,
            scale=scale,
            id_col=KEY,
        )
        for r in table.to_dict("records"):
            items.append(
                FvaRow(
                    layer=layer,
                    **_keys(r, by),
                    n=int(r["n"]),
                    baseline_error=_clean(r[f"{metric}_baseline"]),
                    layer_error=_clean(r[f"{metric}_layer"]),
                    fva=_clean(r["fva"]),
                )
            )
    return report.model_copy(update={"items": items})
