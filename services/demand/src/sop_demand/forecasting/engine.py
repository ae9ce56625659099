"""Automatic model selection and statistical forecasting per demand series.

How a series is handled (every rule depends on that series' own history only, so any subset,
e.g. one product family, can be forecast on its own and gives the same numbers):

* History is put on a regular ``freq`` grid. Missing periods inside a series and NaN values
  count as zero demand; negative values (returns) are clipped to zero. Leading zeros are
  dropped: a series starts at its first period with demand (new products, NPI).
* ``n`` below is the length after that trim. Tiers:

  - ``no_demand``: no positive value at all. Forecast is 0 with zero-width intervals.
  - ``backtest``: ``n >= 2 * season_length`` and every backtest training window still holds
    one full season. Candidates by Syntetos–Boylan class: smooth/erratic ->
    SeasonalNaive, AutoETS, AutoTheta; intermittent/lumpy -> CrostonOptimized, TSB, ADIDA,
    IMAPA, SeasonalNaive.
  - ``short_backtest``: fewer than two seasons but at least ``MIN_SHORT_OBS`` periods.
    Non-seasonal candidates only (two seasons are the least that separates season from
    noise): smooth/erratic -> Naive, HistoricAverage, SESOpt; intermittent/lumpy ->
    CrostonOptimized, TSB, HistoricAverage. Backtest horizon ``min(backtest_horizon, 3)``,
    step 1.
  - ``too_short``: fewer than ``MIN_SHORT_OBS`` periods, nothing to backtest. Naive for
    smooth/erratic (a launch ramp is better followed by the last value), HistoricAverage for
    intermittent/lumpy (one month says little about the rate).

* Backtest: statsforecast rolling-origin ``cross_validation`` with ``n_windows`` windows of
  ``min(horizon, backtest_horizon)`` periods, cutoffs ``step_size`` apart. Defaults 3 x 6
  months, step 3: the windows together cover the last 12 months, so every calendar month is
  scored once, and the first window still trains on two seasons of a 36-month history.
  Six months is the S&OP decision range (supply and capacity lead times); scoring longer
  lags mostly measures noise. AutoETS and AutoTheta are fitted once per series, on the
  first window's training part, and carried through the later windows with those
  parameters (statsforecast ``refit=False``, their ``forward``): the model's form and
  parameters stay those of 12 months ago, which is how a forecast made then would have done,
  and it halves the cost of the whole run (AutoETS fits were 3 of the 4 per series). The
  cheap models without ``forward`` are refitted per window (``backtest_calls``).
* Score: smooth/erratic series by MASE (mean absolute backtest error over the in-sample
  seasonal-naive MAE); intermittent/lumpy series by RMSSE, because any absolute-error metric
  is minimised by the median, which is 0 for intermittent demand, and would reward forecasts
  of nothing (Kolassa 2016; M5 used RMSSE for the same reason). The score averages all
  windows and steps (18 errors with the defaults).
* Choice: smooth/erratic series with a full backtest also score two equal-weight
  combinations, AutoETS+AutoTheta and SeasonalNaive+AutoETS+AutoTheta (their backtest
  forecasts are the members' averages, so they cost no extra fit). A single model is chosen
  only when its score beats the best combination by more than ``combination_margin``
  (default 20 %); otherwise the best combination is. On M3 monthly picking the lowest score
  among single models was worse than AutoETS alone, and this rule beats every single model
  (numbers in bench/forecast_accuracy_bench.py). Elsewhere the lowest score wins; ties go
  to the earlier candidate in the lists above.
* Forecast: the chosen model (or a combination's members) is refitted on the whole history.
  Intervals: native statsforecast intervals for SeasonalNaive, AutoETS, AutoTheta, Naive and
  HistoricAverage; the others (Croston, TSB, ADIDA, IMAPA, SESOpt) have none, and conformal
  intervals would need ``2 * horizon + 1`` observations (49 for a 24-month horizon), so they
  get empirical intervals from the signed backtest errors of the chosen model:
  ``mean + q_e(a/2)`` and ``mean + q_e(1 - a/2)``. These models forecast a flat level, so the
  band is flat too. A combination averages its members' means and bounds (quantile
  averaging).
* Output: means and bounds are clipped at 0 and made monotone
  (lo_95 <= lo_80 <= mean <= hi_80 <= hi_95).

Cost: per (tier, class family) group, one ``cross_validation`` call per refit setting with
all its candidates, then one ``forecast`` call per chosen candidate with its members and
only the series that chose it, so the engine never fits more than calling statsforecast
directly with the same models, windows and refit setting (bench/forecast_bench.py). Calls too
small to repay a process pool (~0.3 s to start) run in-process. The AutoETS search space is
statsforecast's full default (restricting it was not needed; figures in bench/RESULTS.md).
"""

