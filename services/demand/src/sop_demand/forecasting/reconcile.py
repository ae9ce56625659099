"""Coherent forecasts across product -> family -> category.

* Bottom-up (``bottom_up``): forecasts are made per product, so family and category values are
  sums of their products. Only additive columns should be summed: a sum of product quantiles
  is not the quantile of the family total (it assumes perfectly correlated products and
  overstates the band), so by default only ``mean`` is aggregated.
* Top-down (``split_total`` / ``disaggregate``): a total decided above the product (a family
  forecast, or a planner's family override) is split to products in proportion to their
  baseline. With an all-zero baseline the total is split equally (nothing says otherwise).
  With ``decimals`` the shares are rounded by the largest-remainder method so that they add
  up exactly to the rounded total; the units left over after flooring go to the products
  with the largest fractional parts, ties to the earlier product in the input order.

Totals and baselines must be non-negative (they are demand quantities); NaN baselines count
as 0.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


def split_total(
    total: float, baseline: Sequence[float] | np.ndarray, *, decimals: int | None = None
) -> np.ndarray:
    """Split one ``total`` over products in proportion to ``baseline``.

    split_total(1200, [300, 600, 100]) -> [360, 720, 120].
    """
    weights = np.nan_to_num(np.asarray(baseline, dtype=float), nan=0.0)
    if weights.ndim != 1 or weights.size == 0:
        raise ValueError("baseline must be a non-empty 1-d sequence")
    if total < 0 or (weights < 0).any():
        raise ValueError("total and baseline must be non-negative")
    group = np.zeros(weights.size, dtype=np.int64)
    return _split(weights, np.full(weights.size, float(total)), group, 1, decimals)


def disaggregate(
    totals: pd.DataFrame,
    baseline: pd.DataFrame,
    *,
    keys: Sequence[str],
    total_col: str = "total",
    baseline_col: str = "mean",
    out_col: str = "allocated",
    decimals: int | None = None,
) -> pd.DataFrame:
    """Vectorised top-down split: one total per ``keys`` group (e.g. family, ds) to its rows.

    Returns ``baseline`` (same row order) with ``out_col`` added. Rows of groups without a
    total get NaN there (the caller keeps its baseline); a total whose group has no baseline
    rows raises, because the quantity would be lost.
    """
    keys = list(keys)
    if totals.duplicated(keys).any():
        raise ValueError(f"totals has several rows for some {keys}")
    tot = totals[[*keys, total_col]]
    if (tot[total_col] < 0).any():
        raise ValueError("totals must be non-negative")
    w = np.nan_to_num(baseline[baseline_col].to_numpy(dtype=float), nan=0.0)
    if (w < 0).any():
        raise ValueError("baseline must be non-negative")

    key_frame = baseline[keys].reset_index(drop=True)
    merged = key_frame.merge(tot, on=keys, how="left", sort=False, validate="many_to_one")
    orphan = tot.merge(key_frame.drop_duplicates(), on=keys, how="left", indicator=True)
    orphan = orphan[orphan["_merge"] == "left_only"]
    if not orphan.empty:
        raise ValueError(f"totals without baseline rows: {orphan[keys].to_dict('records')[:5]}")

    group = merged.groupby(keys, sort=False, dropna=False).ngroup().to_numpy()
    total = merged[total_col].to_numpy(dtype=float)
    alloc = _split(w, total, group, int(group.max()) + 1 if group.size else 0, decimals)

    out = baseline.copy()
    out[out_col] = alloc
    return out


def _split(
    w: np.ndarray, total: np.ndarray, group: np.ndarray, n_groups: int, decimals: int | None
) -> np.ndarray:
    """Per-row share of its group's total (``total`` repeated on every row of the group)."""
    w_sum = np.bincount(group, weights=w, minlength=n_groups)[group]
    count = np.bincount(group, minlength=n_groups)[group]
    share = np.where(w_sum > 0, w / np.where(w_sum > 0, w_sum, 1.0), 1.0 / count)
    alloc = total * share
    if decimals is not None:
        alloc = _largest_remainder(alloc, total, group, n_groups, decimals)
    return alloc


def _largest_remainder(
    alloc: np.ndarray, total: np.ndarray, group: np.ndarray, n_groups: int, decimals: int
) -> np.ndarray:
    """Round ``alloc`` to ``decimals`` so that each group sums to its rounded total."""
    has_total = ~np.isnan(total)
    unit = 10.0**decimals
    scaled = np.where(has_total, alloc * unit, 0.0)
    # a tiny epsilon keeps 359.99999999 (float noise) from flooring to 359
    floor = np.floor(scaled + 1e-9)
    frac = scaled - floor
    target = np.round(np.where(has_total, total, 0.0) * unit)
    # per group: the rounded total minus the floors is the number of extra units to hand out
    group_target = np.zeros(n_groups)
    group_target[group] = target
    missing = group_target - np.bincount(group, weights=floor, minlength=n_groups)
    # rank rows within their group by fractional part (desc), ties by input order
    order = np.lexsort((np.arange(group.size), -frac, group))
    rank = np.empty(group.size, dtype=np.int64)
    starts = np.searchsorted(group[order], np.arange(n_groups))
    rank[order] = np.arange(group.size) - np.repeat(starts, np.bincount(group, minlength=n_groups))
    extra = rank < missing[group]
    rounded = (floor + extra) / unit
    return np.where(has_total, rounded, np.nan)


def bottom_up(
    forecasts: pd.DataFrame,
    hierarchy: pd.DataFrame,
    *,
    levels: Sequence[str] = ("family", "category"),
    id_col: str = "unique_id",
    time_col: str = "ds",
    value_cols: Sequence[str] = ("mean",),
) -> pd.DataFrame:
    """Product rows plus their sums per level: columns level, node, ds and ``value_cols``.

    ``hierarchy`` maps each product (``id_col``) to its parent at every level. Products
    missing from the hierarchy raise, so no quantity silently drops out of the totals.
    """
    levels = list(levels)
    values = list(value_cols)
    h = hierarchy[[id_col, *levels]].drop_duplicates()
    if h[id_col].duplicated().any():
        raise ValueError("a product has several parents at some level")
    df = forecasts[[id_col, time_col, *values]].merge(h, on=id_col, how="left", validate="m:1")
    if df[levels].isna().any().any():
        raise ValueError("some products are missing from the hierarchy")
    parts = [
        df[[id_col, time_col, *values]].rename(columns={id_col: "node"}).assign(level="product")
    ]
    for level in levels:
        agg = df.groupby([level, time_col], sort=True, observed=True)[values].sum().reset_index()
        parts.append(agg.rename(columns={level: "node"}).assign(level=level))
    out = pd.concat(parts, ignore_index=True)
    return out[["level", "node", time_col, *values]]
