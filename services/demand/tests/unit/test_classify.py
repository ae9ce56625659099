import numpy as np
import pandas as pd
import pytest

from sop_demand.forecasting.classify import (
    DemandClass,
    class_from_stats,
    classify_demand,
    classify_series,
    demand_stats,
)

# smooth: 12 periods, all with demand -> ADI = 12/12 = 1.0.
# sizes 10,12 alternating: mean 11, population var 1 -> CV² = 1/121 = 0.00826.
SMOOTH = [10, 12] * 6
# erratic: every period has demand (ADI 1.0); sizes 1,1,1,9 repeated:
# mean 3, var = (3*4 + 36)/4 = 12 -> CV² = 12/9 = 1.333.
ERRATIC = [1, 1, 1, 9] * 3
# intermittent: demand every 3rd period, 12 periods, 4 demands -> ADI 12/4 = 3.0;
# sizes 10,10,10,10 -> CV² 0.
INTERMITTENT = [10, 0, 0] * 4
# lumpy: 4 demands in 12 periods (ADI 3.0); sizes 1,1,1,9 -> CV² 1.333.
LUMPY = [1, 0, 0, 1, 0, 0, 1, 0, 0, 9, 0, 0]


@pytest.mark.parametrize(
    ("series", "adi", "cv2", "expected"),
    [
        (SMOOTH, 1.0, 1 / 121, DemandClass.SMOOTH),
        (ERRATIC, 1.0, 12 / 9, DemandClass.ERRATIC),
        (INTERMITTENT, 3.0, 0.0, DemandClass.INTERMITTENT),
        (LUMPY, 3.0, 12 / 9, DemandClass.LUMPY),
    ],
)
def test_quadrants_match_hand_computed_adi_and_cv2(series, adi, cv2, expected):
    got_adi, got_cv2 = demand_stats(np.array(series, dtype=float))
    assert got_adi == pytest.approx(adi)
    assert got_cv2 == pytest.approx(cv2)
    assert classify_series(np.array(series, dtype=float)) is expected


def test_leading_zeros_do_not_count_towards_adi():
    # launched in period 4: 6 periods from launch, 6 demands -> ADI 1.0 (smooth), not 10/6
    y = np.array([0, 0, 0, 0, 5, 6, 5, 6, 5, 6], dtype=float)
    adi, _ = demand_stats(y)
    assert adi == pytest.approx(1.0)
    assert classify_series(y) is DemandClass.SMOOTH


def test_cut_offs_are_inclusive_on_the_upper_side():
    assert class_from_stats(1.32, 0.0) is DemandClass.INTERMITTENT
    assert class_from_stats(1.3199, 0.49) is DemandClass.ERRATIC
    assert class_from_stats(1.3199, 0.4899) is DemandClass.SMOOTH


def test_all_zero_and_negative_only_series_are_zero_class():
    assert classify_series(np.zeros(12)) is DemandClass.ZERO
    assert classify_series(np.array([-3.0, 0.0, -1.0])) is DemandClass.ZERO


def test_frame_classification_agrees_with_scalar_version():
    rows = []
    for name, series in {"a": SMOOTH, "b": ERRATIC, "c": INTERMITTENT, "d": LUMPY}.items():
        rows += [(name, t, v) for t, v in enumerate(series)]
    rows += [("z", t, 0.0) for t in range(5)]
    df = pd.DataFrame(rows, columns=["unique_id", "ds", "y"]).sample(frac=1, random_state=0)
    out = classify_demand(df).set_index("unique_id")
    assert out.loc["a", "demand_class"] == "smooth"
    assert out.loc["b", "demand_class"] == "erratic"
    assert out.loc["c", "demand_class"] == "intermittent"
    assert out.loc["d", "demand_class"] == "lumpy"
    assert out.loc["z", "demand_class"] == "zero"
    assert out.loc["d", "adi"] == pytest.approx(3.0)
    assert out.loc["d", "cv2"] == pytest.approx(12 / 9)
    assert out.loc["c", "n_demands"] == 4