from __future__ import annotations

import warnings
from collections.abc import Hashable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from statsforecast import StatsForecast
from statsforecast.models import (
    ADIDA,
    IMAPA,
    TSB,
    AutoETS,
    AutoTheta,
    CrostonOptimized,
    HistoricAverage,
    Naive,
    SeasonalNaive,
    SimpleExponentialSmoothingOptimized,
)

from sop_demand.forecasting.classify import DemandClass, classify_arrays

ID, DS, Y = "unique_id", "ds", "y"

# TSB smoothing: demand sizes are noisy, so they are smoothed slowly (0.1); the probability
# of a demand reacts faster (0.2) so that a product running out of demand (obsolescence,
# TSB's purpose) is picked up within a few months.
TSB_ALPHA_D = 0.1
TSB_ALPHA_P = 0.2

MIN_SHORT_OBS = 8
SHORT_BACKTEST_HORIZON = 3

NATIVE_INTERVALS = frozenset({"SeasonalNaive", "AutoETS", "AutoTheta", "Naive", "HistoricAverage"})
ZERO_MODEL = "Zero"

TIER_NO_DEMAND = "no_demand"
TIER_BACKTEST = "backtest"
TIER_SHORT = "short_backtest"
TIER_TOO_SHORT = "too_short"

_INTERMITTENT = frozenset({DemandClass.INTERMITTENT.value, DemandClass.LUMPY.value})

# rough single-core cost of one fit of a 36-month series, in ms, to decide whether a call is
# worth a process pool (start-up and pickling cost ~0.3 s)
_FIT_COST_MS = {"AutoETS": 50.0, "AutoTheta": 6.0, "CrostonOptimized": 1.0, "IMAPA": 1.5}
_POOL_WORTH_MS = 2000.0


def candidate_models(family: str, tier: str, season_length: int) -> list[Any]:
    """statsforecast models tried for a class family ("smooth"/"intermittent") and tier."""
    if tier == TIER_BACKTEST:
        if family == "smooth":
            return [
                SeasonalNaive(season_length=season_length),
                AutoETS(season_length=season_length),
                AutoTheta(season_length=season_length),
            ]
        return [
            CrostonOptimized(),
            TSB(alpha_d=TSB_ALPHA_D, alpha_p=TSB_ALPHA_P),
            ADIDA(),
            IMAPA(),
            SeasonalNaive(season_length=season_length),
        ]
    if tier == TIER_SHORT:
        if family == "smooth":
            return [Naive(), HistoricAverage(), SimpleExponentialSmoothingOptimized()]
        return [
            CrostonOptimized(),
            TSB(alpha_d=TSB_ALPHA_D, alpha_p=TSB_ALPHA_P),
            HistoricAverage(),
        ]
    if tier == TIER_TOO_SHORT:
        return [Naive()] if family == "smooth" else [HistoricAverage()]
    raise ValueError(f"unknown tier {tier!r}")


def candidate_combinations(family: str, tier: str) -> list[tuple[str, ...]]:
    """Equal-weight combinations (member model names) also scored in the backtest.

    Only for smooth/erratic series with a full backtest: that is where M3 monthly shows
    combinations beating every single model (see bench/forecast_accuracy_bench.py).
    """
    if family == "smooth" and tier == TIER_BACKTEST:
        return [("AutoETS", "AutoTheta"), ("SeasonalNaive", "AutoETS", "AutoTheta")]
    return []


