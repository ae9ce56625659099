"""Plan arithmetic on DataFrames: site split, overrides, scenario changes, LE (no loop per cell).

* Site split: a product's quantity goes to its sites in proportion to its sales of the last
  12 months of history. A product without such sales borrows the mix of its analog (NPI)
  or of its predecessor (a successor), else it goes to the default site.
* Overrides: the new total of a product (one site or all) or of a family in a month is
  split over the rows below it in proportion to their baseline (the reconcile split,
  ``forecasting.reconcile.split_total``; equal shares when the baseline is all zero). The
  baseline is the plan's starting point, the statistical forecast after the product review
  (``adjusted``), not the bare statistical forecast: an NPI has no statistical forecast of
  its own and would otherwise lose its volume to every family override.
* Scenarios: ``demand_change_pct`` per family scales quantity and revenue.
* Forecast error: ``forecast_sigma`` is the standard deviation of the monthly forecast error
  of the line, read off the statistical forecast's 80 % prediction interval: for a normal
  error the interval is mean ± z₀.₉₀·σ with z₀.₉₀ = Φ⁻¹(0.90) = 1.2815516, so
  σ = (hi_80 − lo_80) / (2 × 1.2815516) (Hyndman & Athanasopoulos, *Forecasting: Principles
  and Practice*, 3rd ed., §5.5 "Distributional forecasts and prediction intervals"). It goes
  to the sites with the same share as the quantity, and follows the lifecycle factor (no
  demand before launch or after end of life: σ 0; a run-down month at 1/4 of the forecast
  carries 1/4 of its error). Promotions and planners' overrides leave it as it is: they are
  judgement on top of the statistical forecast, not part of it. It is null where the line
  has no statistical forecast of its own behind it: an NPI planned from its analog, or a
  product the run did not forecast. Supply uses it for the statistical safety stock.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sop_demand.forecasting.reconcile import split_total

LINE_COLUMNS = [
    "product",
    "site",
    "month",
    "family",
    "category",
    "baseline",
    "adjusted",
    "quantity",
    "price",
    "revenue",
    "forecast_sigma",
]
Z_80 = 1.2815516
"""Φ⁻¹(0.90): an 80 % central prediction interval is mean ± Z_80 standard deviations."""


def site_shares(history: pd.DataFrame, products: pd.DataFrame, default_site: str) -> pd.DataFrame:
    """product, site, share (summing to 1 per product) for every product in ``products``.

    ``history`` has product, site, quantity (the last 12 months); ``products`` has code,
    lifecycle, analog_code and predecessor (the product it succeeds, if any).
    """
    sold = history.groupby(["product", "site"], as_index=False)["quantity"].sum()
    sold = sold[sold["quantity"] > 0]
    sold["share"] = sold["quantity"] / sold.groupby("product")["quantity"].transform("sum")
    own = sold[["product", "site", "share"]]
    has_own = set(own["product"])

    codes = products["code"]
    source = pd.Series(np.nan, index=products.index, dtype=object)
    analog = products["analog_code"].where(products["lifecycle"] == "npi")
    source = source.where(~(analog.isin(has_own) & ~codes.isin(has_own)), analog)
    pred = products["predecessor"]
    fill_pred = source.isna() & pred.isin(has_own) & ~codes.isin(has_own)
    source = source.where(~fill_pred, pred)
    borrowed = (
        pd.DataFrame({"product": codes, "source": source})
        .dropna(subset=["source"])
        .merge(own.rename(columns={"product": "source"}), on="source")[["product", "site", "share"]]
    )
    covered = has_own | set(borrowed["product"])
    rest = codes[~codes.isin(covered)]
    default = pd.DataFrame({"product": rest.to_numpy(), "site": default_site, "share": 1.0})
    own = own[own["product"].isin(set(codes))]
    return pd.concat([own, borrowed, default], ignore_index=True)


def forecast_sigma(intervals: pd.DataFrame, products: pd.DataFrame) -> pd.DataFrame:
    """product, month, forecast_sigma from a run's 80 % intervals (see the module docstring).

    ``intervals`` has product, month, lo_80, hi_80; ``products`` code, lifecycle and
    analog_code. An NPI with an analog is planned from the analog, not from its own
    forecast, so its σ is missing (NaN).
    """
    width = intervals["hi_80"].to_numpy(dtype=float) - intervals["lo_80"].to_numpy(dtype=float)
    sigma = np.maximum(width, 0.0) / (2.0 * Z_80)
    from_analog = products.loc[
        (products["lifecycle"] == "npi") & products["analog_code"].notna(), "code"
    ]
    sigma[intervals["product"].isin(set(from_analog)).to_numpy()] = np.nan
    return pd.DataFrame(
        {
            "product": intervals["product"].to_numpy(),
            "month": intervals["month"].to_numpy(),
            "forecast_sigma": sigma,
        }
    )


def plan_lines(
    reviewed: pd.DataFrame, shares: pd.DataFrame, sigma: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Product × month review output split to product × site × month plan lines.

    Products with nothing in the horizon (no baseline, nothing after review) are left out.
    ``sigma`` (product, month, forecast_sigma: ``forecast_sigma``) gives the lines their
    forecast error, times the site share and the lifecycle factor; without it, or where it
    has no row, the line's σ is missing.
    """
    active = reviewed.groupby("product")[["baseline", "adjusted"]].transform("sum").sum(axis=1) > 0
    reviewed = reviewed[active.to_numpy()]
    if sigma is not None:
        reviewed = reviewed.merge(sigma, on=["product", "month"], how="left")
    else:
        reviewed = reviewed.assign(forecast_sigma=np.nan)
    lines = reviewed.merge(shares, on="product", how="inner")
    share = lines["share"].to_numpy(dtype=float)
    life = lines["life_factor"].to_numpy(dtype=float)
    lines["baseline"] = lines["baseline"].to_numpy(dtype=float) * share
    lines["adjusted"] = lines["adjusted"].to_numpy(dtype=float) * share
    lines["quantity"] = lines["adjusted"]
    lines["revenue"] = lines["quantity"] * lines["price"].to_numpy(dtype=float)
    lines["forecast_sigma"] = lines["forecast_sigma"].to_numpy(dtype=float) * share * life
    return lines[LINE_COLUMNS].sort_values(["product", "site", "month"], ignore_index=True)


