"""Safety-stock policies, checked against hand calculations and textbook examples."""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numpy.testing import assert_allclose

from sop_supply.planning import safety_stock as ss


class TestFixedQuantity:
    def test_quantity_is_repeated_over_the_months_and_negatives_clip_to_zero(self) -> None:
        result = ss.fixed_quantity([10.0, -5.0], n=2, t=3)

        assert_allclose(result, [[10, 10, 10], [0, 0, 0]])


class TestCover:
    DEMAND = [[100.0, 200.0, 300.0, 400.0]]

    def test_months_of_cover_takes_fractional_months_pro_rata(self) -> None:
        # 1.5 months of the demand after each month (m4+ repeats m3's 400):
        # m0: 200 + 0.5*300 = 350; m1: 300 + 0.5*400 = 500; m2: 400 + 200 = 600; m3: 600.
        assert_allclose(ss.months_of_cover(self.DEMAND, 1.5), [[350, 500, 600, 600]])

    def test_days_of_cover_converts_at_30_4_days_a_month(self) -> None:
        # 45.6 days / 30.4 = 1.5 months -> same as above.
        assert_allclose(ss.days_of_cover(self.DEMAND, 45.6), [[350, 500, 600, 600]])

    def test_zero_months_of_cover_is_zero(self) -> None:
        assert_allclose(ss.months_of_cover(self.DEMAND, 0.0), [[0, 0, 0, 0]])

    def test_negative_cover_is_rejected(self) -> None:
        with pytest.raises(ValueError, match="months"):
            ss.months_of_cover(self.DEMAND, -1.0)


class TestStatistical:
    def test_z_values_match_the_normal_table(self) -> None:
        assert_allclose(
            ss.z_value([0.5, 0.9, 0.95, 0.99]), [0.0, 1.2816, 1.6449, 2.3263], atol=1e-4
        )

    def test_chopra_meindl_demand_uncertainty_example(self) -> None:
        # Chopra & Meindl, safety inventory for a given CSL: weekly demand 2,500,
        # sigma 500, lead time 2 weeks, CSL 0.90.
        # sigma_L = sqrt(2) x 500 = 707.1; z = NORMSINV(0.9) = 1.2816; ss = 906.
        result = ss.statistical(0.90, mean_demand=2500, demand_std=500, lead_time=2)

        assert float(result) == pytest.approx(906.2, abs=0.1)

    def test_chopra_meindl_lead_time_uncertainty_example(self) -> None:
        # Daily demand 2,500, sigma 500; lead time 7 days with std 7 days; CSL 0.90.
        # sigma_L = sqrt(L sigma_d^2 + d^2 s_L^2) = sqrt(7 x 500^2 + 2500^2 x 7^2)
        #         = sqrt(1,750,000 + 306,250,000) = sqrt(308,000,000) = 17,549.9
        # ss = 1.28155 x 17,549.9 = 22,491
        result = ss.statistical(
            0.90, mean_demand=2500, demand_std=500, lead_time=7, lead_time_std=7
        )

        assert float(result) == pytest.approx(22_491, abs=1)

    def test_vectorised_over_item_sites(self) -> None:
        # Item 1: CSL 0.95, d 100, sd 20, L 4, no LT variability: 1.6449 x 20 x 2 = 65.80.
        # Item 2: CSL 0.5 -> z = 0 -> 0.
        result = ss.statistical(
            [0.90, 0.95, 0.5],
            mean_demand=[2500, 100, 50],
            demand_std=[500, 20, 5],
            lead_time=[2, 4, 1],
        )

        assert_allclose(result, [906.2, 65.80, 0.0], atol=0.05)

    def test_service_level_below_one_half_clips_to_zero(self) -> None:
        assert float(ss.statistical(0.2, mean_demand=100, demand_std=30, lead_time=1)) == 0.0

    @pytest.mark.parametrize("csl", [0.0, 1.0, 1.2, float("nan")])
    def test_service_level_outside_zero_one_is_rejected(self, csl: float) -> None:
        with pytest.raises(ValueError, match="cycle_service_level"):
            ss.z_value(csl)

    def test_negative_standard_deviation_is_rejected(self) -> None:
        with pytest.raises(ValueError, match="demand_std"):
            ss.statistical(0.9, mean_demand=100, demand_std=-1, lead_time=1)