@dataclass(frozen=True)
class ForecastResult:
    """forecasts: unique_id, ds, model, mean, lo_<l>, hi_<l> per level.

    selections: unique_id, demand_class, adi, cv2, n_obs, tier, model, metric, score, scores
    (dict of candidate -> backtest score; empty when there was no backtest).
    """

    forecasts: pd.DataFrame
    selections: pd.DataFrame

    @classmethod
    def concat(cls, results: Sequence[ForecastResult]) -> ForecastResult:
        if not results:
            raise ValueError("no results to concatenate")
        return cls(
            forecasts=pd.concat([r.forecasts for r in results], ignore_index=True),
            selections=pd.concat([r.selections for r in results], ignore_index=True),
        )


@dataclass
class _Panel:
    """Dense, trimmed histories stored back to back, in series order."""

    uids: pd.Index
    values: np.ndarray
    indptr: np.ndarray
    first: np.ndarray  # grid position of each series' first value (its last + 1 if none)
    last: np.ndarray  # grid position of each series' last period
    grid: pd.Index | None  # period position -> timestamp; None for integer ds
    grid_origin: int = 0
    info: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def sizes(self) -> np.ndarray:
        return np.diff(self.indptr)


def select_and_forecast(
    history: pd.DataFrame,
    horizon: int,
    *,
    season_length: int = 12,
    levels: Sequence[int] = (80, 95),
    n_windows: int = 3,
    backtest_horizon: int = 6,
    step_size: int = 3,
    freq: str = "MS",
    history_end: Any = None,
    combination_margin: float = 0.2,
    n_jobs: int = -1,
) -> ForecastResult:
    """Pick the best model per series on a rolling-origin backtest and forecast ``horizon``.

    ``history`` has columns unique_id, ds, y, one row per series and period. ``ds`` is either
    datetime-like on the ``freq`` grid (default month start) or integer periods.
    ``history_end`` (a ds value) pads every series with zeros up to that period, so that
    products without recent sales still get forecasts starting the same month; rows after it
    are ignored. Without it each series' forecast starts after its own last row.
    ``combination_margin``: a single model is chosen over the best combination only when its
    backtest score is lower by more than this fraction (0 = plain lowest score).
    """
    if horizon < 1:
        raise ValueError("horizon must be >= 1")
    if n_windows < 1 or backtest_horizon < 1 or step_size < 1 or season_length < 1:
        raise ValueError("n_windows, backtest_horizon, step_size, season_length must be >= 1")
    levels = sorted({int(lv) for lv in levels})
    if any(not 0 < lv < 100 for lv in levels):
        raise ValueError("levels must lie strictly between 0 and 100")
    if not 0 <= combination_margin < 1:
        raise ValueError("combination_margin must be in [0, 1)")

    if history.empty:
        return _empty_result(levels)
    panel = _build_panel(history, freq=freq, history_end=history_end)
    h_bt = min(horizon, backtest_horizon)
    test_size = h_bt + step_size * (n_windows - 1)
    h_short = min(h_bt, SHORT_BACKTEST_HORIZON)
    short_test_size = h_short + (n_windows - 1)

    info = panel.info
    n = info["n_obs"].to_numpy()
    family = np.where(info["demand_class"].isin(_INTERMITTENT), "intermittent", "smooth")
    full_ok = (n >= 2 * season_length) & (n - test_size >= season_length)
    short_ok = n >= max(MIN_SHORT_OBS, short_test_size + 3)
    tier = np.select(
        [n == 0, full_ok, short_ok],
        [TIER_NO_DEMAND, TIER_BACKTEST, TIER_SHORT],
        default=TIER_TOO_SHORT,
    )
    info["tier"] = tier
    info["family"] = family

    scale_abs, scale_sq = _scales(panel, season_length)
    forecast_parts: list[pd.DataFrame] = []
    selection_parts: list[pd.DataFrame] = []

    for (tier_name, fam), idx in info.groupby(["tier", "family"], sort=True).indices.items():
        idx = np.sort(idx)
        if tier_name == TIER_NO_DEMAND:
            fc, sel = _zero_forecasts(panel, idx, horizon, levels)
        elif tier_name == TIER_TOO_SHORT:
            model = candidate_models(fam, tier_name, season_length)[0]
            sel = _selection_frame(idx, model=repr(model), metric=None)
            fc = _forecast_chosen(
                panel,
                idx,
                [model],
                [(0,)],
                np.zeros(idx.size, int),
                horizon,
                levels,
                errors=None,
                n_jobs=n_jobs,
            )
        else:
            backtest = (
                (h_bt, n_windows, step_size)
                if tier_name == TIER_BACKTEST
                else (h_short, n_windows, 1)
            )
            models = candidate_models(fam, tier_name, season_length)
            candidates = _candidates(models, candidate_combinations(fam, tier_name))
            metric = "rmsse" if fam == "intermittent" else "mase"
            scale = scale_sq[idx] if metric == "rmsse" else scale_abs[idx]
            errors = _backtest_errors(panel, idx, models, backtest, n_jobs=n_jobs)
            cand_errors = np.stack([errors[:, list(c), :].mean(axis=1) for c in candidates], 1)
            scores = _score(cand_errors, scale, metric)
            choice = _choose(scores, n_single=len(models), margin=combination_margin)
            names = [_name(models, c) for c in candidates]
            sel = _selection_frame(
                idx,
                model=np.asarray(names, dtype=object)[choice],
                metric=metric,
                score=scores[np.arange(idx.size), choice],
                scores=[
                    {name: _clean(s) for name, s in zip(names, row, strict=True)} for row in scores
                ],
            )
            fc = _forecast_chosen(
                panel,
                idx,
                models,
                candidates,
                choice,
                horizon,
                levels,
                errors=errors,
                n_jobs=n_jobs,
            )
        forecast_parts.append(fc)
        selection_parts.append(sel)

    return _assemble(panel, forecast_parts, selection_parts, levels)


