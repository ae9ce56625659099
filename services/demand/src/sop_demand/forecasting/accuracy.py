"""Forecast accuracy (WAPE, MAPE, sMAPE, bias, MASE) by any grouping, and FVA.

Conventions (all metrics are fractions, 0.12 = 12 %):

* error = forecast - actual, so a positive bias means over-forecasting.
* WAPE = Σ|f - a| / Σ|a|: volume-weighted, the S&OP headline metric; NaN when Σ|a| = 0.
* MAPE = mean(|f - a| / |a|) over rows with a != 0 only (zero actuals have no percentage
  error); NaN when every actual is 0.
* sMAPE = mean(2|f - a| / (|a| + |f|)), range 0..2; a row with a = f = 0 scores 0.
* bias = Σ(f - a) / Σa.
* MASE = mean over rows of |f - a| / scale of the row's series, where the scale is the
  in-sample MAE of the seasonal naive forecast on the history the forecast was made from
  (``mase_scale``). Scaling per row and then averaging makes a group of series the mean of
  their scaled errors, so a big series does not drown the small ones.

A group is any set of columns passed as ``by`` (product, family, lag, month...); ``by=None``
gives one overall row. ``forecast_lag`` adds the lag (periods between the forecast's cutoff and
its target) so that accuracy "at lag 3" is ``accuracy(df[df.lag == 3])`` or ``by=["lag"]``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

METRICS = ("wape", "mape", "smape", "bias", "mase")


def mase_scale(
    history: pd.DataFrame,
    *,
    season_length: int = 12,
    id_col: str = "unique_id",
    time_col: str = "ds",
    target_col: str = "y",
) -> pd.Series:
    """In-sample seasonal-naive MAE per series: mean |y_t - y_{t-m}|.

    Rows are taken in time order as consecutive periods. A series with at most
    ``season_length`` periods uses lag 1 (no full season to compare with). A zero scale
    (flat history) is returned as NaN so that MASE is NaN rather than infinite.
    """
    df = history[[id_col, time_col, target_col]].sort_values([id_col, time_col], kind="stable")
    y = df[target_col].astype(float)
    g = df.groupby(id_col, sort=True)[target_col]
    n = g.transform("size")
    seasonal = (y - g.shift(season_length)).abs()
    first_diff = (y - g.shift(1)).abs()
    diff = seasonal.where(n > season_length, first_diff)
    scale = diff.groupby(df[id_col], sort=True).mean()
    scale = scale.where(scale > 0)
    scale.name = "scale"
    return scale


def forecast_lag(cutoff: pd.Series, target: pd.Series, *, freq: str = "M") -> pd.Series:
    """Periods from a forecast's cutoff (last actual used) to its target period.

    A forecast for March made with actuals up to February has lag 1. ``freq`` is a pandas
    period frequency ("M" months, "W" weeks...); integer inputs are subtracted directly.
    """
    if pd.api.types.is_integer_dtype(cutoff) and pd.api.types.is_integer_dtype(target):
        return (target - cutoff).rename("lag")
    c = pd.PeriodIndex(pd.to_datetime(cutoff), freq=freq).asi8
    t = pd.PeriodIndex(pd.to_datetime(target), freq=freq).asi8
    return pd.Series(t - c, index=target.index, name="lag")


def accuracy(
    df: pd.DataFrame,
    *,
    actual: str = "actual",
    forecast: str = "forecast",
    by: str | Sequence[str] | None = None,
    scale: pd.Series | None = None,
    id_col: str = "unique_id",
    metrics: Sequence[str] | None = None,
) -> pd.DataFrame:
    """One row per group with ``n`` and the requested metrics.

    ``scale`` (from ``mase_scale``, indexed by series id) is needed for MASE only; rows whose
    series has no scale are left out of MASE. ``metrics=None`` means all of them, MASE only
    when a scale is given.
    """
    if metrics is None:
        metrics = METRICS if scale is not None else tuple(m for m in METRICS if m != "mase")
    unknown = set(metrics) - set(METRICS)
    if unknown:
        raise ValueError(f"unknown metrics {sorted(unknown)}")
    if "mase" in metrics and scale is None:
        raise ValueError("MASE needs the in-sample scale per series (see mase_scale)")
    keys = _keys(by)
    a = df[actual].to_numpy(dtype=float)
    f = df[forecast].to_numpy(dtype=float)
    err = f - a
    abs_err = np.abs(err)
    nonzero = a != 0
    denom = np.abs(a) + np.abs(f)
    with np.errstate(divide="ignore", invalid="ignore"):
        ape = np.where(nonzero, abs_err / np.abs(a), 0.0)
        sape = np.where(denom > 0, 2 * abs_err / denom, 0.0)
    parts = {
        "n": np.ones_like(a),
        "abs_err": abs_err,
        "err": err,
        "abs_act": np.abs(a),
        "act": a,
        "ape": ape,
        "n_nonzero": nonzero.astype(float),
        "sape": sape,
    }
    if "mase" in metrics:
        assert scale is not None
        s = df[id_col].map(scale).to_numpy(dtype=float)
        has = np.isfinite(s) & (s > 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            parts["sae"] = np.where(has, abs_err / s, 0.0)
        parts["n_scaled"] = has.astype(float)
    frame = pd.DataFrame(parts, index=df.index)
    if keys:
        for k in keys:
            frame[k] = df[k].to_numpy()
        sums = frame.groupby(keys, sort=True, observed=True, dropna=False).sum()
    else:
        sums = frame.sum().to_frame().T

    out = pd.DataFrame(index=sums.index)
    out["n"] = sums["n"].astype(np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        if "wape" in metrics:
            out["wape"] = _ratio(sums["abs_err"], sums["abs_act"])
        if "mape" in metrics:
            out["mape"] = _ratio(sums["ape"], sums["n_nonzero"])
        if "smape" in metrics:
            out["smape"] = sums["sape"] / sums["n"]
        if "bias" in metrics:
            out["bias"] = _ratio(sums["err"], sums["act"])
        if "mase" in metrics:
            out["mase"] = _ratio(sums["sae"], sums["n_scaled"])
    return out.reset_index(drop=not keys)


def forecast_value_added(
    df: pd.DataFrame,
    *,
    actual: str = "actual",
    baseline: str = "baseline",
    layer: str = "forecast",
    by: str | Sequence[str] | None = None,
    metric: str = "wape",
    scale: pd.Series | None = None,
    id_col: str = "unique_id",
) -> pd.DataFrame:
    """FVA of a layer (e.g. planner overrides) over the statistical baseline.

    fva = error(baseline) - error(layer): positive when the layer made the forecast better.
    For ``metric="bias"`` the error is |bias| (closer to unbiased is better).
    """
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}")
    keys = _keys(by)
    base, lay = (
        accuracy(df, actual=actual, forecast=f, by=by, scale=scale, id_col=id_col, metrics=[metric])
        for f in (baseline, layer)
    )
    out = base[[*keys, "n"]].copy()
    e_base = base[metric].abs() if metric == "bias" else base[metric]
    e_lay = lay[metric].abs() if metric == "bias" else lay[metric]
    out[f"{metric}_baseline"] = e_base.to_numpy()
    out[f"{metric}_layer"] = e_lay.to_numpy()
    out["fva"] = out[f"{metric}_baseline"] - out[f"{metric}_layer"]
    return out


def _keys(by: str | Sequence[str] | None) -> list[str]:
    if by is None:
        return []
    return [by] if isinstance(by, str) else list(by)


def _ratio(num: pd.Series, den: pd.Series) -> pd.Series:
    return (num / den).where(den != 0)
