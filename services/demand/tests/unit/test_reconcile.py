import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sop_demand.forecasting.reconcile import bottom_up, disaggregate, split_total


def test_family_override_split_in_proportion_to_baseline():
    # baseline 300/600/100 sums to 1,000; override 1,200 -> factor 1.2 -> 360/720/120
    out = split_total(1200, [300, 600, 100])
    np.testing.assert_allclose(out, [360, 720, 120])


def test_zero_baseline_splits_equally():
    np.testing.assert_allclose(split_total(90, [0, 0, 0]), [30, 30, 30])
    np.testing.assert_allclose(split_total(90, [0, np.nan, 0]), [30, 30, 30])


def test_rounding_keeps_the_total_exact():
    # 100 over three equal baselines: 33.33.. each; floors 33+33+33 = 99, one unit left,
    # ties on the fraction go to the first product -> 34, 33, 33
    np.testing.assert_array_equal(split_total(100, [1, 1, 1], decimals=0), [34, 33, 33])
    # 10 over 1/2/3 (sum 6): 1.667, 3.333, 5.0 -> floors 1, 3, 5 = 9; largest fraction 0.667
    np.testing.assert_array_equal(split_total(10, [1, 2, 3], decimals=0), [2, 3, 5])
    # two decimals: 1 over three -> 0.34, 0.33, 0.33
    np.testing.assert_allclose(split_total(1, [1, 1, 1], decimals=2), [0.34, 0.33, 0.33])


def test_exact_proportions_are_not_perturbed_by_rounding():
    np.testing.assert_array_equal(split_total(1200, [300, 600, 100], decimals=0), [360, 720, 120])


@settings(max_examples=100, deadline=None)
@given(
    total=st.integers(min_value=0, max_value=10**6),
    weights=st.lists(st.floats(min_value=0, max_value=1e5), min_size=1, max_size=12),
)
def test_rounded_split_always_adds_up(total, weights):
    out = split_total(total, weights, decimals=0)
    assert out.sum() == total
    assert (out >= 0).all()
    exact = split_total(total, weights)
    assert np.abs(out - exact).max() < 1.0 + 1e-9


def test_disaggregate_by_family_and_month():
    baseline = pd.DataFrame(
        {
            "unique_id": ["a", "b", "c", "a", "b", "c", "d"],
            "family": ["F", "F", "F", "F", "F", "F", "G"],
            "ds": ["2025-01"] * 3 + ["2025-02"] * 3 + ["2025-01"],
            "mean": [300.0, 600.0, 100.0, 0.0, 0.0, 0.0, 50.0],
        }
    )
    totals = pd.DataFrame(
        {"family": ["F", "F"], "ds": ["2025-01", "2025-02"], "total": [1200.0, 7.0]}
    )
    out = disaggregate(totals, baseline, keys=["family", "ds"], decimals=0)
    # Jan: proportional 360/720/120; Feb: zero baseline, 7 split equally -> 3, 2, 2
    assert out["allocated"].tolist()[:6] == [360, 720, 120, 3, 2, 2]
    # family G has no override: left NaN for the caller to keep its baseline
    assert np.isnan(out["allocated"].iloc[6])
    assert out["mean"].tolist() == baseline["mean"].tolist()


def test_total_without_products_raises():
    baseline = pd.DataFrame({"family": ["F"], "mean": [1.0]})
    totals = pd.DataFrame({"family": ["F", "X"], "total": [5.0, 3.0]})
    with pytest.raises(ValueError, match="without baseline"):
        disaggregate(totals, baseline, keys=["family"])


def test_negative_totals_are_rejected():
    with pytest.raises(ValueError, match="non-negative"):
        split_total(-5, [1, 2])


def test_bottom_up_sums_products_to_family_and_category():
    fc = pd.DataFrame(
        {
            "unique_id": ["a", "b", "c", "a", "b", "c"],
            "ds": [1, 1, 1, 2, 2, 2],
            "mean": [1.0, 2.0, 4.0, 10.0, 20.0, 40.0],
        }
    )
    hierarchy = pd.DataFrame(
        {"unique_id": ["a", "b", "c"], "family": ["F1", "F1", "F2"], "category": ["C"] * 3}
    )
    out = bottom_up(fc, hierarchy).set_index(["level", "node", "ds"])["mean"]
    assert out[("family", "F1", 1)] == 3.0
    assert out[("family", "F2", 2)] == 40.0
    assert out[("category", "C", 1)] == 7.0
    assert out[("category", "C", 2)] == 70.0
    assert out[("product", "b", 2)] == 20.0


def test_bottom_up_rejects_products_outside_the_hierarchy():
    fc = pd.DataFrame({"unique_id": ["a", "z"], "ds": [1, 1], "mean": [1.0, 2.0]})
    hierarchy = pd.DataFrame({"unique_id": ["a"], "family": ["F"], "category": ["C"]})
    with pytest.raises(ValueError, match="missing"):
        bottom_up(fc, hierarchy)