def forecast_partitions(
    history: pd.DataFrame, horizon: int, *, by: str, **kwargs: Any
) -> Iterator[tuple[Hashable, ForecastResult]]:
    """Run ``select_and_forecast`` once per value of column ``by`` (e.g. a product family).

    Results per series are the same as in one big call; yielding per partition lets the
    service store each family as soon as it is done and bounds memory.
    """
    for key, part in history.groupby(by, sort=True, observed=True):
        yield key, select_and_forecast(part[[ID, DS, Y]], horizon, **kwargs)


def warm_up() -> None:
    """Run every backtest-tier candidate once on tiny series, in this process.

    statsforecast compiles its numba functions (the Croston family's exponential smoothing)
    on first use, per process; a process that runs this first hands them compiled to the
    pool workers it forks (see ``sop_demand.forecasts.pools``).
    """
    t = np.arange(36)
    seasonal = 100 + 20 * np.sin(2 * np.pi * t / 12) + (t % 5)
    intermittent = np.where(t % 4 == 0, 5.0 + t % 3, 0.0)
    history = pd.DataFrame(
        {
            ID: np.repeat(["smooth", "intermittent"], t.size),
            DS: np.tile(t, 2),
            Y: np.concatenate([seasonal, intermittent]),
        }
    )
    select_and_forecast(history, 3, n_jobs=1)


# --------------------------------------------------------------------------- panel building


