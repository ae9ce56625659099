"""Syntetos–Boylan demand classification by ADI and CV².

ADI (average demand interval) = periods / periods with demand, counted from the first period
with demand (leading zeros are months before launch, not evidence of intermittency).
CV² = (std / mean)² of the non-zero demand sizes, population std (ddof=0) so that a single
demand gives CV² = 0 instead of NaN. Negative values (returns) count as no demand.

    ADI < 1.32, CV² < 0.49  -> smooth        ADI >= 1.32, CV² < 0.49  -> intermittent
    ADI < 1.32, CV² >= 0.49 -> erratic       ADI >= 1.32, CV² >= 0.49 -> lumpy

A series without any demand is classed "zero" (ADI and CV² are undefined).
"""

from __future__ import annotations

from enum import StrEnum

import numpy as np
import pandas as pd

ADI_CUTOFF = 1.32
CV2_CUTOFF = 0.49


class DemandClass(StrEnum):
    SMOOTH = "smooth"
    ERRATIC = "erratic"
    INTERMITTENT = "intermittent"
    LUMPY = "lumpy"
    ZERO = "zero"


def class_from_stats(adi: float, cv2: float) -> DemandClass:
    """Quadrant of the ADI/CV² plane; NaN ADI means no demand at all."""
    if not np.isfinite(adi):
        return DemandClass.ZERO
    if adi < ADI_CUTOFF:
        return DemandClass.SMOOTH if cv2 < CV2_CUTOFF else DemandClass.ERRATIC
    return DemandClass.INTERMITTENT if cv2 < CV2_CUTOFF else DemandClass.LUMPY


def demand_stats(y: np.ndarray) -> tuple[float, float]:
    """(ADI, CV²) of one series in time order; (nan, nan) when it has no demand."""
    y = np.asarray(y, dtype=float)
    pos = np.flatnonzero(y > 0)
    if pos.size == 0:
        return float("nan"), float("nan")
    sizes = y[pos]
    adi = (y.size - pos[0]) / pos.size
    cv2 = float((sizes.std() / sizes.mean()) ** 2)
    return float(adi), cv2


def classify_series(y: np.ndarray) -> DemandClass:
    return class_from_stats(*demand_stats(y))


def classify_arrays(values: np.ndarray, indptr: np.ndarray) -> pd.DataFrame:
    """Vectorised stats for series stored back to back (``values[indptr[i]:indptr[i+1]]``).

    Series must already be in time order. Used by the engine on its dense arrays so that
    no per-series Python loop runs.
    """
    values = np.asarray(values, dtype=float)
    sizes = np.diff(indptr)
    n_series = sizes.size
    series_idx = np.repeat(np.arange(n_series), sizes)
    positive = values > 0
    n_demand = np.bincount(series_idx, weights=positive, minlength=n_series)
    # position of the first demand within each series (size when none)
    local_pos = np.arange(values.size) - np.repeat(indptr[:-1], sizes)
    first = np.full(n_series, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first, series_idx[positive], local_pos[positive])
    first = np.where(n_demand > 0, first, sizes)
    periods = sizes - first
    pos_vals = np.where(positive, values, 0.0)
    s1 = np.bincount(series_idx, weights=pos_vals, minlength=n_series)
    s2 = np.bincount(series_idx, weights=pos_vals**2, minlength=n_series)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = s1 / n_demand
        var = np.maximum(s2 / n_demand - mean**2, 0.0)
        adi = np.where(n_demand > 0, periods / n_demand, np.nan)
        cv2 = np.where(n_demand > 0, var / mean**2, np.nan)
    # float round-off makes var of identical sizes ~1e-16 instead of 0: snap tiny values
    cv2 = np.where(cv2 < 1e-12, 0.0, cv2)
    classes = _vector_class(adi, cv2)
    return pd.DataFrame(
        {
            "n_periods": periods.astype(np.int64),
            "n_demands": n_demand.astype(np.int64),
            "adi": adi,
            "cv2": cv2,
            "demand_class": classes,
        }
    )


def _vector_class(adi: np.ndarray, cv2: np.ndarray) -> np.ndarray:
    out = np.full(adi.shape, DemandClass.ZERO.value, dtype=object)
    has = np.isfinite(adi)
    frequent = adi < ADI_CUTOFF
    stable = cv2 < CV2_CUTOFF
    out[has & frequent & stable] = DemandClass.SMOOTH.value
    out[has & frequent & ~stable] = DemandClass.ERRATIC.value
    out[has & ~frequent & stable] = DemandClass.INTERMITTENT.value
    out[has & ~frequent & ~stable] = DemandClass.LUMPY.value
    return out


def classify_demand(
    history: pd.DataFrame,
    *,
    id_col: str = "unique_id",
    time_col: str = "ds",
    target_col: str = "y",
) -> pd.DataFrame:
    """One row per series: n_periods, n_demands, adi, cv2, demand_class.

    Rows are taken as the series' periods in time order; missing periods are not filled here
    (the engine fills gaps with zeros before classifying).
    """
    df = history[[id_col, time_col, target_col]].sort_values([id_col, time_col], kind="stable")
    codes, uniques = pd.factorize(df[id_col], sort=False)
    sizes = np.bincount(codes, minlength=len(uniques))
    indptr = np.concatenate([[0], np.cumsum(sizes)])
    values = df[target_col].to_numpy(dtype=float, na_value=0.0)
    out = classify_arrays(values, indptr)
    out.insert(0, id_col, uniques)
    return out
