import numpy as np
import pandas as pd
import pytest

from sop_demand.forecasting.accuracy import (
    accuracy,
    forecast_lag,
    forecast_value_added,
    mase_scale,
)


@pytest.fixture
def hand():
    # product A: actual 100, 0, 50; forecast 110, 10, 40 -> errors +10, +10, -10
    # product B: actual 200, 100;    forecast 150, 100    -> errors -50, 0
    return pd.DataFrame(
        {
            "unique_id": ["A", "A", "A", "B", "B"],
            "family": ["F", "F", "F", "F", "F"],
            "actual": [100.0, 0.0, 50.0, 200.0, 100.0],
            "forecast": [110.0, 10.0, 40.0, 150.0, 100.0],
        }
    )


def test_overall_metrics_match_hand_computation(hand):
    out = accuracy(hand, metrics=["wape", "mape", "smape", "bias"]).iloc[0]
    # WAPE = (10+10+10+50+0) / (100+0+50+200+100) = 80/450
    assert out["wape"] == pytest.approx(80 / 450)
    # MAPE skips the zero actual: (10/100 + 10/50 + 50/200 + 0/100) / 4 = 0.55/4
    assert out["mape"] == pytest.approx(0.55 / 4)
    # sMAPE rows: 20/210, 20/10=2, 20/90, 100/350, 0 -> mean of 5
    expected = (20 / 210 + 2.0 + 20 / 90 + 100 / 350 + 0.0) / 5
    assert out["smape"] == pytest.approx(expected)
    # bias = Σ(f-a)/Σa = (10+10-10-50+0)/450 = -40/450 (under-forecast)
    assert out["bias"] == pytest.approx(-40 / 450)
    assert out["n"] == 5


def test_grouped_metrics_by_product(hand):
    out = accuracy(hand, by="unique_id", metrics=["wape", "bias"]).set_index("unique_id")
    assert out.loc["A", "wape"] == pytest.approx(30 / 150)
    assert out.loc["A", "bias"] == pytest.approx(10 / 150)
    assert out.loc["B", "wape"] == pytest.approx(50 / 300)
    assert out.loc["B", "bias"] == pytest.approx(-50 / 300)


def test_mape_and_wape_are_nan_when_every_actual_is_zero():
    df = pd.DataFrame({"unique_id": ["A"] * 2, "actual": [0.0, 0.0], "forecast": [1.0, 0.0]})
    out = accuracy(df, metrics=["wape", "mape", "smape"]).iloc[0]
    assert np.isnan(out["wape"])
    assert np.isnan(out["mape"])
    # sMAPE: first row 2*1/1 = 2, second row 0/0 counted as 0 -> mean 1
    assert out["smape"] == pytest.approx(1.0)


def test_mase_uses_seasonal_naive_scale_from_history():
    # season 4; history 8 periods: 10,20,30,40, 12,18,33,41
    # seasonal diffs |12-10|,|18-20|,|33-30|,|41-40| = 2,2,3,1 -> scale 2.0
    hist = pd.DataFrame({"unique_id": "A", "ds": range(8), "y": [10, 20, 30, 40, 12, 18, 33, 41]})
    scale = mase_scale(hist, season_length=4)
    assert scale["A"] == pytest.approx(2.0)
    test = pd.DataFrame(
        {"unique_id": "A", "actual": [11.0, 21.0], "forecast": [12.0, 18.0]}
    )  # |e| = 1, 3 -> MASE = mean(1/2, 3/2) = 1.0
    out = accuracy(test, scale=scale, metrics=["mase"]).iloc[0]
    assert out["mase"] == pytest.approx(1.0)


def test_mase_scale_falls_back_to_lag_one_on_short_history():
    # 4 periods with season 12: lag-1 diffs 2, 4, 6 -> 4.0
    hist = pd.DataFrame({"unique_id": "A", "ds": range(4), "y": [1.0, 3.0, 7.0, 13.0]})
    assert mase_scale(hist, season_length=12)["A"] == pytest.approx(4.0)
    flat = pd.DataFrame({"unique_id": "B", "ds": range(4), "y": [5.0] * 4})
    assert np.isnan(mase_scale(flat, season_length=12)["B"])


def test_forecast_lag_and_accuracy_by_lag():
    # two snapshots for March 2025: made after January (lag 2) and after February (lag 1)
    df = pd.DataFrame(
        {
            "unique_id": ["A", "A"],
            "cutoff": pd.to_datetime(["2025-01-01", "2025-02-01"]),
            "ds": pd.to_datetime(["2025-03-01", "2025-03-01"]),
            "actual": [100.0, 100.0],
            "forecast": [130.0, 110.0],
        }
    )
    df["lag"] = forecast_lag(df["cutoff"], df["ds"])
    assert df["lag"].tolist() == [2, 1]
    out = accuracy(df, by="lag", metrics=["wape"]).set_index("lag")
    assert out.loc[1, "wape"] == pytest.approx(0.10)
    assert out.loc[2, "wape"] == pytest.approx(0.30)
    # year boundary: Nov 2024 -> Feb 2025 is lag 3
    lag = forecast_lag(
        pd.Series(pd.to_datetime(["2024-11-01"])), pd.Series(pd.to_datetime(["2025-02-01"]))
    )
    assert lag.iloc[0] == 3


def test_fva_is_positive_when_the_override_helps_and_negative_when_it_hurts():
    # baseline |e| = 20 + 20 = 40 over Σa = 200 -> WAPE 0.20
    # override A |e| = 5 + 5 -> 0.05: FVA = +0.15; override B |e| = 50+30 -> 0.40: FVA = -0.20
    df = pd.DataFrame(
        {
            "unique_id": ["P", "P"],
            "actual": [100.0, 100.0],
            "baseline": [120.0, 80.0],
            "good": [105.0, 95.0],
            "bad": [150.0, 70.0],
        }
    )
    good = forecast_value_added(df, layer="good").iloc[0]
    assert good["wape_baseline"] == pytest.approx(0.20)
    assert good["wape_layer"] == pytest.approx(0.05)
    assert good["fva"] == pytest.approx(0.15)
    bad = forecast_value_added(df, layer="bad").iloc[0]
    assert bad["fva"] == pytest.approx(-0.20)
    # bias: baseline 0, bad +20/200 = +0.10 -> |bias| got worse by 0.10
    bias = forecast_value_added(df, layer="bad", metric="bias").iloc[0]
    assert bias["fva"] == pytest.approx(-0.10)


def test_fva_by_group(hand):
    hand = hand.assign(override=hand["actual"])  # a perfect override
    out = forecast_value_added(hand, baseline="forecast", layer="override", by="unique_id")
    out = out.set_index("unique_id")
    assert out.loc["A", "fva"] == pytest.approx(30 / 150)
    assert out.loc["B", "fva"] == pytest.approx(50 / 300)


def test_mase_requires_scale(hand):
    assert "mase" not in accuracy(hand).columns
    with pytest.raises(ValueError, match="scale"):
        accuracy(hand, metrics=["mase"])