def _build_panel(history: pd.DataFrame, *, freq: str, history_end: Any) -> _Panel:
    missing = {ID, DS, Y} - set(history.columns)
    if missing:
        raise ValueError(f"history lacks columns {sorted(missing)}")
    ids, uids = pd.factorize(history[ID], sort=True)
    pos, grid, origin = _grid_positions(history[DS], freq=freq, history_end=history_end)
    y = np.nan_to_num(history[Y].to_numpy(dtype=float, na_value=np.nan), nan=0.0)
    y = np.maximum(y, 0.0)
    n_series = len(uids)

    if history_end is not None:
        end_pos = _to_position(history_end, grid, origin)
        keep = pos <= end_pos
        ids, pos, y = ids[keep], pos[keep], y[keep]
    order = np.lexsort((pos, ids))
    ids, pos, y = ids[order], pos[order], y[order]
    if ids.size > 1 and np.any((ids[1:] == ids[:-1]) & (pos[1:] == pos[:-1])):
        raise ValueError("history has duplicate (unique_id, ds) rows")

    last = np.full(n_series, -1, dtype=np.int64)
    np.maximum.at(last, ids, pos)
    if history_end is not None:
        last[:] = end_pos  # a series with rows only after it is a no-demand series
    demand = y > 0
    first = last + 1
    np.minimum.at(first, ids[demand], pos[demand])
    sizes = last - first + 1
    indptr = np.concatenate([[0], np.cumsum(sizes)])
    values = np.zeros(indptr[-1])
    inside = pos >= first[ids]
    values[indptr[ids[inside]] + pos[inside] - first[ids[inside]]] = y[inside]

    info = classify_arrays(values, indptr)
    info = info.rename(columns={"n_periods": "n_obs"})
    info["n_obs"] = sizes
    return _Panel(
        uids=uids,
        values=values,
        indptr=indptr,
        first=first,
        last=last,
        grid=grid,
        grid_origin=origin,
        info=info,
    )


def _grid_positions(ds: pd.Series, *, freq: str, history_end: Any) -> tuple[np.ndarray, Any, int]:
    """Integer grid positions of ``ds``; for datetimes also the grid index to map back."""
    if pd.api.types.is_integer_dtype(ds.dtype):
        values = ds.to_numpy(dtype=np.int64)
        origin = int(values.min()) if values.size else 0
        return values - origin, None, origin
    stamps = pd.to_datetime(ds)
    start = stamps.min()
    end = stamps.max() if history_end is None else max(stamps.max(), pd.Timestamp(history_end))
    grid = pd.date_range(start, end, freq=freq)
    if grid.size == 0 or grid[0] != start:
        raise ValueError(f"ds values are not on the {freq!r} grid")
    pos = grid.get_indexer(stamps)
    if np.any(pos < 0):
        raise ValueError(f"ds values are not on the {freq!r} grid")
    return pos.astype(np.int64), grid, 0


def _to_position(value: Any, grid: pd.DatetimeIndex | None, origin: int) -> int:
    if grid is None:
        return int(value) - origin
    p = grid.get_indexer([pd.Timestamp(value)])[0]
    if p < 0:
        raise ValueError("history_end is not on the ds grid")
    return int(p)


def _scales(panel: _Panel, season_length: int) -> tuple[np.ndarray, np.ndarray]:
    """In-sample seasonal-naive MAE and MSE per series (lag 1 up to one season of history).

    Falls back to lag 1, then to mean |y| (resp. mean y²), then 1, so that a flat history does
    not divide by zero.
    """
    sizes = panel.sizes
    n_series = sizes.size
    vals = panel.values
    sid = np.repeat(np.arange(n_series), sizes)
    local = np.arange(vals.size) - np.repeat(panel.indptr[:-1], sizes)

    def lag_means(lag: int) -> tuple[np.ndarray, np.ndarray]:
        ok = local >= lag
        diff = np.zeros_like(vals)
        diff[lag:] = vals[lag:] - vals[:-lag]
        cnt = np.bincount(sid[ok], minlength=n_series)
        a = np.bincount(sid[ok], weights=np.abs(diff[ok]), minlength=n_series)
        s = np.bincount(sid[ok], weights=diff[ok] ** 2, minlength=n_series)
        with np.errstate(divide="ignore", invalid="ignore"):
            return a / cnt, s / cnt

    seas_a, seas_s = lag_means(season_length)
    one_a, one_s = lag_means(1)
    use_seas = sizes > season_length
    abs_scale = np.where(use_seas, seas_a, one_a)
    sq_scale = np.where(use_seas, seas_s, one_s)
    with np.errstate(divide="ignore", invalid="ignore"):
        level_a = np.bincount(sid, weights=vals, minlength=n_series) / sizes
        level_s = np.bincount(sid, weights=vals**2, minlength=n_series) / sizes
    for fallback_a, fallback_s in ((one_a, one_s), (level_a, level_s)):
        bad = ~(abs_scale > 0)
        abs_scale[bad] = fallback_a[bad]
        bad = ~(sq_scale > 0)
        sq_scale[bad] = fallback_s[bad]
    abs_scale[~(abs_scale > 0)] = 1.0
    sq_scale[~(sq_scale > 0)] = 1.0
    return abs_scale, sq_scale


