import numpy as np
import pandas as pd
import pytest
from statsforecast import StatsForecast
from statsforecast.models import AutoETS, Naive

from sop_demand.forecasting import forecast_partitions, select_and_forecast
from sop_demand.forecasting.engine import (
    TIER_BACKTEST,
    TIER_NO_DEMAND,
    TIER_SHORT,
    TIER_TOO_SHORT,
    _choose,
    backtest_calls,
    candidate_models,
)

SEASONAL_MODELS = {"SeasonalNaive", "AutoETS", "AutoTheta"}
INTERMITTENT_MODELS = {"CrostonOptimized", "TSB", "ADIDA", "IMAPA"}
START = pd.Timestamp("2022-01-01")


def _frame(uid: str, y, start: int = 0) -> pd.DataFrame:
    ds = pd.date_range(START + pd.DateOffset(months=start), periods=len(y), freq="MS")
    return pd.DataFrame({"unique_id": uid, "ds": ds, "y": np.asarray(y, dtype=float)})


def _history() -> pd.DataFrame:
    rng = np.random.default_rng(42)
    t = np.arange(36)
    seasonal = 200 + 120 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 4, 36)
    intermittent = np.where(rng.random(36) < 0.25, rng.gamma(20, 1.0, 36), 0.0)
    intermittent[0] = 20.0
    return pd.concat(
        [
            _frame("seasonal", seasonal),
            _frame("intermittent", intermittent),
            _frame("zero", np.zeros(36)),
            _frame("npi", np.r_[np.zeros(22), rng.gamma(20, 1.0, 14)]),
            _frame("tiny", [3.0, 5.0, 4.0], start=33),
        ],
        ignore_index=True,
    )


@pytest.fixture(scope="module")
def result():
    return select_and_forecast(_history(), horizon=24, n_jobs=1)


def _members(model: str) -> set[str]:
    return set(model.split("+"))


def test_seasonal_series_picks_a_seasonal_model(result):
    sel = result.selections.set_index("unique_id")
    assert sel.loc["seasonal", "demand_class"] == "smooth"
    assert _members(sel.loc["seasonal", "model"]) <= SEASONAL_MODELS
    assert sel.loc["seasonal", "metric"] == "mase"
    assert set(sel.loc["seasonal", "scores"]) == SEASONAL_MODELS | {
        "AutoETS+AutoTheta",
        "SeasonalNaive+AutoETS+AutoTheta",
    }


def test_intermittent_series_picks_an_intermittent_model(result):
    sel = result.selections.set_index("unique_id")
    assert sel.loc["intermittent", "demand_class"] in {"intermittent", "lumpy"}
    assert sel.loc["intermittent", "model"] in INTERMITTENT_MODELS
    assert sel.loc["intermittent", "metric"] == "rmsse"


def test_without_margin_the_chosen_score_is_the_minimum():
    hist = _history()
    hist = hist[hist["unique_id"].isin(["seasonal", "intermittent", "npi"])]
    out = select_and_forecast(hist, horizon=6, combination_margin=0.0, n_jobs=1)
    assert len(out.selections) == 3
    for row in out.selections.itertuples():
        assert row.score == pytest.approx(min(row.scores.values()))
        assert row.scores[row.model] == pytest.approx(row.score)


def test_single_model_needs_to_beat_the_best_combination_by_the_margin(result):
    for row in result.selections[result.selections["tier"] == TIER_BACKTEST].itertuples():
        assert row.scores[row.model] == pytest.approx(row.score)
        combos = [v for k, v in row.scores.items() if "+" in k]
        if not combos:  # intermittent: plain lowest score
            assert row.score == pytest.approx(min(row.scores.values()))
        elif "+" in row.model:
            assert row.score == pytest.approx(min(combos))
            assert min(row.scores.values()) >= 0.8 * row.score
        else:
            assert row.score < 0.8 * min(combos)


def test_choose_rule_on_hand_scores():
    # columns: single A, single B, combo A+B
    scores = np.array(
        [
            [1.0, 2.0, 1.1],  # A better than combo by 9 % only -> combo
            [0.7, 2.0, 1.0],  # A better by 30 % -> A
            [2.0, 2.0, 1.0],  # combo best anyway
            [1.0, 1.0, np.inf],  # combo failed -> first of the tied singles
        ]
    )
    assert _choose(scores, n_single=2, margin=0.2).tolist() == [2, 0, 2, 0]
    assert _choose(scores, n_single=2, margin=0.0).tolist() == [0, 0, 2, 0]


def test_backtest_fits_forward_models_once_and_refits_the_cheap_ones():
    def names(family):
        calls = backtest_calls(candidate_models(family, TIER_BACKTEST, 12))
        return [([repr(m) for m in group], refit) for group, refit in calls]

    assert names("smooth") == [(["AutoETS", "AutoTheta"], False), (["SeasonalNaive"], True)]
    assert names("intermittent") == [
        (["CrostonOptimized", "TSB", "ADIDA", "IMAPA", "SeasonalNaive"], True)
    ]


