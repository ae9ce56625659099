"""Rough-cut capacity and calendar hours on hand-checked numbers."""

from __future__ import annotations

import numpy as np
import pytest

from sop_capacity.planning import (
    Method,
    PlanningInputError,
    available_hours,
    preferred_methods,
    rough_cut,
)

# Product 0 has two methods: resource 1 is cheaper but priority 2, so RCCP loads resource 0
# (priority 1, 2 h a unit). Products 1 and 2 have one method each; product 3 has none.
METHODS = [
    Method(0, 1, hours_per_unit=1.0, cost_per_unit=1.0, priority=2),
    Method(0, 0, hours_per_unit=2.0, cost_per_unit=5.0, priority=1),
    Method(1, 0, hours_per_unit=1.0, cost_per_unit=1.0),
    Method(2, 1, hours_per_unit=0.5, cost_per_unit=1.0),
]
REQUIREMENT = [
    [30, 50, 20],
    [40, 30, 10],
    [100, 40, 20],
    [5, 0, 0],
]
AVAILABLE = [
    [100, 100, 100],
    [100, 0, 100],  # resource 1 is shut in month 1
]


class TestRoughCut:
    # Load r0 = 2 x p0 + 1 x p1 = (60+40, 100+30, 40+10) = 100, 130, 50
    # Load r1 = 0.5 x p2          = 50, 20, 10
    # Utilisation r0 = 1.0, 1.3, 0.5; r1 = 0.5, inf (20 h on a shut resource), 0.1
    def test_load_and_utilisation(self):
        result = rough_cut(REQUIREMENT, METHODS, AVAILABLE)
        np.testing.assert_allclose(result.load, [[100, 130, 50], [50, 20, 10]])
        np.testing.assert_allclose(result.utilisation, [[1.0, 1.3, 0.5], [0.5, np.inf, 0.1]])
        np.testing.assert_array_equal(result.preferred_method, [1, 2, 3, -1])
        assert result.unassigned_products == [3]

    def test_overload_and_idle_flags(self):
        # > 100 % is overloaded (exactly 100 % is not); < 50 % is idle where hours exist.
        result = rough_cut(REQUIREMENT, METHODS, AVAILABLE)
        np.testing.assert_array_equal(result.overloaded, [[0, 1, 0], [0, 1, 0]])
        np.testing.assert_array_equal(result.idle, [[0, 0, 0], [0, 0, 1]])

    def test_overloads_name_the_top_products(self):
        # r0 month 1: product 0 gives 100 of the 130 h (76.9 %), product 1 gives 30 h.
        result = rough_cut(REQUIREMENT, METHODS, AVAILABLE)
        first, second = result.overloads
        assert (first.resource, first.month) == (0, 1)
        assert first.load == pytest.approx(130.0)
        assert [(c.product, c.hours) for c in first.top_products] == [(0, 100.0), (1, 30.0)]
        assert first.top_products[0].share == pytest.approx(100 / 130)
        assert (second.resource, second.month, second.available) == (1, 1, 0.0)
        assert second.utilisation == np.inf
        assert [c.product for c in second.top_products] == [2]

    def test_thresholds_and_top_n_are_parameters(self):
        result = rough_cut(
            REQUIREMENT, METHODS, AVAILABLE, overload_threshold=0.9, idle_threshold=0.55, top_n=1
        )
        np.testing.assert_array_equal(result.overloaded, [[1, 1, 0], [0, 1, 0]])
        np.testing.assert_array_equal(result.idle, [[0, 0, 1], [1, 0, 1]])
        assert all(len(o.top_products) == 1 for o in result.overloads)

    def test_negative_requirement_is_rejected(self):
        with pytest.raises(PlanningInputError) as info:
            rough_cut([[1, -1]], [Method(0, 0, 1.0, 1.0)], [[10, 10]])
        assert (info.value.issues[0].product, info.value.issues[0].month) == (0, 1)


def test_preferred_method_ties_go_to_the_cheaper():
    methods = [Method(0, 0, 1.0, 3.0), Method(0, 1, 1.0, 2.0), Method(1, 0, 1.0, 1.0)]
    np.testing.assert_array_equal(preferred_methods(methods, 3), [1, 2, -1])


class TestCalendar:
    def test_shifts_days_efficiency_and_maintenance(self):
        # Resource 0: 2 shifts x 8 h x 20 days x 0.85 = 272 h, minus 16 h maintenance = 256.
        # Resource 1: 3 shifts x 8 h x 20 days x 0.9 = 432 h, no maintenance.
        # Month 1 has 21 days: 285.6 - 0 and 453.6; resource 0 has 300 h of overhaul in month
        # 2, more than its 272 h, so 0 rather than negative.
        hours = available_hours(
            working_days=[20, 21, 20],
            shifts=[2, 3],
            hours_per_shift=8,
            efficiency=[0.85, 0.9],
            maintenance_hours=[[16, 0, 300], [0, 0, 0]],
        )
        np.testing.assert_allclose(hours, [[256, 285.6, 0], [432, 453.6, 432]])

    def test_one_calendar_for_many_resources(self):
        hours = available_hours([20, 22], n_resources=3)
        np.testing.assert_allclose(hours, [[160, 176]] * 3)

    def test_negative_inputs_are_rejected(self):
        with pytest.raises(PlanningInputError, match="shifts"):
            available_hours([20], shifts=[-1])
