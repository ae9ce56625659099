"""Supply-plan engine: netting, lot sizing, lead-time offset, exceptions and BOM explosion."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numpy.testing import assert_allclose, assert_array_equal

from sop_supply.planning.engine import (
    QTY_TOLERANCE,
    Bom,
    BomCycleError,
    PlanningInput,
    explode_bom,
    find_exceptions,
    plan_supply,
    validate_bom,
)


def six_month_buy_item(**overrides: object) -> PlanningInput:
    """One buy item: MOQ 150, multiple 50, lead time 2, SS 40, max stock 120."""
    arrays: dict[str, object] = {
        "demand": [[80.0, 120.0, 150.0, 90.0, 200.0, 60.0]],
        "on_hand": [100.0],
        "scheduled_receipts": [[0.0, 50.0, 0.0, 0.0, 0.0, 0.0]],
        "safety_stock": 40.0,
        "max_stock": 120.0,
        "lead_time": [2],
        "moq": [150.0],
        "lot_multiple": [50.0],
        "is_make": [False],
        "unit_cost": [2.0],
        "holding_cost_rate": [0.24],
    }
    arrays.update(overrides)
    return PlanningInput(**arrays)  # type: ignore[arg-type]


class TestNettingWithLotSizingAndLeadTime:
    # Hand netting (projected = opening + scheduled - demand; net = SS 40 - projected):
    # m0: 100 + 0 - 80 = 20; net 20, but m0 < lead time 2: frozen, no receipt -> close 20
    # m1: 20 + 50 - 120 = -50; net 90, frozen -> close -50 (backorder 50 carried)
    # m2: -50 - 150 = -200; net 240 -> ceil(240/50)*50 = 250 >= MOQ 150 -> 250 -> close 50
    # m3: 50 - 90 = -40; net 80 -> 100, MOQ binds -> 150 -> close 110
    # m4: 110 - 200 = -90; net 130 -> 150 (= MOQ) -> close 60
    # m5: 60 - 60 = 0; net 40 -> 50, MOQ binds -> 150 -> close 150
    # Releases: receipts of m2..m5 offset by 2 months -> m0..m3.

    def test_stock_projection_receipts_and_releases(self) -> None:
        result = plan_supply(six_month_buy_item())

        assert_allclose(result.opening_stock, [[100, 20, -50, 50, 110, 60]])
        assert_allclose(result.planned_receipts, [[0, 0, 250, 150, 150, 150]])
        assert_allclose(result.planned_releases, [[250, 150, 150, 150, 0, 0]])
        assert_allclose(result.closing_stock, [[20, -50, 50, 110, 60, 150]])
        assert_allclose(result.shortage, [[0, 50, 0, 0, 0, 0]])
        assert not result.release_past_due.any()

    def test_stock_measures(self) -> None:
        result = plan_supply(six_month_buy_item())

        # Excess over max stock 120: only m5 (150 - 120).
        assert_allclose(result.excess, [[0, 0, 0, 0, 0, 30]])
        # Value = max(closing, 0) x 2.0; holding = value x 0.24 / 12 = value x 0.02.
        assert_allclose(result.inventory_value, [[40, 0, 100, 220, 120, 300]])
        assert_allclose(result.holding_cost, [[0.8, 0, 2.0, 4.4, 2.4, 6.0]])
        # Days of supply, 3-month forward window, 30.4 days/month:
        # m0: 20 / ((120+150+90)/3/30.4) = 20 / 3.9474 = 5.0667
        # m1: closing < 0 -> 0
        # m3: 110 / ((200+60+60)/3/30.4) = 31.35 (m6 beyond the horizon repeats m5's 60)
        # m5: 150 / (60/30.4) = 76.0 (window entirely extrapolated from m5)
        assert_allclose(result.days_of_supply[0, [0, 1, 3, 5]], [5.066667, 0.0, 31.35, 76.0])

    def test_without_multiple_the_net_requirement_is_ordered_as_is(self) -> None:
        # m2 net 240 with no multiple and MOQ 100 -> 240; closing back at SS 40.
        result = plan_supply(six_month_buy_item(moq=[100.0], lot_multiple=[0.0]))

        assert result.planned_receipts[0, 2] == pytest.approx(240.0)
        assert result.closing_stock[0, 2] == pytest.approx(40.0)


class TestFrozenZone:
    def inputs(self, *, is_make: bool) -> PlanningInput:
        # Lead time 2, no stock, demand 10 a month, no SS, no lot sizing.
        return PlanningInput(
            demand=[[10.0, 10.0, 10.0, 10.0]],
            on_hand=[0.0],
            safety_stock=0.0,
            lead_time=[2],
            is_make=[is_make],
        )

    def test_buy_item_gets_no_receipt_inside_its_lead_time(self) -> None:
        result = plan_supply(self.inputs(is_make=False))

        # m0, m1 frozen: backlog 10, 20; m2 receipt covers backlog 20 + demand 10 = 30.
        assert_allclose(result.planned_receipts, [[0, 0, 30, 10]])
        assert_allclose(result.shortage, [[10, 20, 0, 0]])
        assert_allclose(result.planned_releases, [[30, 10, 0, 0]])
        assert not result.release_past_due.any()

    def test_make_item_is_planned_on_time_with_a_past_due_release(self) -> None:
        result = plan_supply(self.inputs(is_make=True))

        assert_allclose(result.planned_receipts, [[10, 10, 10, 10]])
        assert_allclose(result.shortage, [[0, 0, 0, 0]])
        assert_array_equal(result.release_past_due, [[True, True, False, False]])
        assert_allclose(result.planned_releases, [[10, 10, 0, 0]])
        # The two past-due releases (10 + 10) are due now when they are launched.
        assert_allclose(result.releases_with_past_due(), [[30, 10, 0, 0]])

    def test_frozen_all_also_freezes_make_items(self) -> None:
        result = plan_supply(self.inputs(is_make=True), frozen="all")

        assert_allclose(result.planned_receipts, [[0, 0, 30, 10]])

    def test_frozen_none_plans_buy_items_with_past_due_releases(self) -> None:
        result = plan_supply(self.inputs(is_make=False), frozen="none")

        assert_allclose(result.planned_receipts, [[10, 10, 10, 10]])
        assert_array_equal(result.release_past_due, [[True, True, False, False]])

    def test_unknown_frozen_option_is_rejected(self) -> None:
        with pytest.raises(ValueError, match="frozen"):
            plan_supply(self.inputs(is_make=False), frozen="make")  # type: ignore[arg-type]


class TestConstrainedProduction:
    def test_make_item_receives_the_capacity_plan_and_shows_the_shortage(self) -> None:
        # Row 0 make, lead time 1, on hand 50, demand 100/month, capacity plan 20, 80, 80, 150:
        # m0: 50 + 20 - 100 = -30; m1: -30 + 80 - 100 = -50; m2: -50 + 80 - 100 = -70;
        # m3: -70 + 150 - 100 = -20. Release = receipt 1 month earlier; m0's 20 is past due.
        # Row 1 buy: its constrained row (999s) is ignored and it is netted normally.
        inputs = PlanningInput(
            demand=[[100.0] * 4, [5.0] * 4],
            on_hand=[50.0, 0.0],
            safety_stock=0.0,
            lead_time=[1, 0],
            is_make=[True, False],
            constrained_production=[[20.0, 80.0, 80.0, 150.0], [999.0] * 4],
        )

        result = plan_supply(inputs)

        assert_allclose(result.planned_receipts[0], [20, 80, 80, 150])
        assert_allclose(result.closing_stock[0], [-30, -50, -70, -20])
        assert_allclose(result.shortage[0], [30, 50, 70, 20])
        assert_allclose(result.planned_releases[0], [80, 80, 150, 0])
        assert_array_equal(result.release_past_due[0], [True, False, False, False])
        assert_allclose(result.planned_receipts[1], [5, 5, 5, 5])
        assert_allclose(result.shortage[1], [0, 0, 0, 0])

    def test_nan_cells_are_not_constrained(self) -> None:
        # Row 0 is in the capacity plan (20 a month); row 1 is not (NaN): it is netted as
        # usual (MOQ 60 -> receipts 60, 0, 60 against demand 30 a month, no stock).
        inputs = PlanningInput(
            demand=[[30.0] * 3, [30.0] * 3],
            on_hand=[0.0, 0.0],
            safety_stock=0.0,
            lead_time=[0, 0],
            is_make=[True, True],
            moq=[0.0, 60.0],
            constrained_production=[[20.0] * 3, [np.nan] * 3],
        )

        result = plan_supply(inputs)

        assert_allclose(result.planned_receipts, [[20, 20, 20], [60, 0, 60]])
        assert_allclose(result.shortage[0], [10, 20, 30])
        assert_allclose(result.shortage[1], [0, 0, 0])

    def test_unconstrained_make_item_has_no_shortage(self) -> None:
        # Same make item without the capacity plan: receipts 50, 100, 100, 100.
        inputs = PlanningInput(
            demand=[[100.0] * 4], on_hand=[50.0], safety_stock=0.0, lead_time=[1], is_make=[True]
        )

        result = plan_supply(inputs)

        assert_allclose(result.planned_receipts, [[50, 100, 100, 100]])
        assert_allclose(result.shortage, [[0, 0, 0, 0]])


class TestDaysOfSupply:
    def test_stock_without_forward_demand_is_infinite_and_backlog_is_zero(self) -> None:
        # Row 0: 30 on hand, demand only in m0 (10) -> 20 left, nothing ahead -> inf.
        # Row 1: backlog (closing -10) -> 0 days.
        inputs = PlanningInput(
            demand=[[10.0, 0.0, 0.0], [10.0, 0.0, 0.0]],
            on_hand=[30.0, 0.0],
            safety_stock=0.0,
            lead_time=[0, 3],
            is_make=[False, False],
        )

        result = plan_supply(inputs)

        assert_allclose(result.closing_stock, [[20, 20, 20], [-10, -10, -10]])
        assert np.isinf(result.days_of_supply[0]).all()
        assert_allclose(result.days_of_supply[1], [0, 0, 0])


class TestExceptions:
    def test_six_month_example_exceptions(self) -> None:
        inputs = six_month_buy_item()

        exceptions = find_exceptions(inputs, plan_supply(inputs))

        # m1 backlog 50; m0 closing 20 < SS 40 (gap 20); m5 150 > max 120 (excess 30).
        rows = [tuple(r) for r in exceptions.itertuples(index=False)]
        assert rows == [
            (0, 1, "stockout", 50.0),
            (0, 0, "below_safety_stock", 20.0),
            (0, 5, "above_max", 30.0),
        ]

    def test_stock_beyond_shelf_life_demand_is_at_risk(self) -> None:
        # On hand 500, demand 100/month, no replenishment, shelf life 2 months.
        # Closing 400, 300, 200, 100 vs demand of the next 2 months 200 each month
        # (m4, m5 extrapolated as 100) -> surplus 200 (m0), 100 (m1), 0, -100.
        inputs = PlanningInput(
            demand=[[100.0] * 4, [100.0] * 4],
            on_hand=[500.0, 500.0],
            safety_stock=0.0,
            lead_time=[0, 0],
            is_make=[False, False],
            shelf_life_months=[2.0, np.nan],
        )

        exceptions = find_exceptions(inputs, plan_supply(inputs))

        rows = [tuple(r) for r in exceptions.itertuples(index=False)]
        assert rows == [(0, 0, "shelf_life_at_risk", 200.0), (0, 1, "shelf_life_at_risk", 100.0)]

    def test_a_receipt_whose_release_is_before_month_0_is_past_due(self) -> None:
        # Row 0 make, lead time 2, no stock, demand 10, 0, 30, 10: receipts 10, 0, 30, 10.
        # Releases 2 months earlier: m0's 10 (release m-2) is past due; m1 receipts nothing
        # (no exception for an empty cell); m2's 30 releases in m0, m3's 10 in m1.
        # Row 1 buy, same inputs: frozen inside its lead time, never past due.
        inputs = PlanningInput(
            demand=[[10.0, 0.0, 30.0, 10.0]] * 2,
            on_hand=[0.0, 0.0],
            safety_stock=0.0,
            lead_time=[2, 2],
            is_make=[True, False],
        )

        exceptions = find_exceptions(inputs, plan_supply(inputs))

        past_due = exceptions[exceptions["kind"] == "release_past_due"]
        assert [tuple(r) for r in past_due.itertuples(index=False)] == [
            (0, 0, "release_past_due", 10.0)
        ]

    def test_no_exceptions_gives_an_empty_frame_with_the_columns(self) -> None:
        inputs = PlanningInput(
            demand=[[10.0, 10.0]], on_hand=[20.0], safety_stock=0.0, lead_time=[0], is_make=[0]
        )

        exceptions = find_exceptions(inputs, plan_supply(inputs))

        assert list(exceptions.columns) == ["item", "month", "kind", "size"]
        assert len(exceptions) == 0


class TestBomExplosion:
    def test_two_finished_goods_sharing_one_material(self) -> None:
        # FG A (row 0): 2 x material 0 + 0.5 x material 1; FG B (row 1): 3 x material 0.
        # Row 2 is a buy item with no BOM; material 2 is used by nobody.
        # M0 = 2*A + 3*B = [2*10+3*5, 0+3*5, 2*20+0] = [35, 15, 40]; M1 = 0.5*A = [5, 0, 10].
        releases = np.array([[10.0, 0.0, 20.0], [5.0, 5.0, 0.0], [100.0, 100.0, 100.0]])
        bom = Bom(parent_index=[0, 0, 1], child_index=[0, 1, 0], qty_per=[2.0, 0.5, 3.0])

        gross = explode_bom(releases, bom, n_materials=3)

        assert_allclose(gross, [[35, 15, 40], [5, 0, 10], [0, 0, 0]])

    def test_duplicate_bom_lines_add_up(self) -> None:
        bom = Bom(parent_index=[0, 0], child_index=[0, 0], qty_per=[1.0, 2.0])

        assert_allclose(explode_bom([[4.0, 1.0]], bom, n_materials=1), [[12, 3]])

    def test_component_index_out_of_range_is_rejected(self) -> None:
        bom = Bom(parent_index=[0], child_index=[3], qty_per=[1.0])

        with pytest.raises(ValueError, match="child_index"):
            explode_bom([[1.0]], bom, n_materials=3)


class TestBomValidation:
    def test_cycle_is_named_in_parent_to_child_order(self) -> None:
        edges = [("BIKE", "FRAME"), ("FRAME", "TUBE"), ("TUBE", "WELD"), ("WELD", "FRAME")]

        with pytest.raises(BomCycleError, match="FRAME -> TUBE -> WELD -> FRAME") as exc:
            validate_bom(edges)

        assert exc.value.path == ["FRAME", "TUBE", "WELD", "FRAME"]

    def test_self_loop_is_a_cycle(self) -> None:
        with pytest.raises(BomCycleError) as exc:
            validate_bom([(1, 2), (2, 2)])

        assert exc.value.path == [2, 2]

    def test_acyclic_bom_gets_low_level_codes(self) -> None:
        # 10 -> 20 -> 30 and 10 -> 30 directly, 40 -> 30: 30 sits at its deepest level 2.
        codes = validate_bom([(10, 20), (20, 30), (10, 30), (40, 30)])

        assert codes.to_dict() == {10: 0, 20: 1, 30: 2, 40: 0}


class TestInputValidation:
    @pytest.mark.parametrize(
        ("override", "message"),
        [
            ({"lead_time": [-1]}, "lead_time"),
            ({"lead_time": [1.5]}, "whole months"),
            ({"moq": [-1.0]}, "moq"),
            ({"demand": [[1.0, np.nan, 1.0, 1.0, 1.0, 1.0]]}, "demand"),
            ({"safety_stock": [[1.0, 2.0]]}, "safety_stock"),
            ({"on_hand": [1.0, 2.0]}, "on_hand"),
            ({"is_make": ["B"]}, "is_make"),
            ({"is_make": [2]}, "is_make"),
        ],
    )
    def test_bad_inputs_are_rejected(self, override: dict[str, object], message: str) -> None:
        with pytest.raises(ValueError, match=message):
            six_month_buy_item(**override)


@st.composite
def planning_inputs(draw: st.DrawFn) -> PlanningInput:
    n = draw(st.integers(1, 4))
    t = draw(st.integers(1, 8))
    qty = st.floats(0, 1000, allow_nan=False, allow_infinity=False)
    cells = hnp.arrays(np.float64, (n, t), elements=qty)
    constrained = draw(st.none() | cells)
    return PlanningInput(
        demand=draw(cells),
        on_hand=draw(hnp.arrays(np.float64, n, elements=st.floats(-500, 1000))),
        scheduled_receipts=draw(cells),
        safety_stock=draw(cells),
        lead_time=draw(hnp.arrays(np.int64, n, elements=st.integers(0, 4))),
        moq=draw(hnp.arrays(np.float64, n, elements=qty)),
        lot_multiple=draw(hnp.arrays(np.float64, n, elements=st.sampled_from([0, 1, 5, 12.5]))),
        is_make=draw(hnp.arrays(np.bool_, n)),
        constrained_production=constrained,
    )


@settings(max_examples=200, deadline=None)
@given(inputs=planning_inputs())
def test_stock_balance_and_netting_rules_hold(inputs: PlanningInput) -> None:
    r = plan_supply(inputs)
    lead = np.asarray(inputs.lead_time)[:, None]
    month = np.arange(inputs.t)[None, :]

    # Stock balance per cell and continuity between months.
    balance = r.opening_stock + r.scheduled_receipts + r.planned_receipts - r.demand
    assert_allclose(r.closing_stock, balance, atol=1e-6)
    assert_array_equal(r.opening_stock[:, 0], inputs.on_hand)
    assert_array_equal(r.opening_stock[:, 1:], r.closing_stock[:, :-1])
    assert_array_equal(r.shortage, np.maximum(-r.closing_stock, 0))
    # Every receipt is either released in the horizon or flagged past due, never lost.
    past_due = np.where(r.release_past_due, r.planned_receipts, 0).sum(axis=1)
    assert_allclose(r.planned_releases.sum(axis=1) + past_due, r.planned_receipts.sum(axis=1))

    netted = ~np.asarray(inputs.is_make) | (inputs.constrained_production is None)
    netted_cells = np.broadcast_to(netted[:, None], r.closing_stock.shape)
    buy = ~np.asarray(inputs.is_make)[:, None]
    # Frozen zone: no planned receipt for buy items before their lead time.
    assert (r.planned_receipts[netted_cells & buy & (month < lead)] == 0).all()
    # Outside the frozen zone, netting restores the safety stock.
    free = netted_cells & ~(buy & (month < lead))
    ss = np.asarray(inputs.safety_stock)
    assert (r.closing_stock[free] >= ss[free] - 1e-5).all()
    # Lot sizing: an order is at least the MOQ and a whole number of lot multiples (of whole
    # units without one).
    rows, cols = np.nonzero(netted_cells & (r.planned_receipts > 0))
    lots = r.planned_receipts[rows, cols]
    moq = np.asarray(inputs.moq)[rows]
    multiple = np.asarray(inputs.lot_multiple)[rows]
    assert (lots >= moq - QTY_TOLERANCE).all()
    ratio = lots / np.where(multiple > 0, multiple, 1.0)
    assert np.isclose(ratio, np.round(ratio), rtol=0, atol=1e-6).all()