def _long_frame(panel: _Panel, idx: np.ndarray) -> pd.DataFrame:
    """statsforecast input for the series ``idx``: integer ids and integer ds."""
    sizes = panel.sizes[idx]
    out_starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    local = np.arange(sizes.sum()) - np.repeat(out_starts, sizes)
    rows = np.repeat(panel.indptr[idx], sizes) + local
    return pd.DataFrame(
        {
            ID: np.repeat(idx, sizes),
            DS: np.repeat(panel.first[idx], sizes) + local,
            Y: panel.values[rows],
        }
    )


# ----------------------------------------------------------------------------- model calls


def _jobs(models: Sequence[Any], n_series: int, fits_per_series: int, n_jobs: int) -> int:
    if n_jobs == 1:
        return 1
    cost = sum(_FIT_COST_MS.get(repr(m), 0.1) for m in models) * n_series * fits_per_series
    return n_jobs if cost >= _POOL_WORTH_MS else 1


def backtest_calls(models: Sequence[Any]) -> list[tuple[list[Any], bool]]:
    """``(models, refit)`` per ``cross_validation`` call of a backtest.

    Models that statsforecast can ``forward`` (AutoETS, AutoTheta, Naive) are fitted once per
    series, on the first window's training part, and carried forward through the later
    windows with those parameters (``refit=False``); the others (SeasonalNaive, Croston, TSB,
    ADIDA, IMAPA, HistoricAverage, SESOpt) have no ``forward`` and cost next to nothing, so
    they are refitted per window. bench/forecast_bench.py calls statsforecast the same way.
    """
    once = [m for m in models if hasattr(m, "forward")]
    every = [m for m in models if not hasattr(m, "forward")]
    return [(group, refit) for group, refit in ((once, False), (every, True)) if group]


