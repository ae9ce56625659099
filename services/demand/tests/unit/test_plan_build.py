"""Plan arithmetic without a database: site mix, overrides, scenarios, LE."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sop_demand.plans import build


def _products(rows: list[tuple[str, str, str | None, str | None]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["code", "lifecycle", "analog_code", "predecessor"])


def test_site_mix_is_own_sales_else_analog_else_predecessor_else_default() -> None:
    history = pd.DataFrame(
        [("OLD", "S1", 30.0), ("OLD", "S2", 10.0), ("ANA", "S3", 5.0), ("NEW", "S1", 0.0)],
        columns=["product", "site", "quantity"],
    )
    products = _products(
        [
            ("OLD", "phase_out", None, None),
            ("ANA", "active", None, None),
            ("NPI", "npi", "ANA", None),  # no sales: its analog's mix
            ("NEW", "active", None, "OLD"),  # sold nothing yet: its predecessor's mix
            ("LONE", "active", None, None),  # nothing to go by: the default site
        ]
    )
    shares = build.site_shares(history, products, "MAIN")
    got = {(r.product, r.site): r.share for r in shares.itertuples()}
    assert got == {
        ("OLD", "S1"): 0.75,
        ("OLD", "S2"): 0.25,
        ("ANA", "S3"): 1.0,
        ("NPI", "S3"): 1.0,
        ("NEW", "S1"): 0.75,
        ("NEW", "S2"): 0.25,
        ("LONE", "MAIN"): 1.0,
    }


def _lines() -> pd.DataFrame:
    rows = [
        ("P1", "S1", "2027-01", "F", 30.0),
        ("P2", "S1", "2027-01", "F", 45.0),
        ("P2", "S2", "2027-01", "F", 15.0),
        ("P3", "S1", "2027-01", "F", 10.0),
        ("Q1", "S1", "2027-01", "G", 50.0),
    ]
    frame = pd.DataFrame(rows, columns=["product", "site", "month", "family", "adjusted"])
    return frame.assign(baseline=frame["adjusted"], quantity=frame["adjusted"], price=2.0)


def test_family_override_split_in_proportion_to_baseline() -> None:
    lines = _lines()
    index = build.LineIndex(lines)
    quantity = lines["quantity"].to_numpy().copy()
    effect = build.override_effect(
        index,
        quantity,
        lines["adjusted"].to_numpy(),
        level="family",
        node="F",
        month="2027-01",
        site=None,
        new_quantity=120.0,
        change_pct=None,
    )
    assert effect is not None
    # F: 30 + 45 + 15 + 10 = 100 -> 120 is × 1.2 on each line; G untouched
    assert (effect.old, effect.new) == (100.0, 120.0)
    np.testing.assert_allclose(effect.quantities, [36, 54, 18, 12])
    assert effect.rows.tolist() == [0, 1, 2, 3]


def test_product_override_by_percent_on_one_site() -> None:
    lines = _lines()
    effect = build.override_effect(
        build.LineIndex(lines),
        lines["quantity"].to_numpy(),
        lines["adjusted"].to_numpy(),
        level="product",
        node="P2",
        month="2027-01",
        site="S2",
        new_quantity=None,
        change_pct=-20.0,
    )
    assert effect is not None
    assert (effect.rows.tolist(), effect.quantities.tolist()) == ([2], [12.0])
    missing = build.override_effect(
        build.LineIndex(lines),
        lines["quantity"].to_numpy(),
        lines["adjusted"].to_numpy(),
        level="product",
        node="P2",
        month="2027-02",
        site=None,
        new_quantity=1.0,
        change_pct=None,
    )
    assert missing is None


def test_scenario_changes_only_the_named_families() -> None:
    out = build.scenario_lines(_lines(), {"F": 10, "X": 50})
    np.testing.assert_allclose(out["quantity"], [33, 49.5, 16.5, 11, 50])
    np.testing.assert_allclose(out["revenue"], [66, 99, 33, 22, 100])


def test_latest_estimate_actuals_then_plan_against_budget() -> None:
    months = [f"2026-{m:02d}" for m in range(1, 13)]
    actuals = pd.DataFrame(
        {"family": "F", "month": months, "quantity": 100.0, "revenue": 1000.0}
    )  # a full year of actuals: only Jan-Sep may count
    plan = pd.DataFrame({"family": "F", "month": months[9:], "quantity": 120.0, "revenue": 1300.0})
    budget = pd.DataFrame(
        {"family": "F", "month": months, "budget_quantity": 110.0, "budget_revenue": 1200.0}
    )
    rows = build.latest_estimate(actuals, plan, budget, months=months, first_plan_month="2026-10")
    assert rows["source"].tolist() == ["actual"] * 9 + ["plan"] * 3
    totals = build.latest_estimate_totals(rows).set_index("family")
    # LE = 9 × 100 + 3 × 120 = 1,260 vs budget 12 × 110 = 1,320 -> -60 (-4.55 %)
    total = totals.loc["TOTAL"]
    assert (total["le_quantity"], total["budget_quantity"]) == (1260.0, 1320.0)
    assert total["variance_quantity"] == -60.0
    assert total["variance_quantity_pct"] == pytest.approx(-60 / 1320 * 100)
    # revenue: 9 × 1,000 + 3 × 1,300 = 12,900 vs 14,400
    assert (total["le_revenue"], total["variance_revenue"]) == (12900.0, -1500.0)


def test_forecast_sigma_follows_site_share_and_lifecycle_and_is_null_for_an_npi() -> None:
    # σ = (hi_80 − lo_80) / (2 × 1.2815516): a width of 2 × 1.2815516 × 8 is σ 8
    width = 2 * build.Z_80
    intervals = pd.DataFrame(
        {
            "product": ["P", "P", "NPI"],
            "month": ["2027-01", "2027-02", "2027-01"],
            "lo_80": [100.0, 100.0, 0.0],
            "hi_80": [100.0 + 8 * width, 100.0 + 4 * width, 10.0],
        }
    )
    products = pd.DataFrame(
        {"code": ["P", "NPI"], "lifecycle": ["phase_out", "npi"], "analog_code": [None, "P"]}
    )
    sigma = build.forecast_sigma(intervals, products)
    np.testing.assert_allclose(sigma["forecast_sigma"], [8.0, 4.0, np.nan])

    reviewed = pd.DataFrame(
        {
            "product": ["P", "P", "NPI"],
            "month": ["2027-01", "2027-02", "2027-01"],
            "family": "F",
            "category": "C",
            "baseline": [100.0, 100.0, 0.0],
            "adjusted": [100.0, 50.0, 30.0],
            # P runs down to end of life: half the forecast in February
            "life_factor": [1.0, 0.5, 1.0],
            "price": 1.0,
        }
    )
    shares = pd.DataFrame(
        {"product": ["P", "P", "NPI"], "site": ["S1", "S2", "S1"], "share": [0.75, 0.25, 1.0]}
    )
    lines = build.plan_lines(reviewed, shares, sigma)
    got = {(r.product, r.site, r.month): r.forecast_sigma for r in lines.itertuples()}
    # January 8 × 0.75 = 6 and 8 × 0.25 = 2; February 4 × share × life 0.5 = 1.5 and 0.5
    assert got[("P", "S1", "2027-01")] == pytest.approx(6.0)
    assert got[("P", "S2", "2027-01")] == pytest.approx(2.0)
    assert got[("P", "S1", "2027-02")] == pytest.approx(1.5)
    assert got[("P", "S2", "2027-02")] == pytest.approx(0.5)
    assert np.isnan(got[("NPI", "S1", "2027-01")])
    # without intervals every σ is missing
    assert build.plan_lines(reviewed, shares)["forecast_sigma"].isna().all()