@dataclass(frozen=True)
class OverrideEffect:
    rows: np.ndarray  # positions in the lines frame
    quantities: np.ndarray  # their new quantities
    old: float
    new: float


class LineIndex:
    """Row positions of a plan's lines per (product, month) and (family, month), built once,
    so that each override touches only its own rows however large the plan."""

    def __init__(self, lines: pd.DataFrame) -> None:
        self.lines = lines
        self.sites = lines["site"].to_numpy()
        self._groups: dict[str, dict[tuple[str, str], np.ndarray]] = {}

    def rows(self, level: str, node: str, month: str, site: str | None = None) -> np.ndarray:
        if level not in self._groups:
            self._groups[level] = self.lines.groupby([level, "month"], sort=False).indices
        rows = self._groups[level].get((node, month), np.zeros(0, dtype=np.int64))
        if site is not None:
            rows = rows[self.sites[rows] == site]
        return np.sort(rows)


def override_effect(
    index: LineIndex,
    quantity: np.ndarray,
    weights: np.ndarray,
    *,
    level: str,
    node: str,
    month: str,
    site: str | None,
    new_quantity: float | None,
    change_pct: float | None,
) -> OverrideEffect | None:
    """The rows an override touches and their new values; None when no row matches.

    ``quantity`` holds the current values (earlier items of the same request included),
    ``weights`` the baseline the new total is split by.
    """
    rows = index.rows(level, node, month, site)
    if rows.size == 0:
        return None
    old = float(quantity[rows].sum())
    new = (
        float(new_quantity)
        if new_quantity is not None
        else old * (1.0 + float(change_pct or 0) / 100.0)
    )
    return OverrideEffect(rows=rows, quantities=split_total(new, weights[rows]), old=old, new=new)


def scenario_lines(lines: pd.DataFrame, demand_change_pct: dict[str, float]) -> pd.DataFrame:
    """Quantity and revenue of each family changed by its percentage (others unchanged)."""
    out = lines.copy()
    pct = out["family"].map({str(k): float(v) for k, v in demand_change_pct.items()})
    factor = 1.0 + pct.fillna(0.0).to_numpy(dtype=float) / 100.0
    out["quantity"] = out["quantity"].to_numpy(dtype=float) * factor
    out["revenue"] = out["quantity"] * out["price"].to_numpy(dtype=float)
    return out


