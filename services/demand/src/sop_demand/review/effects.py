"""Product-review effects on top of the statistical baseline, vectorised over product × month.

Rules (each one is a column operation on the product × month grid, no loop per cell):

* Launch: no demand before a product's launch month (the month of ``launch_date``).
* NPI: a product in lifecycle ``npi`` with an analog takes, from its launch month on,
  ``analog baseline × scaling_factor × launch_curve[k]`` where k = months since launch
  (month 0 is the launch month) and the curve is 1.0 once it has ended; the plan carries the
  expected volume, that times ``launch_probability``. Without a launch date the launch is the
  first planned month.
* End of life: demand stops in the month of ``eol_date`` (that month has none). With
  ``rundown_months`` = R the R months before it decline linearly: (E - m) / (R + 1), e.g. R=3
  gives 3/4, 2/4, 1/4. Lifecycle ``eol`` without a date has no demand at all.
* Transfer to a successor (``successor_code``): a successor's statistical baseline is
  forecast from its own history plus its predecessors' (the pair's demand), so each month
  its plan is that pair baseline minus what its predecessors still plan that month (their
  baseline × run-down), floored at 0, times its own launch gate. The pair never plans more
  than the pair baseline: volume moves to the successor as the predecessor runs down, and
  from the EOL month on the successor carries all of it. Its ``baseline`` column is its
  share of the pair baseline (pair minus predecessors' baselines), so family baselines
  count the history once too. An NPI successor planned from an analog is not reduced (its
  volume does not come from the predecessor's history). Chains (A → B → C) resolve
  link by link.
* Promotions and price plans, per product or per family and month range: uplift percentages
  add up (10 % and 5 % make 15 %), a volume uplift is added (a family volume is split over
  its products in proportion to their quantity that month, the reconcile split), price
  changes compound into the planned price. Nothing is added where the lifecycle leaves no
  demand, and quantities never go below zero.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from sop_demand.months import month_index

PRODUCT_COLUMNS = [
    "code",
    "family",
    "category",
    "price",
    "lifecycle",
    "launch_month",
    "eol_month",
    "analog_code",
    "scaling_factor",
    "launch_curve",
    "launch_probability",
    "rundown_months",
]
PROMOTION_COLUMNS = [
    "level",
    "node",
    "month_from",
    "month_to",
    "uplift_pct",
    "uplift_quantity",
    "price_change_pct",
]


def _grid(products: pd.DataFrame, months: Sequence[str]) -> pd.DataFrame:
    n_p, n_m = len(products), len(months)
    grid = pd.DataFrame(
        {
            "product": np.repeat(products["code"].to_numpy(dtype=object), n_m),
            "month": np.tile(np.asarray(months, dtype=object), n_p),
        }
    )
    grid["m"] = np.tile(month_index(list(months)), n_p) if n_m else np.zeros(0, dtype=np.int64)
    return grid


def _index_or(values: pd.Series, default: int) -> np.ndarray:
    """Month index of each ``YYYY-MM`` value, ``default`` where missing."""
    present = values.notna().to_numpy(dtype=bool)
    out = np.full(len(values), default, dtype=np.int64)
    if present.any():
        out[present] = month_index(values[present].astype(str).tolist())
    return out


def launch_curve_factor(
    products: pd.DataFrame, grid: pd.DataFrame, launch: np.ndarray
) -> np.ndarray:
    """Curve value for each grid row: 0 before launch, curve[k], 1.0 after the curve."""
    k = grid["m"].to_numpy() - launch
    curves = products[["code", "launch_curve"]].copy()
    curves = curves[curves["launch_curve"].map(lambda c: isinstance(c, list) and len(c) > 0)]
    factor = np.where(k >= 0, 1.0, 0.0)
    if curves.empty:
        return factor
    long = curves.explode("launch_curve").rename(columns={"code": "product"})
    long["k"] = long.groupby("product").cumcount()
    long["curve"] = long["launch_curve"].astype(float)
    merged = pd.DataFrame({"product": grid["product"].to_numpy(), "k": k}).merge(
        long[["product", "k", "curve"]], on=["product", "k"], how="left"
    )
    on_curve = merged["curve"].notna().to_numpy()
    return np.where(on_curve & (k >= 0), merged["curve"].to_numpy(dtype=float), factor)


def lifecycle_factor(grid: pd.DataFrame, per_row: pd.DataFrame) -> np.ndarray:
    """Launch gate × end-of-life run-down for each grid row."""
    m = grid["m"].to_numpy()
    launch = per_row["launch"].to_numpy()
    eol = per_row["eol"].to_numpy()
    rundown = per_row["rundown_months"].to_numpy(dtype=float)
    no_eol = eol == np.iinfo(np.int64).max
    factor = np.where(m >= launch, 1.0, 0.0)
    until_eol = (eol - m).astype(float)
    with np.errstate(invalid="ignore"):
        decline = np.where(until_eol <= rundown, until_eol / (rundown + 1.0), 1.0)
    factor = np.where(no_eol, factor, factor * np.where(m >= eol, 0.0, decline))
    dead = (per_row["lifecycle"].to_numpy() == "eol") & no_eol
    return np.where(dead, 0.0, factor)


def transfer_to_successors(
    products: pd.DataFrame,
    baseline: np.ndarray,
    planned: np.ndarray,
    life: np.ndarray,
    from_baseline: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """(baseline, planned) per grid row with the predecessors' volume taken out of their
    successors' pair baseline (the transfer rule of the module docstring).

    Rows are product-major (``_grid``); ``from_baseline`` marks rows planned from their own
    baseline (not an analog), the only ones the rule reduces.
    """
    if "successor_code" not in products or products["successor_code"].isna().all():
        return baseline, planned
    n_p = len(products)
    n_m = len(baseline) // n_p if n_p else 0
    position = pd.Series(np.arange(n_p), index=products["code"].to_numpy())
    successor = position.reindex(products["successor_code"].to_numpy()).to_numpy()
    has = np.repeat(~np.isnan(successor), n_m)  # rows of a product with a known successor
    target = (np.repeat(np.nan_to_num(successor, nan=0).astype(np.int64), n_m) * n_m) + np.tile(
        np.arange(n_m), n_p
    )
    target = target[has]
    receives = np.zeros(len(baseline), dtype=bool)
    receives[target] = True
    receives &= from_baseline
    net_base, net_planned = baseline.copy(), planned.copy()
    # one pass per link of the longest chain (usually one); stops when nothing moves
    for _ in range(n_p):
        kept_base = np.zeros(len(baseline))
        kept_planned = np.zeros(len(baseline))
        np.add.at(kept_base, target, net_base[has])
        np.add.at(kept_planned, target, net_planned[has])
        new_base = np.where(receives, np.maximum(baseline - kept_base, 0.0), baseline)
        new_planned = np.where(receives, np.maximum(baseline - kept_planned, 0.0) * life, planned)
        if np.array_equal(new_base, net_base) and np.array_equal(new_planned, net_planned):
            break
        net_base, net_planned = new_base, new_planned
    return net_base, net_planned


def review(
    products: pd.DataFrame,
    baseline: pd.DataFrame,
    months: Sequence[str],
    promotions: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """product, family, category, month, baseline, npi, adjusted, price per product × month.

    ``products`` has ``PRODUCT_COLUMNS`` (months as ``YYYY-MM`` or None); ``baseline`` has
    product, month, mean (the statistical forecast; missing rows count as 0).
    """
    products = products.reset_index(drop=True)
    grid = _grid(products, months)
    n_m = len(months)
    first = month_index(months[0]) if n_m else 0
    launch = np.repeat(_index_or(products["launch_month"], np.iinfo(np.int64).min), n_m)
    per_row = pd.DataFrame(
        {
            "launch": launch,
            "eol": np.repeat(_index_or(products["eol_month"], np.iinfo(np.int64).max), n_m),
            "rundown_months": np.repeat(products["rundown_months"].to_numpy(dtype=float), n_m),
            "lifecycle": np.repeat(products["lifecycle"].to_numpy(dtype=object), n_m),
        }
    )
    base = grid[["product", "month"]].merge(
        baseline[["product", "month", "mean"]], on=["product", "month"], how="left"
    )
    base_q = base["mean"].fillna(0.0).to_numpy(dtype=float)

    # NPI: the analog's baseline, scaled, along the launch curve, times the probability
    is_npi = (products["lifecycle"].to_numpy() == "npi") & products[
        "analog_code"
    ].notna().to_numpy()
    npi_rows = np.repeat(is_npi, n_m)
    analog = np.repeat(products["analog_code"].fillna("").to_numpy(dtype=object), n_m)
    analog_q = (
        pd.DataFrame({"product": analog, "month": grid["month"].to_numpy()})
        .merge(baseline[["product", "month", "mean"]], on=["product", "month"], how="left")["mean"]
        .fillna(0.0)
        .to_numpy(dtype=float)
    )
    npi_launch = np.where(launch == np.iinfo(np.int64).min, first, launch)
    curve = launch_curve_factor(products, grid, npi_launch)
    scaling = np.repeat(products["scaling_factor"].to_numpy(dtype=float), n_m)
    probability = np.repeat(products["launch_probability"].to_numpy(dtype=float), n_m)
    npi_if_launched = np.where(npi_rows, analog_q * scaling * curve, 0.0)
    per_row.loc[npi_rows, "launch"] = npi_launch[npi_rows]

    life = lifecycle_factor(grid, per_row)
    quantity = np.where(npi_rows, npi_if_launched * probability, base_q) * life
    base_q, quantity = transfer_to_successors(products, base_q, quantity, life, ~npi_rows)

    out = pd.DataFrame(
        {
            "product": grid["product"].to_numpy(),
            "family": np.repeat(products["family"].to_numpy(dtype=object), n_m),
            "category": np.repeat(products["category"].to_numpy(dtype=object), n_m),
            "month": grid["month"].to_numpy(),
            "baseline": base_q,
            "npi": np.where(npi_rows, npi_if_launched * life, 0.0),
            "life_factor": life,
            "adjusted": quantity,
            "price": np.repeat(products["price"].to_numpy(dtype=float), n_m),
        }
    )
    if promotions is not None and not promotions.empty:
        out = apply_promotions(out, promotions)
    return out


def _expand(promotions: pd.DataFrame) -> pd.DataFrame:
    """One row per promotion × month of its range."""
    start = month_index(promotions["month_from"].astype(str).tolist())
    end = month_index(promotions["month_to"].astype(str).tolist())
    lengths = np.maximum(end - start + 1, 0)
    rows = np.repeat(np.arange(len(promotions)), lengths)
    offset = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    long = promotions.iloc[rows].reset_index(drop=True)
    long["m"] = start[rows] + offset
    return long


def apply_promotions(lines: pd.DataFrame, promotions: pd.DataFrame) -> pd.DataFrame:
    """Add promotion uplifts and price changes to ``lines`` (product, family, month, adjusted)."""
    lines = lines.copy()
    lines["m"] = month_index(lines["month"].tolist()) if len(lines) else np.zeros(0, np.int64)
    long = _expand(promotions[PROMOTION_COLUMNS])
    long["uplift_pct"] = long["uplift_pct"].fillna(0.0).astype(float)
    long["uplift_quantity"] = long["uplift_quantity"].fillna(0.0).astype(float)
    long["price_factor"] = 1.0 + long["price_change_pct"].fillna(0.0).astype(float) / 100.0

    product_level = long[long["level"] == "product"].rename(columns={"node": "product"})
    family_level = long[long["level"] == "family"].rename(columns={"node": "family"})
    sums = {"uplift_pct": "sum", "uplift_quantity": "sum", "price_factor": "prod"}
    per_product = product_level.groupby(["product", "m"], as_index=False).agg(sums)
    per_family = family_level.groupby(["family", "m"], as_index=False).agg(sums)
    merged = lines[["product", "family", "m"]].merge(per_product, on=["product", "m"], how="left")
    fam = lines[["family", "m"]].merge(per_family, on=["family", "m"], how="left")
    pct = merged["uplift_pct"].fillna(0.0).to_numpy() + fam["uplift_pct"].fillna(0.0).to_numpy()
    price_factor = (
        merged["price_factor"].fillna(1.0).to_numpy() * fam["price_factor"].fillna(1.0).to_numpy()
    )
    alive = lines["life_factor"].to_numpy() > 0
    adjusted = lines["adjusted"].to_numpy(dtype=float) * (1.0 + pct / 100.0)
    adjusted = adjusted + np.where(alive, merged["uplift_quantity"].fillna(0.0).to_numpy(), 0.0)

    family_volume = fam["uplift_quantity"].fillna(0.0).to_numpy()
    if (family_volume != 0).any():
        # split each family's volume over its products in proportion to their quantity
        frame = pd.DataFrame(
            {
                "family": lines["family"].to_numpy(),
                "m": lines["m"].to_numpy(),
                "w": np.where(alive, np.maximum(adjusted, 0.0), 0.0),
                "alive": alive.astype(float),
            }
        )
        groups = frame.groupby(["family", "m"], sort=False)
        w_sum = groups["w"].transform("sum").to_numpy()
        n_alive = groups["alive"].transform("sum").to_numpy()
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(
                w_sum > 0,
                frame["w"].to_numpy() / w_sum,
                np.where(alive, 1.0 / np.maximum(n_alive, 1.0), 0.0),
            )
        adjusted = adjusted + family_volume * share
    lines["adjusted"] = np.clip(adjusted, 0.0, None)
    lines["price"] = lines["price"].to_numpy(dtype=float) * price_factor
    return lines.drop(columns=["m"])