def _backtest_errors(
    panel: _Panel,
    idx: np.ndarray,
    models: Sequence[Any],
    backtest: tuple[int, int, int],
    *,
    n_jobs: int,
) -> np.ndarray:
    """Signed errors y - yhat, shape (n_series, n_models, n_windows * h)."""
    h, windows, step = backtest
    df = _long_frame(panel, idx)
    per_series = windows * h
    preds: dict[str, np.ndarray] = {}
    actual = None
    for group, refit in backtest_calls(models):
        sf = StatsForecast(
            models=group,
            freq=1,
            n_jobs=_jobs(group, idx.size, 1 if not refit else windows, n_jobs),
            fallback_model=Naive(),
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cv = sf.cross_validation(df=df, h=h, n_windows=windows, step_size=step, refit=refit)
        got = cv[ID].to_numpy()[::per_series]
        if got.size != idx.size or np.any(got != idx):
            raise RuntimeError("unexpected cross-validation row order")
        actual = cv[Y].to_numpy(dtype=float).reshape(idx.size, 1, per_series)
        for m in group:
            preds[repr(m)] = cv[repr(m)].to_numpy(dtype=float).reshape(idx.size, per_series)
    assert actual is not None
    return actual - np.stack([preds[repr(m)] for m in models], axis=1)


def _score(errors: np.ndarray, scale: np.ndarray, metric: str) -> np.ndarray:
    """(n_series, n_models) MASE or RMSSE; NaN forecasts score +inf."""
    with np.errstate(invalid="ignore"):
        if metric == "mase":
            s = np.abs(errors).mean(axis=2) / scale[:, None]
        else:
            s = np.sqrt((errors**2).mean(axis=2) / scale[:, None])
    return np.where(np.isfinite(s), s, np.inf)


def _candidates(models: Sequence[Any], combos: Sequence[tuple[str, ...]]) -> list[tuple[int, ...]]:
    """Candidates as tuples of member indices: every single model, then the combinations."""
    index = {repr(m): k for k, m in enumerate(models)}
    return [(k,) for k in range(len(models))] + [tuple(index[n] for n in c) for c in combos]


def _name(models: Sequence[Any], members: tuple[int, ...]) -> str:
    return "+".join(repr(models[k]) for k in members)


def _choose(scores: np.ndarray, *, n_single: int, margin: float) -> np.ndarray:
    """Lowest score; a single model must beat the best combination by ``margin`` to win.

    Backtest differences of a few percent over 18 points are mostly noise, and within noise
    a combination is the safer forecast (combinations beat selection on M3 monthly). Ties
    go to the earlier candidate.
    """
    best = np.argmin(scores, axis=1)
    if scores.shape[1] == n_single or margin == 0:
        return best
    rows = np.arange(scores.shape[0])
    best_single = np.argmin(scores[:, :n_single], axis=1)
    best_combo = n_single + np.argmin(scores[:, n_single:], axis=1)
    single_wins = scores[rows, best_single] < (1 - margin) * scores[rows, best_combo]
    return np.where(single_wins, best_single, best_combo)


def _forecast_chosen(
    panel: _Panel,
    idx: np.ndarray,
    models: Sequence[Any],
    candidates: Sequence[tuple[int, ...]],
    choice: np.ndarray,
    horizon: int,
    levels: Sequence[int],
    *,
    errors: np.ndarray | None,
    n_jobs: int,
) -> pd.DataFrame:
    """Refit the chosen candidate's models on each series' whole history, then combine.

    One ``forecast`` call per chosen candidate with all its members, so a combination's
    models share one process pool and no model is fitted on a series that does not use it.
    A combination's mean and bounds are the averages of its members' (quantile averaging).
    """
    parts = []
    for c, members in enumerate(candidates):
        rows = np.flatnonzero(choice == c)
        if rows.size == 0:
            continue
        group = [models[k] for k in members]
        native = all(repr(m) in NATIVE_INTERVALS for m in group)
        sf = StatsForecast(
            models=group,
            freq=1,
            n_jobs=_jobs(group, rows.size, 1, n_jobs),
            fallback_model=Naive(),
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fc = sf.forecast(
                df=_long_frame(panel, idx[rows]),
                h=horizon,
                level=list(levels) if native else None,
            )
        if not np.array_equal(fc[ID].to_numpy()[::horizon], idx[rows]):
            raise RuntimeError("unexpected forecast row order")

        def column(col: str) -> np.ndarray:
            return fc[col].to_numpy(dtype=float).reshape(rows.size, horizon)  # noqa: B023

        means = []
        bounds: dict[str, list[np.ndarray]] = {}
        for k, model in zip(members, group, strict=True):
            name = repr(model)
            mean = column(name)
            means.append(mean)
            for lv in levels:
                if native:
                    lo, hi = column(f"{name}-lo-{lv}"), column(f"{name}-hi-{lv}")
                else:
                    assert errors is not None
                    q_lo, q_hi = np.nanquantile(
                        errors[rows, k, :], [(1 - lv / 100) / 2, (1 + lv / 100) / 2], axis=1
                    )
                    lo, hi = mean + q_lo[:, None], mean + q_hi[:, None]
                bounds.setdefault(f"lo_{lv}", []).append(lo)
                bounds.setdefault(f"hi_{lv}", []).append(hi)
        parts.append(
            _frame(
                idx[rows],
                horizon,
                _name(models, members),
                np.mean(means, axis=0),
                {key: np.mean(b, axis=0) for key, b in bounds.items()},
            )
        )
    return pd.concat(parts, ignore_index=True)


def _zero_forecasts(
    panel: _Panel, idx: np.ndarray, horizon: int, levels: Sequence[int]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    zeros = np.zeros((idx.size, horizon))
    bounds = {f"{side}_{lv}": zeros for lv in levels for side in ("lo", "hi")}
    fc = _frame(idx, horizon, ZERO_MODEL, zeros, bounds)
    return fc, _selection_frame(idx, model=ZERO_MODEL, metric=None)


def _frame(
    idx: np.ndarray, horizon: int, model: str, mean: np.ndarray, bounds: dict[str, np.ndarray]
) -> pd.DataFrame:
    out = {
        "_series": np.repeat(idx, horizon),
        "_step": np.tile(np.arange(1, horizon + 1), idx.size),
        "model": model,
        "mean": mean.ravel(),
    }
    out.update({k: v.ravel() for k, v in bounds.items()})
    return pd.DataFrame(out)


def _selection_frame(
    idx: np.ndarray,
    *,
    model: Any,
    metric: str | None,
    score: Any = np.nan,
    scores: list[dict[str, float | None]] | None = None,
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "_series": idx,
            "model": model,
            "metric": metric,
            "score": score,
            "scores": scores if scores is not None else [{} for _ in range(idx.size)],
        }
    )


def _clean(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


def _assemble(
    panel: _Panel,
    forecast_parts: list[pd.DataFrame],
    selection_parts: list[pd.DataFrame],
    levels: Sequence[int],
) -> ForecastResult:
    bound_cols = [f"{side}_{lv}" for lv in levels for side in ("lo", "hi")]
    if not forecast_parts:
        return _empty_result(levels)
    fc = pd.concat(forecast_parts, ignore_index=True)
    fc = fc.sort_values(["_series", "_step"], kind="stable", ignore_index=True)
    series = fc["_series"].to_numpy()
    period = panel.last[series] + fc["_step"].to_numpy()
    _make_consistent(fc, levels)
    if panel.grid is None:
        ds: Any = period + panel.grid_origin
    else:
        freq = panel.grid.freq
        ds = pd.date_range(panel.grid[0], periods=int(period.max()) + 1, freq=freq)[period]
    fc.insert(0, DS, ds)
    fc.insert(0, ID, panel.uids[series])
    fc = fc.drop(columns=["_series", "_step"])[[ID, DS, "model", "mean", *bound_cols]]

    sel = pd.concat(selection_parts, ignore_index=True).sort_values("_series", ignore_index=True)
    info = panel.info.iloc[sel["_series"].to_numpy()].reset_index(drop=True)
    selections = pd.DataFrame(
        {
            ID: panel.uids[sel["_series"].to_numpy()],
            "demand_class": info["demand_class"].to_numpy(),
            "adi": info["adi"].to_numpy(),
            "cv2": info["cv2"].to_numpy(),
            "n_obs": info["n_obs"].to_numpy(),
            "tier": info["tier"].to_numpy(),
            "model": sel["model"].to_numpy(),
            "metric": sel["metric"].to_numpy(),
            "score": sel["score"].to_numpy(dtype=float),
            "scores": sel["scores"].to_numpy(),
        }
    )
    return ForecastResult(forecasts=fc, selections=selections)


def _empty_result(levels: Sequence[int]) -> ForecastResult:
    bound_cols = [f"{side}_{lv}" for lv in levels for side in ("lo", "hi")]
    sel_cols = [ID, "demand_class", "adi", "cv2", "n_obs", "tier", "model", "metric", "score"]
    return ForecastResult(
        pd.DataFrame(columns=[ID, DS, "model", "mean", *bound_cols]),
        pd.DataFrame(columns=[*sel_cols, "scores"]),
    )


def _make_consistent(fc: pd.DataFrame, levels: Sequence[int]) -> None:
    """Clip at zero, fill missing bounds with the mean, nest the bands around the mean."""
    mean = np.clip(np.nan_to_num(fc["mean"].to_numpy(dtype=float), nan=0.0), 0.0, None)
    fc["mean"] = mean
    inner_lo, inner_hi = mean, mean
    for lv in sorted(levels):  # narrow to wide
        lo = fc[f"lo_{lv}"].to_numpy(dtype=float)
        hi = fc[f"hi_{lv}"].to_numpy(dtype=float)
        lo = np.minimum(np.where(np.isnan(lo), inner_lo, lo), inner_lo).clip(0.0)
        hi = np.maximum(np.where(np.isnan(hi), inner_hi, hi), inner_hi)
        fc[f"lo_{lv}"] = lo
        fc[f"hi_{lv}"] = hi
        inner_lo, inner_hi = lo, hi