def test_autoets_score_is_its_fit_once_backtest(result):
    # MASE of AutoETS = mean |backtest error| over 3 windows x 6 months, where AutoETS is
    # fitted once on months 0..23 and carried forward (refit=False), divided by the
    # in-sample seasonal-naive MAE mean |y_t - y_(t-12)|, t = 12..35.
    hist = _history()
    seasonal = hist[hist["unique_id"] == "seasonal"]
    y = seasonal["y"].to_numpy()
    scale = np.abs(y[12:] - y[:-12]).mean()
    cv = StatsForecast(models=[AutoETS(season_length=12)], freq="MS", fallback_model=Naive())
    with np.errstate(all="ignore"):
        once = cv.cross_validation(df=seasonal, h=6, n_windows=3, step_size=3, refit=False)
        every = cv.cross_validation(df=seasonal, h=6, n_windows=3, step_size=3)
    expected = np.abs(once["y"] - once["AutoETS"]).mean() / scale
    refitted = np.abs(every["y"] - every["AutoETS"]).mean() / scale
    score = result.selections.set_index("unique_id").loc["seasonal", "scores"]["AutoETS"]
    assert score == pytest.approx(expected, rel=1e-9)
    assert score != pytest.approx(refitted, rel=1e-6)  # so the test tells the two apart


def test_horizon_and_dates(result):
    fc = result.forecasts
    assert len(fc) == 5 * 24
    assert (fc.groupby("unique_id").size() == 24).all()
    seasonal = fc[fc["unique_id"] == "seasonal"]["ds"]
    assert seasonal.iloc[0] == pd.Timestamp("2025-01-01")
    assert seasonal.iloc[-1] == pd.Timestamp("2026-12-01")
    assert list(fc.columns) == [
        "unique_id",
        "ds",
        "model",
        "mean",
        "lo_80",
        "hi_80",
        "lo_95",
        "hi_95",
    ]


def test_intervals_ordered_and_non_negative(result):
    fc = result.forecasts
    assert (fc[["mean", "lo_80", "hi_80", "lo_95", "hi_95"]] >= 0).all().all()
    assert (fc["lo_95"] <= fc["lo_80"]).all()
    assert (fc["lo_80"] <= fc["mean"]).all()
    assert (fc["mean"] <= fc["hi_80"]).all()
    assert (fc["hi_80"] <= fc["hi_95"]).all()
    # the intermittent model has no native intervals: the empirical band is not degenerate
    inter = fc[fc["unique_id"] == "intermittent"]
    assert (inter["hi_95"] > inter["mean"]).all()


def test_all_zero_series_forecasts_zero(result):
    zero = result.forecasts[result.forecasts["unique_id"] == "zero"]
    assert (zero[["mean", "lo_80", "hi_80", "lo_95", "hi_95"]] == 0).all().all()
    sel = result.selections.set_index("unique_id")
    assert sel.loc["zero", "tier"] == TIER_NO_DEMAND
    assert sel.loc["zero", "model"] == "Zero"


def test_short_histories_fall_back(result):
    sel = result.selections.set_index("unique_id")
    # 22 leading zeros are dropped: 14 months since launch < 2 seasons -> short backtest
    assert sel.loc["npi", "n_obs"] == 14
    assert sel.loc["npi", "tier"] == TIER_SHORT
    assert sel.loc["npi", "model"] in {"Naive", "HistoricAverage", "SESOpt"}
    assert sel.loc["tiny", "tier"] == TIER_TOO_SHORT
    assert sel.loc["tiny", "model"] == "Naive"
    tiny = result.forecasts[result.forecasts["unique_id"] == "tiny"]
    assert (tiny["mean"] == 4.0).all()  # Naive: last value
    assert tiny["ds"].iloc[0] == pd.Timestamp("2025-01-01")


def test_partitions_give_the_same_numbers_as_one_call(result):
    hist = _history()
    hist["family"] = np.where(hist["unique_id"].isin(["seasonal", "zero"]), "F1", "F2")
    parts = dict(forecast_partitions(hist, 24, by="family", n_jobs=1))
    assert set(parts) == {"F1", "F2"}
    for part in parts.values():
        ids = part.forecasts["unique_id"].unique()
        whole = result.forecasts[result.forecasts["unique_id"].isin(ids)]
        pd.testing.assert_frame_equal(
            part.forecasts.reset_index(drop=True), whole.reset_index(drop=True)
        )


def test_gaps_and_history_end_pad_with_zeros():
    # integer periods; period 3 missing (= zero demand); history_end 11 pads 10..11 with zeros
    df = pd.DataFrame({"unique_id": "a", "ds": [0, 1, 2, 4, 5, 6, 7, 8, 9], "y": 5.0})
    out = select_and_forecast(df, 2, history_end=11, n_jobs=1)
    assert out.forecasts["ds"].tolist() == [12, 13]
    assert out.selections.loc[0, "n_obs"] == 12


def test_duplicate_rows_are_rejected():
    df = pd.concat([_frame("a", [1.0, 2.0]), _frame("a", [1.0])])
    with pytest.raises(ValueError, match="duplicate"):
        select_and_forecast(df, 3, n_jobs=1)


def test_off_grid_dates_are_rejected():
    df = pd.DataFrame(
        {"unique_id": "a", "ds": pd.to_datetime(["2024-01-01", "2024-02-15"]), "y": 1.0}
    )
    with pytest.raises(ValueError, match="grid"):
        select_and_forecast(df, 3, n_jobs=1)


def test_empty_history_gives_empty_frames():
    empty = pd.DataFrame({"unique_id": [], "ds": pd.to_datetime([]), "y": []})
    out = select_and_forecast(empty, 12, n_jobs=1)
    assert out.forecasts.empty
    assert out.selections.empty
    assert "hi_95" in out.forecasts.columns