def latest_estimate(
    actuals: pd.DataFrame,
    plan: pd.DataFrame,
    budget: pd.DataFrame,
    *,
    months: list[str],
    first_plan_month: str,
) -> pd.DataFrame:
    """family, month, source, quantity, revenue, budget_*, variance_* for the year's months.

    Months before ``first_plan_month`` come from actuals, the others from the plan.
    ``actuals``/``plan``: family, month, quantity, revenue; ``budget``: family, month,
    budget_quantity, budget_revenue. Budget and variance are NaN where the family has no
    budget in the month (nothing to compare with, not a budget of 0).
    """
    actual_part = actuals[actuals["month"] < first_plan_month].assign(source="actual")
    plan_part = plan[plan["month"] >= first_plan_month].assign(source="plan")
    le = pd.concat([actual_part, plan_part], ignore_index=True)
    families = sorted(set(le["family"]) | set(budget["family"]))
    grid = pd.DataFrame(
        {
            "family": np.repeat(np.asarray(families, dtype=object), len(months)),
            "month": np.tile(np.asarray(months, dtype=object), len(families)),
        }
    )
    grid["source"] = np.where(grid["month"] < first_plan_month, "actual", "plan")
    le = le.groupby(["family", "month"], as_index=False)[["quantity", "revenue"]].sum()
    out = grid.merge(le, on=["family", "month"], how="left").merge(
        budget, on=["family", "month"], how="left"
    )
    for column in ("quantity", "revenue"):
        out[column] = out[column].fillna(0.0).astype(float)
    for column in ("budget_quantity", "budget_revenue"):
        out[column] = out[column].astype(float)
    out["variance_quantity"] = out["quantity"] - out["budget_quantity"]
    out["variance_revenue"] = out["revenue"] - out["budget_revenue"]
    return out


def latest_estimate_totals(rows: pd.DataFrame) -> pd.DataFrame:
    """Per family (and TOTAL): actual, plan, LE, and the like-for-like budget comparison.

    LE is the whole year (actuals + plan). The variance compares only the family × month
    cells that have a budget: ``compared_*`` is the LE over those cells, the variance is
    ``compared − budget`` (NaN when nothing is budgeted), ``budget_coverage`` the share of
    the year's cells with a budget and ``budget_months`` how many months have one.
    """
    budgeted = rows["budget_quantity"].notna().to_numpy()
    frame = rows.assign(
        actual_quantity=np.where(rows["source"] == "actual", rows["quantity"], 0.0),
        actual_revenue=np.where(rows["source"] == "actual", rows["revenue"], 0.0),
        plan_quantity=np.where(rows["source"] == "plan", rows["quantity"], 0.0),
        plan_revenue=np.where(rows["source"] == "plan", rows["revenue"], 0.0),
        compared_quantity=np.where(budgeted, rows["quantity"], 0.0),
        compared_revenue=np.where(budgeted, rows["revenue"], 0.0),
        budget_quantity=rows["budget_quantity"].fillna(0.0),
        budget_revenue=rows["budget_revenue"].fillna(0.0),
        budgeted_cells=budgeted.astype(float),
        cells=1.0,
        budgeted_month=np.where(budgeted, rows["month"], None),
    )
    sums = [
        "actual_quantity",
        "actual_revenue",
        "plan_quantity",
        "plan_revenue",
        "quantity",
        "revenue",
        "compared_quantity",
        "compared_revenue",
        "budget_quantity",
        "budget_revenue",
        "budgeted_cells",
        "cells",
    ]
    per_family = frame.groupby("family", as_index=False).agg(
        **{c: (c, "sum") for c in sums}, budget_months=("budgeted_month", "nunique")
    )
    total = (
        per_family[sums]
        .sum()
        .to_frame()
        .T.assign(family="TOTAL", budget_months=frame["budgeted_month"].nunique())
    )
    out = pd.concat([per_family, total], ignore_index=True).rename(
        columns={"quantity": "le_quantity", "revenue": "le_revenue"}
    )
    any_budget = out["budgeted_cells"] > 0
    out["budget_coverage"] = np.where(out["cells"] > 0, out["budgeted_cells"] / out["cells"], 0.0)
    out["budget_months"] = out["budget_months"].astype(int)
    for measure in ("quantity", "revenue"):
        budget = out[f"budget_{measure}"].where(any_budget)
        variance = out[f"compared_{measure}"].where(any_budget) - budget
        out[f"budget_{measure}"] = budget
        out[f"variance_{measure}"] = variance
        with np.errstate(divide="ignore", invalid="ignore"):
            out[f"variance_{measure}_pct"] = (100.0 * variance / budget).where(budget != 0)
    return out.drop(columns=["budgeted_cells", "cells"])
