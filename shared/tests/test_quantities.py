"""Lot sizing and the noise tolerance every service applies to the quantities it sends."""

from __future__ import annotations

import numpy as np

from sop_shared.quantities import is_lot, lot_size, round_plan, snap


def test_noise_is_zero():
    np.testing.assert_array_equal(snap([4.32e-12, -3e-7, 1e-6, -2.5]), [0, 0, 1e-6, -2.5])


def test_lot_size_whole_units_multiple_and_minimum():
    # No multiple: whole units; 110.37 -> 111; float noise above a whole number adds nothing.
    np.testing.assert_array_equal(
        lot_size([110.37302872212422, 100.0000000001, 5e-7]), [111, 100, 0]
    )
    # Multiple 24, minimum 100: 30 -> 120 (the minimum in whole lots: 5 x 24), 130 -> 144.
    np.testing.assert_array_equal(lot_size([30, 130], minimum=100, multiple=24), [120, 144])
    # Minimum 748 in lots of 50 (the demo's traded items): 750.
    np.testing.assert_array_equal(lot_size([10], minimum=748, multiple=50), [750])
    # A fractional multiple for an item bought by weight.
    np.testing.assert_array_equal(lot_size([0.25], multiple=0.1), [0.3])


def test_round_plan_nets_larger_lots_off_later_months():
    # Row 1: 30, 30, 30, 30 with lots of 50: 50 (20 ahead), 50 (40 ahead), 0 (10 ahead), 50
    # (30 ahead): never later than the plan, 30 over it in all (less than one lot).
    # Row 2: 10.4, 0, 3.2 in whole units, minimum 5: 11, 0, 5.
    plan = np.array([[30.0, 30, 30, 30], [10.4, 0, 3.2, 0]])
    rounded = round_plan(plan, minimum=[0, 5], multiple=[50, 0])
    np.testing.assert_array_equal(rounded, [[50, 50, 0, 50], [11, 0, 5, 0]])
    assert (np.cumsum(rounded, axis=1) >= np.cumsum(plan, axis=1) - 1e-9).all()
    assert is_lot(rounded, np.array([[0], [5]]), np.array([[50], [0]])).all()
    assert not is_lot(np.array([3.5, 40]), 0, np.array([0, 50])).any()


def test_rows_rounded_down_never_run_ahead_of_the_plan() -> None:
    """A row whose material binds: cumulative orders never above the plan's (hand-worked:
    plan 130, 130, 130 in lots of 100 gives 100, 100, 100; minimum 300 waits to month 3)."""
    plan = np.array([[130.0, 130.0, 130.0], [130.0, 130.0, 130.0], [130.0, 130.0, 130.0]])
    out = round_plan(plan, [0.0, 0.0, 300.0], [100.0, 100.0, 100.0], down=[True, False, True])
    assert out.tolist() == [[100.0, 100.0, 100.0], [200.0, 100.0, 100.0], [0.0, 0.0, 300.0]]
    assert (np.cumsum(out[[0, 2]], axis=1) <= np.cumsum(plan[[0, 2]], axis=1) + 1e-9).all()
