"""The plan built around the engine: defaults, horizon, opening stock and a three-level BOM."""

from __future__ import annotations

import pandas as pd
import pytest
from numpy.testing import assert_allclose

from sop_supply.plans.compute import PlanData, PlanInputError, compute_plan
from sop_supply.plans.service import ITEM_SITE_COLUMNS


def empty(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame([], columns=columns)


def data(**frames: pd.DataFrame) -> PlanData:
    base = {
        "item_sites": empty(ITEM_SITE_COLUMNS),
        "products": empty(["code", "family", "cost"]),
        "materials": empty(["code", "family", "unit_cost"]),
        "inventory": empty(["product", "site", "month", "on_hand", "in_transit", "quality_hold"]),
        "open_supply": empty(["product", "site", "due_month", "quantity"]),
        "bom": empty(["product", "material", "qty_per"]),
        "contracts": empty(
            [
                "code",
                "supplier",
                "material",
                "period_start",
                "period_end",
                "min_volume",
                "max_volume",
                "price",
            ]
        ),
    }
    return PlanData(**{**base, **frames})


def demand(*lines: tuple[str, str, str, float]) -> pd.DataFrame:
    return pd.DataFrame(lines, columns=["product", "site", "month", "quantity"])


def test_without_master_data_item_sites_get_defaults_and_gaps_in_months_are_filled() -> None:
    outcome = compute_plan(demand(("A", "S", "2027-01", 5.0), ("A", "S", "2027-03", 7.0)), data())
    assert outcome.months == ["2027-01", "2027-02", "2027-03"]
    assert outcome.items[["make_or_buy", "family", "unit_cost"]].to_dict("records") == [
        {"make_or_buy": "buy", "family": "UNCLASSIFIED", "unit_cost": 0.0}
    ]
    assert_allclose(outcome.measures["planned_receipts"], [[5, 0, 7]])
    assert outcome.counts["item_sites_without_parameters"] == 1
    assert outcome.counts["item_sites_without_inventory"] == 1


def test_no_lines_is_refused() -> None:
    with pytest.raises(PlanInputError, match="no lines"):
        compute_plan(demand(), data())


def test_opening_stock_is_the_latest_snapshot_before_the_horizon() -> None:
    inventory = pd.DataFrame(
        [
            ("A", "S", "2026-11", 100.0, 0.0, 0.0),
            ("A", "S", "2026-12", 40.0, 5.0, 10.0),
            ("A", "S", "2027-01", 999.0, 0.0, 0.0),
        ],
        columns=["product", "site", "month", "on_hand", "in_transit", "quality_hold"],
    )
    outcome = compute_plan(demand(("A", "S", "2027-01", 10.0)), data(inventory=inventory))
    # December: 40 on hand - 10 on hold + 5 in transit; January's snapshot is the month planned
    assert_allclose(outcome.measures["opening"], [[35]])


def test_three_level_bill_explodes_level_by_level_at_the_same_site() -> None:
    # FG (make) <- 2 SUB (make) <- 3 RM (buy), no stock, no lead time; a second site has no demand
    bom = pd.DataFrame(
        [("FG", "SUB", 2.0), ("SUB", "RM", 3.0)], columns=["product", "material", "qty_per"]
    )
    outcome = compute_plan(
        demand(("FG", "S1", "2027-01", 10.0), ("FG", "S1", "2027-02", 5.0)), data(bom=bom)
    )
    items = outcome.items.set_index("product")
    assert items.loc[["FG", "SUB", "RM"], "level"].tolist() == [0, 1, 2]
    assert items.loc[["FG", "SUB", "RM"], "make_or_buy"].tolist() == ["make", "make", "buy"]
    gross = dict(zip(outcome.items["product"], outcome.measures["demand"], strict=True))
    assert_allclose(gross["SUB"], [20, 10])
    assert_allclose(gross["RM"], [60, 30])
    assert list(outcome.items["site"]) == ["S1", "S1", "S1"]


def _item_site(product: str, site: str, **params: object) -> dict[str, object]:
    defaults: dict[str, object] = {
        "make_or_buy": "buy",
        "lead_time_months": 0,
        "lead_time_std_months": None,
        "moq": 0.0,
        "lot_multiple": 0.0,
        "ss_policy": "statistical",
        "ss_value": 0.0,
        "service_level": 0.95,
        "max_stock": None,
        "unit_cost": None,
        "holding_cost_rate": 0.2,
        "shelf_life_months": None,
    }
    return {"product": product, "site": site, **defaults, **params}


def test_statistical_sigma_is_the_planners_else_the_demand_lines_first_month() -> None:
    # SS = z(95 %) · √(L + R) · σ with z = 1.644854, R = 1 month (σ_L = 0)
    items = pd.DataFrame(
        [
            _item_site("STAT", "S1", lead_time_months=2),  # σ from demand: its first month, 30
            _item_site("STAT", "S2", lead_time_months=2),  # that line has no σ: SS 0
            _item_site("OWN", "S1", lead_time_months=2, ss_value=20.0),  # the planner's 20 wins
            _item_site("LATE", "S1"),  # its first line is in 2027-02: σ 12
            _item_site("FIX", "S1", ss_policy="fixed", ss_value=7.0),  # not statistical
        ],
        columns=ITEM_SITE_COLUMNS,
    )
    lines = pd.DataFrame(
        [
            # rows out of month order: the first *month* counts, not the first row
            ("STAT", "S1", "2027-02", 100.0, 40.0),
            ("STAT", "S1", "2027-01", 100.0, 30.0),
            ("STAT", "S1", "2027-03", 100.0, 50.0),
            ("STAT", "S2", "2027-01", 100.0, None),
            ("STAT", "S2", "2027-02", 100.0, 45.0),
            ("OWN", "S1", "2027-01", 100.0, 30.0),
            ("LATE", "S1", "2027-03", 50.0, 99.0),
            ("LATE", "S1", "2027-02", 50.0, 12.0),
            ("FIX", "S1", "2027-01", 10.0, 80.0),
        ],
        columns=["product", "site", "month", "quantity", "forecast_sigma"],
    )
    outcome = compute_plan(lines, data(item_sites=items))
    safety = dict(
        zip(
            zip(outcome.items["product"], outcome.items["site"], strict=True),
            outcome.measures["safety_stock"][:, 0],
            strict=True,
        )
    )
    assert safety[("STAT", "S1")] == pytest.approx(1.644854 * 3**0.5 * 30, rel=1e-6)  # 85.47
    assert safety[("STAT", "S2")] == 0.0
    assert safety[("OWN", "S1")] == pytest.approx(1.644854 * 3**0.5 * 20, rel=1e-6)  # 56.98
    assert safety[("LATE", "S1")] == pytest.approx(1.644854 * 12, rel=1e-6)  # 19.74
    assert safety[("FIX", "S1")] == 7.0
    assert outcome.counts["statistical_without_sigma"] == 1
    sigma = dict(
        zip(
            outcome.items["product"] + "@" + outcome.items["site"],
            outcome.items["forecast_sigma"],
            strict=True,
        )
    )
    assert (sigma["STAT@S1"], sigma["LATE@S1"], sigma["FIX@S1"]) == (30.0, 12.0, 80.0)

    # demand lines without the column (an older demand service): σ only from ss_value
    # (rows in product, site order: FIX, LATE, OWN, STAT@S1, STAT@S2)
    without = compute_plan(lines.drop(columns="forecast_sigma"), data(item_sites=items))
    assert without.measures["safety_stock"][:, 0].tolist() == pytest.approx(
        [7.0, 0.0, 1.644854 * 3**0.5 * 20, 0.0, 0.0], rel=1e-6
    )
    assert without.counts["statistical_without_sigma"] == 3


def test_the_review_period_is_the_item_sites_and_one_month_by_default() -> None:
    # SS = z(95 %) · √(L + R) · σ with σ = 20 (the planner's), L = 2 months:
    # R unset -> 1 (√3, as before); R = 0 (reviewed continuously) -> √2; R = 3 (quarterly) -> √5.
    items = pd.DataFrame(
        [
            _item_site("MONTHLY", "S1", lead_time_months=2, ss_value=20.0),
            _item_site("CONT", "S1", lead_time_months=2, ss_value=20.0, review_period_months=0),
            _item_site("QUART", "S1", lead_time_months=2, ss_value=20.0, review_period_months=3),
        ],
        columns=ITEM_SITE_COLUMNS,
    )
    lines = demand(*[(p, "S1", "2027-01", 100.0) for p in ("MONTHLY", "CONT", "QUART")])
    outcome = compute_plan(lines, data(item_sites=items))
    safety = dict(
        zip(outcome.items["product"], outcome.measures["safety_stock"][:, 0], strict=True)
    )
    assert safety["MONTHLY"] == pytest.approx(1.644854 * 3**0.5 * 20, rel=1e-6)
    assert safety["CONT"] == pytest.approx(1.644854 * 2**0.5 * 20, rel=1e-6)
    assert safety["QUART"] == pytest.approx(1.644854 * 5**0.5 * 20, rel=1e-6)


def test_planned_quantities_are_lots_in_whole_units_and_noise_is_zero() -> None:
    # A buys in whole units (no multiple): 10.4 -> 11 (0.6 left), 0.3 -> nothing (covered),
    # 2.35 -> 3 (0.3 left over: needs 2.05 more). B: multiple 24, minimum 100.
    # C: demand 1/3 three times, opening stock 1: exactly used up, closing 0 (not 1e-16).
    items = pd.DataFrame(
        [_item_site("B", "S1", ss_policy="fixed", moq=100.0, lot_multiple=24.0)],
        columns=ITEM_SITE_COLUMNS,
    )
    inventory = pd.DataFrame(
        [("C", "S1", "2026-12", 1.0, 0.0, 0.0)],
        columns=["product", "site", "month", "on_hand", "in_transit", "quality_hold"],
    )
    lines = demand(
        ("A", "S1", "2027-01", 10.4),
        ("A", "S1", "2027-02", 0.3),
        ("A", "S1", "2027-03", 2.35),
        ("B", "S1", "2027-01", 30.0),
        ("B", "S1", "2027-02", 90.0),
        ("B", "S1", "2027-03", 50.0),
        *[("C", "S1", m, 1 / 3) for m in ("2027-01", "2027-02", "2027-03")],
    )
    outcome = compute_plan(lines, data(item_sites=items, inventory=inventory))
    receipts = dict(
        zip(outcome.items["product"], outcome.measures["planned_receipts"], strict=True)
    )
    assert receipts["A"].tolist() == [11, 0, 3]
    # B: 30 -> 120 (the minimum 100 in whole lots of 24; 90 left); 90 - 90 = 0 -> nothing;
    # 50 -> 120.
    assert receipts["B"].tolist() == [120, 0, 120]
    assert receipts["C"].tolist() == [0, 0, 0]
    closing = dict(zip(outcome.items["product"], outcome.measures["closing"], strict=True))
    assert closing["C"][-1] == 0.0
    for measure in outcome.measures.values():
        finite = measure[abs(measure) < float("inf")]
        assert not ((finite != 0) & (abs(finite) < 1e-6)).any()


CONTRACT_COLUMNS = [
    "code",
    "supplier",
    "material",
    "period_start",
    "period_end",
    "min_volume",
    "max_volume",
    "price",
]


def test_a_partial_period_is_reported_apart_not_as_a_shortfall() -> None:
    # RM bought (lead time 0), no demand: nothing bought in the 3-month horizon Jan-Mar.
    # Contract C: Jan-Dec (12 months), min 10, max 100, price 4. Only 3 of its 12 months are
    # planned, so the 10 not yet bought may still be bought Apr-Dec: partial, not judged.
    # Its uncovered minimum 10 x 4 = 40 is reported apart; the shortfall total stays 0.
    items = pd.DataFrame([_item_site("RM", "S", ss_policy="fixed")], columns=ITEM_SITE_COLUMNS)
    contracts = pd.DataFrame(
        [("C", "SUP", "RM", "2027-01", "2027-12", 10.0, 100.0, 4.0)], columns=CONTRACT_COLUMNS
    )
    outcome = compute_plan(
        demand(("A", "S", "2027-01", 1.0), ("A", "S", "2027-03", 1.0)),
        data(item_sites=items, contracts=contracts),
    )
    [row] = outcome.contracts.to_dict("records")
    assert (row["months_in_period"], row["months_in_horizon"], row["planned_volume"]) == (12, 3, 0)
    assert (row["status"], row["shortfall"], row["shortfall_value"]) == ("partial", 10, 40)
    assert outcome.totals["contract_shortfall_value"] == 0
    assert outcome.totals["contract_partial_shortfall_value"] == 40
    assert outcome.counts["contracts_partial"] == 1
    assert outcome.counts["contract_under_use"] == 0
    # the same contract over Jan-Mar only is judged: 10 short, x 4 = 40 in the total
    judged = compute_plan(
        demand(("A", "S", "2027-01", 1.0), ("A", "S", "2027-03", 1.0)),
        data(item_sites=items, contracts=contracts.assign(period_end="2027-03")),
    )
    assert judged.contracts["status"].tolist() == ["under"]
    assert judged.totals["contract_shortfall_value"] == 40
    assert judged.totals["contract_partial_shortfall_value"] == 0
    assert judged.counts["contract_under_use"] == 1


def test_contracts_outside_the_horizon_are_not_reviewed() -> None:
    # Horizon Jan-Mar 2027. C-OLD ran in 2025, C-NEW starts in 2029: neither can be met or
    # missed in this plan (they were "partial" with their whole minimum, 2 x 1000 x 4 = 8000).
    items = pd.DataFrame([_item_site("RM", "S", ss_policy="fixed")], columns=ITEM_SITE_COLUMNS)
    contracts = pd.DataFrame(
        [
            ("C-OLD", "SUP", "RM", "2025-01", "2025-12", 1000.0, 2000.0, 4.0),
            ("C-NEW", "SUP", "RM", "2029-01", "2029-12", 1000.0, 2000.0, 4.0),
            ("C-NOW", "SUP", "RM", "2026-12", "2027-01", 5.0, 50.0, 4.0),
        ],
        columns=CONTRACT_COLUMNS,
    )
    outcome = compute_plan(
        demand(("A", "S", "2027-01", 1.0), ("A", "S", "2027-03", 1.0)),
        data(item_sites=items, contracts=contracts),
    )
    # only C-NOW (Dec 2026-Jan 2027: one month in the horizon, so partial) is reviewed
    assert outcome.contracts["contract"].tolist() == ["C-NOW"]
    assert outcome.counts["contracts_partial"] == 1
    assert outcome.totals["contract_partial_shortfall_value"] == 20  # 5 x 4
    assert outcome.totals["contract_shortfall_value"] == 0


def test_a_contract_on_an_item_nobody_buys_is_marked_not_judged() -> None:
    # FG is made (it has a bill of RM); GHOST has no item-site and no demand, so it is not in
    # the plan at all. Neither can be bought under a contract: no_buy_item, out of the total,
    # no under-use exception. RM (bought for FG: 2 x 5 = 10) under C-RM, min 30, price 1:
    # judged shortfall 20.
    bom = pd.DataFrame([("FG", "RM", 2.0)], columns=["product", "material", "qty_per"])
    contracts = pd.DataFrame(
        [
            ("C-FG", "SUP", "FG", "2027-01", "2027-01", 50.0, 100.0, 2.0),
            ("C-GHOST", "SUP", "GHOST", "2027-01", "2027-01", 5.0, 100.0, 2.0),
            ("C-RM", "SUP", "RM", "2027-01", "2027-01", 30.0, 100.0, 1.0),
        ],
        columns=CONTRACT_COLUMNS,
    )
    outcome = compute_plan(demand(("FG", "S", "2027-01", 5.0)), data(bom=bom, contracts=contracts))
    review = outcome.contracts.set_index("contract")
    assert review["status"].to_dict() == {
        "C-FG": "no_buy_item",
        "C-GHOST": "no_buy_item",
        "C-RM": "under",
    }
    assert review.loc["C-RM", "shortfall_value"] == 20
    assert outcome.totals["contract_shortfall_value"] == 20
    assert outcome.counts["contracts_no_buy_item"] == 2
    assert outcome.exceptions["reference"].dropna().tolist() == ["C-RM"]
