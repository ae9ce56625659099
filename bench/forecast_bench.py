"""Cost of select_and_forecast against calling statsforecast directly.

Reference (a): per class family, that family's candidate models through ``cross_validation``
with the same windows and the same refit setting per model as the engine
(``engine.backtest_calls``: AutoETS and AutoTheta fitted once and carried forward,
``refit=False``; the cheap models without ``forward`` refitted per window), then ``forecast``
of the horizon with all candidates (intervals where the models have them), the same
``fallback_model``. Engine (b): ``select_and_forecast``,
selection included. Same seeded synthetic data (seasonal, trending, intermittent, lumpy
monthly series, 36 months), same process, numba warmed up once before either is timed.

    .venv/bin/python bench/forecast_bench.py                     # 1,000 series x 2, ~4 min
    .venv/bin/python bench/forecast_bench.py --series 200 --repeat 1           # quick check
    .venv/bin/python bench/forecast_bench.py --series 10000 --repeat 1  # ~15 min, 2 shared cores

Wall time on a shared 2-core machine swings 2-3x with other load, so the CPU time of the
process and its pool workers is reported too; runs are interleaved and the best kept.
"""

from __future__ import annotations

import argparse
import os
import resource
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from statsforecast import StatsForecast
from statsforecast.models import Naive

from sop_demand.forecasting import classify_demand, select_and_forecast
from sop_demand.forecasting.engine import TIER_BACKTEST, backtest_calls, candidate_models

SEASON = 12


def make_history(n_series: int, n_months: int = 36, seed: int = 7) -> pd.DataFrame:
    """Seeded mix: 35 % seasonal, 25 % trending, 25 % intermittent, 15 % lumpy."""
    rng = np.random.default_rng(seed)
    t = np.arange(n_months)
    kind = rng.choice(4, size=n_series, p=[0.35, 0.25, 0.25, 0.15])
    level = rng.lognormal(4.0, 1.0, size=(n_series, 1))
    phase = rng.uniform(0, 2 * np.pi, size=(n_series, 1))
    amp = rng.uniform(0.2, 0.6, size=(n_series, 1))
    seasonal = 1 + amp * np.sin(2 * np.pi * t / SEASON + phase)
    noise = rng.normal(0, 0.1, size=(n_series, n_months))
    slope = rng.uniform(-0.015, 0.03, size=(n_series, 1))
    y = np.empty((n_series, n_months))
    y[kind == 0] = (level * seasonal * (1 + noise))[kind == 0]
    y[kind == 1] = (level * (1 + slope * t) * (1 + 0.3 * (seasonal - 1) + noise))[kind == 1]
    p = rng.uniform(0.15, 0.6, size=(n_series, 1))
    occurs = rng.random((n_series, n_months)) < p
    sizes = rng.gamma(6.0, level / 6.0, size=(n_series, n_months))
    y[kind == 2] = np.where(occurs, sizes, 0.0)[kind == 2]
    lumpy_sizes = rng.lognormal(np.log(level), 1.2, size=(n_series, n_months))
    y[kind == 3] = np.where(occurs, lumpy_sizes, 0.0)[kind == 3]
    y = np.maximum(np.round(y), 0.0)
    y[:, 0] = np.maximum(y[:, 0], 1.0)  # no leading zeros: every series is a full backtest
    ds = pd.date_range("2021-01-01", periods=n_months, freq="MS")
    return pd.DataFrame(
        {
            "unique_id": np.repeat([f"P{i:05d}" for i in range(n_series)], n_months),
            "ds": np.tile(ds, n_series),
            "y": y.ravel(),
        }
    )


def reference(history: pd.DataFrame, horizon: int, n_jobs: int) -> None:
    """Plain statsforecast: same candidate sets, same backtest windows, all models forecast."""
    classes = classify_demand(history)
    intermittent = classes["demand_class"].isin(["intermittent", "lumpy"])
    for family, ids in (
        ("smooth", classes.loc[~intermittent, "unique_id"]),
        ("intermittent", classes.loc[intermittent, "unique_id"]),
    ):
        if ids.empty:
            continue
        sub = history[history["unique_id"].isin(ids)]
        models = candidate_models(family, TIER_BACKTEST, SEASON)
        for group, refit in backtest_calls(models):  # the engine's refit setting per model
            sf = StatsForecast(models=group, freq="MS", n_jobs=n_jobs, fallback_model=Naive())
            sf.cross_validation(df=sub, h=min(horizon, 6), n_windows=3, step_size=3, refit=refit)
        sf = StatsForecast(models=models, freq="MS", n_jobs=n_jobs, fallback_model=Naive())
        level = [80, 95] if family == "smooth" else None  # Croston & co. have no native PI
        sf.forecast(df=sub, h=horizon, level=level)


def cpu_seconds() -> float:
    """User + system CPU of this process and its finished children (pool workers)."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def timed(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    wall, cpu = time.perf_counter(), cpu_seconds()
    out = fn()
    return time.perf_counter() - wall, cpu_seconds() - cpu, out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--series", type=int, default=1_000)
    parser.add_argument("--horizon", type=int, default=24)
    parser.add_argument("--n-jobs", type=int, default=-1)
    parser.add_argument("--repeat", type=int, default=2, help="interleaved runs; best kept")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")

    history = make_history(args.series)
    classes = classify_demand(history)["demand_class"].value_counts().to_dict()
    print(f"series={args.series} months=36 horizon={args.horizon} cpus={os.cpu_count()}")
    print(f"classes: {classes}")
    print(f"load average before: {os.getloadavg()[0]:.2f}")

    # compile numba code once in this process, so forked workers inherit it for both runs
    warm = make_history(8, seed=1)
    select_and_forecast(warm, args.horizon, n_jobs=1)
    reference(warm, args.horizon, n_jobs=1)

    ref_wall, ref_cpu, eng_wall, eng_cpu = [], [], [], []
    result = None
    for _ in range(args.repeat):
        w, c, _ = timed(lambda: reference(history, args.horizon, args.n_jobs))
        ref_wall.append(w)
        ref_cpu.append(c)
        w, c, result = timed(lambda: select_and_forecast(history, args.horizon, n_jobs=args.n_jobs))
        eng_wall.append(w)
        eng_cpu.append(c)
    assert result is not None
    sel = result.selections
    assert (sel["tier"] == TIER_BACKTEST).all(), "bench data should all be full backtests"
    assert len(result.forecasts) == args.series * args.horizon

    per_k = 1000 / args.series
    for label, wall, cpu in (
        ("(a) statsforecast direct", min(ref_wall), min(ref_cpu)),
        ("(b) select_and_forecast ", min(eng_wall), min(eng_cpu)),
    ):
        print(
            f"{label}: wall {wall:7.1f} s ({wall * per_k:6.1f} s / 1,000 series)"
            f"  cpu {cpu:7.1f} s ({cpu * per_k:6.1f} s / 1,000 series)"
        )
    print(
        f"ratio (b)/(a): wall {min(eng_wall) / min(ref_wall):.2f}"
        f"  cpu {min(eng_cpu) / min(ref_cpu):.2f}"
        f"  (all wall runs: ref {[round(x, 1) for x in ref_wall]}, "
        f"engine {[round(x, 1) for x in eng_wall]})"
    )
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    print("chosen models:", sel["model"].value_counts().to_dict())


if __name__ == "__main__":
    main()