class TestTargetStock:
    def test_max_stock_is_safety_stock_plus_the_lot(self) -> None:
        # Demand 100/month, monthly ordering: lot = max(MOQ 250, multiple 50, 100) = 250 for
        # item 0; item 1 has no MOQ: lot = one month of demand = 80. Max = SS + lot.
        demand = [[100.0, 100.0, 100.0], [80.0, 80.0, 80.0]]

        lot = ss.cycle_stock(demand, moq=[250.0, 0.0], lot_multiple=[50.0, 0.0])
        target = ss.target_stock([[50.0], [20.0]], lot)

        assert_allclose(lot, [[250] * 3, [80] * 3])
        assert_allclose(target, [[300] * 3, [100] * 3])

    def test_two_month_order_cycle_doubles_the_lot(self) -> None:
        assert_allclose(ss.cycle_stock([[100.0] * 3], order_cycle_months=2.0), [[200] * 3])


class TestDaysOfSupply:
    def test_conventions_for_backlog_and_no_demand(self) -> None:
        # Stock 60 with 30/month ahead -> 60 / (30/30.4) = 60.8 days; -5 -> 0; no demand -> inf.
        demand = [[30.0, 30.0], [30.0, 30.0], [0.0, 0.0]]
        stock = [[60.0, 60.0], [-5.0, -5.0], [10.0, 10.0]]

        dos = ss.days_of_supply(stock, demand, window_months=1)

        assert_allclose(dos[:2], [[60.8, 60.8], [0.0, 0.0]])
        assert np.isinf(dos[2]).all()


def naive_forward(demand: np.ndarray, months: int) -> np.ndarray:
    """Loop reference: sum of demand[t+1 .. t+months], last month repeated past the end."""
    n, t = demand.shape
    out = np.zeros((n, t))
    for i in range(n):
        for m in range(t):
            for k in range(m + 1, m + 1 + months):
                out[i, m] += demand[i, min(k, t - 1)]
    return out


@settings(max_examples=100, deadline=None)
@given(
    demand=hnp.arrays(
        np.float64, hnp.array_shapes(min_dims=2, max_dims=2, max_side=6), elements=st.floats(0, 1e4)
    ),
    months=st.integers(0, 9),
)
def test_forward_demand_matches_a_loop(demand: np.ndarray, months: int) -> None:
    assert_allclose(ss.forward_demand(demand, months), naive_forward(demand, months), atol=1e-6)


finite = st.floats(-1e6, 1e6)
nonneg = st.floats(0, 1e4)


@settings(max_examples=200, deadline=None)
@given(
    quantity=hnp.arrays(np.float64, 3, elements=finite),
    demand=hnp.arrays(np.float64, (3, 4), elements=finite),
    months=hnp.arrays(np.float64, 3, elements=st.floats(0, 6)),
    csl=hnp.arrays(np.float64, 3, elements=st.floats(0.001, 0.999)),
    mean=hnp.arrays(np.float64, 3, elements=finite),
    std=hnp.arrays(np.float64, 3, elements=nonneg),
    lead=hnp.arrays(np.float64, 3, elements=st.floats(0, 12)),
    lead_std=hnp.arrays(np.float64, 3, elements=st.floats(0, 6)),
)
def test_safety_stock_is_never_negative(
    quantity: np.ndarray,
    demand: np.ndarray,
    months: np.ndarray,
    csl: np.ndarray,
    mean: np.ndarray,
    std: np.ndarray,
    lead: np.ndarray,
    lead_std: np.ndarray,
) -> None:
    policies = [
        ss.fixed_quantity(quantity, 3, 4),
        ss.months_of_cover(demand, months),
        ss.days_of_cover(demand, months * 30.4),
        ss.statistical(
            csl, mean_demand=mean, demand_std=std, lead_time=lead, lead_time_std=lead_std
        ),
    ]
    for result in policies:
        assert (result >= 0).all()
        assert np.isfinite(result).all()
    # The statistical policy equals max(0, z x sigma_LT) computed element by element.
    expected = np.array(
        [
            max(0.0, NormalDist().inv_cdf(p) * math.sqrt(lt * sd**2 + d**2 * slt**2))
            for p, d, sd, lt, slt in zip(
                csl.tolist(),
                mean.tolist(),
                std.tolist(),
                lead.tolist(),
                lead_std.tolist(),
                strict=True,
            )
        ]
    )
    assert_allclose(policies[3], expected, rtol=1e-9, atol=1e-9)
