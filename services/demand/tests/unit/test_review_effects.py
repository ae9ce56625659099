"""Product-review effects on the baseline, checked against hand-worked numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sop_demand.review.effects import review

MONTHS = ["2027-01", "2027-02", "2027-03", "2027-04", "2027-05", "2027-06"]


def _product(code: str, **kw: object) -> dict[str, object]:
    row: dict[str, object] = {
        "code": code,
        "family": "F",
        "category": "C",
        "price": 10.0,
        "lifecycle": "active",
        "launch_month": None,
        "eol_month": None,
        "analog_code": None,
        "scaling_factor": 1.0,
        "launch_curve": None,
        "launch_probability": 1.0,
        "rundown_months": 0,
        "successor_code": None,
    }
    row.update(kw)
    return row


def _baseline(series: dict[str, list[float]]) -> pd.DataFrame:
    return pd.DataFrame(
        [(p, m, q) for p, qs in series.items() for m, q in zip(MONTHS, qs, strict=True)],
        columns=["product", "month", "mean"],
    )


def _column(frame: pd.DataFrame, product: str, column: str) -> list[float]:
    return frame.loc[frame["product"] == product, column].round(6).tolist()


PRODUCTS = pd.DataFrame(
    [
        _product("ANA"),
        _product(
            "NEW",
            lifecycle="npi",
            price=20.0,
            launch_month="2027-02",
            analog_code="ANA",
            scaling_factor=0.5,
            launch_curve=[0.2, 0.5, 0.8],
            launch_probability=0.8,
        ),
        _product("OLD", lifecycle="phase_out", eol_month="2027-05", rundown_months=3),
        _product("DEAD", lifecycle="eol"),
    ]
)
BASELINE = _baseline(
    {
        "ANA": [100, 100, 120, 120, 100, 100],
        "OLD": [50, 50, 50, 50, 50, 50],
        "DEAD": [7, 7, 7, 7, 7, 7],
    }
)


def test_npi_follows_its_analog_along_the_launch_curve() -> None:
    out = review(PRODUCTS, BASELINE, MONTHS)
    # if launched: ANA × 0.5 × curve; Jan is before launch; from May the curve has ended (1.0)
    #   Feb 100×0.5×0.2 = 10, Mar 120×0.5×0.5 = 30, Apr 120×0.5×0.8 = 48, May/Jun 100×0.5 = 50
    assert _column(out, "NEW", "npi") == [0, 10, 30, 48, 50, 50]
    # the plan carries the expected volume: × launch probability 0.8
    assert _column(out, "NEW", "adjusted") == [0, 8, 24, 38.4, 40, 40]
    assert _column(out, "NEW", "baseline") == [0] * 6  # no statistical forecast of its own


def test_phase_out_runs_down_to_the_eol_month() -> None:
    out = review(PRODUCTS, BASELINE, MONTHS)
    # EOL 2027-05, 3 months of run-down: Feb 3/4, Mar 2/4, Apr 1/4, none from May
    assert _column(out, "OLD", "adjusted") == [50, 37.5, 25, 12.5, 0, 0]
    assert _column(out, "DEAD", "adjusted") == [0] * 6
    assert _column(out, "ANA", "adjusted") == [100, 100, 120, 120, 100, 100]


def test_promotions_and_price_plans_on_top_of_the_baseline() -> None:
    promotions = pd.DataFrame(
        [
            # +10 % on ANA in Mar-Apr with a 5 % price cut
            ("product", "ANA", "2027-03", "2027-04", 10.0, None, -5.0),
            # another +5 % in April: uplifts add up to +15 %
            ("product", "ANA", "2027-04", "2027-04", 5.0, None, None),
            # 60 extra units for the family in January, split by quantity: ANA 100, OLD 50
            # (NEW is not launched yet and gets nothing) -> +40 and +20
            ("family", "F", "2027-01", "2027-01", None, 60.0, None),
            # a volume promotion after EOL adds nothing
            ("product", "OLD", "2027-06", "2027-06", None, 30.0, None),
        ],
        columns=[
            "level",
            "node",
            "month_from",
            "month_to",
            "uplift_pct",
            "uplift_quantity",
            "price_change_pct",
        ],
    )
    out = review(PRODUCTS, BASELINE, MONTHS, promotions)
    assert _column(out, "ANA", "adjusted") == [140, 100, 132, 138, 100, 100]
    assert _column(out, "OLD", "adjusted") == [70, 37.5, 25, 12.5, 0, 0]
    assert _column(out, "NEW", "adjusted") == [0, 8, 24, 38.4, 40, 40]
    assert _column(out, "ANA", "price") == [10, 10, 9.5, 9.5, 10, 10]
    assert _column(out, "NEW", "price") == [20] * 6


def test_npi_without_launch_date_starts_in_the_first_month() -> None:
    products = pd.DataFrame(
        [_product("ANA"), _product("N2", lifecycle="npi", analog_code="ANA", launch_curve=[0.5])]
    )
    out = review(products, BASELINE, MONTHS)
    assert _column(out, "N2", "adjusted") == [50, 100, 120, 120, 100, 100]


@pytest.mark.parametrize("n_products", [1, 500])
def test_grid_has_one_row_per_product_and_month(n_products: int) -> None:
    products = pd.DataFrame([_product(f"P{i}") for i in range(n_products)])
    baseline = _baseline({f"P{i}": [float(i)] * 6 for i in range(n_products)})
    out = review(products, baseline, MONTHS)
    assert len(out) == n_products * 6
    np.testing.assert_allclose(out["adjusted"].to_numpy(), out["baseline"].to_numpy())


class TestTransferToSuccessor:
    """The transfer rule: the pair (phase-out + successor) plans the successor's pair
    baseline once; the successor gets what its predecessor no longer plans."""

    PRODUCTS = pd.DataFrame(
        [
            # EOL April with one month of run-down: Jan 1, Feb 1, Mar 1/2, none from April
            _product(
                "OLD",
                lifecycle="phase_out",
                eol_month="2027-04",
                rundown_months=1,
                successor_code="NEW",
            ),
            _product("NEW", successor_code=None),
        ]
    )
    # NEW's forecast is made on OLD's history + its own (the pair): 150 a month
    BASELINE = _baseline({"OLD": [100] * 6, "NEW": [150] * 6})

    def test_overlap_months_by_hand(self) -> None:
        out = review(self.PRODUCTS, self.BASELINE, MONTHS)
        # OLD keeps its own forecast × run-down: 100, 100, 100 × 1/2, then nothing
        assert _column(out, "OLD", "adjusted") == [100, 100, 50, 0, 0, 0]
        # NEW: pair 150 minus what OLD still plans: 50, 50, 100, then the whole 150
        assert _column(out, "NEW", "adjusted") == [50, 50, 100, 150, 150, 150]
        # its baseline is its share of the pair baseline: 150 - 100
        assert _column(out, "NEW", "baseline") == [50] * 6
        # the pair plans 150 every month; before the rule it planned 250, 250, 200 in the
        # overlap (OLD's 250 units counted twice)
        pair = out.groupby("month")["adjusted"].sum().tolist()
        assert pair == [150] * 6
        assert out.groupby("month")["baseline"].sum().tolist() == [150] * 6

    def test_a_successor_not_launched_yet_gets_nothing(self) -> None:
        products = self.PRODUCTS.copy()
        products.loc[products["code"] == "NEW", "launch_month"] = "2027-03"
        out = review(products, self.BASELINE, MONTHS)
        assert _column(out, "NEW", "adjusted") == [0, 0, 100, 150, 150, 150]
        assert _column(out, "OLD", "adjusted") == [100, 100, 50, 0, 0, 0]

    def test_a_pair_baseline_below_the_predecessor_floors_at_zero(self) -> None:
        out = review(self.PRODUCTS, _baseline({"OLD": [100] * 6, "NEW": [80] * 6}), MONTHS)
        assert _column(out, "NEW", "adjusted") == [0, 0, 30, 80, 80, 80]
        assert _column(out, "NEW", "baseline") == [0] * 6

    def test_an_npi_successor_from_an_analog_is_not_reduced(self) -> None:
        products = pd.DataFrame(
            [
                _product("ANA"),
                _product("OLD", lifecycle="phase_out", eol_month="2027-03", successor_code="N"),
                _product("N", lifecycle="npi", analog_code="ANA", launch_curve=[1.0]),
            ]
        )
        out = review(products, _baseline({"ANA": [40] * 6, "OLD": [100] * 6}), MONTHS)
        assert _column(out, "N", "adjusted") == [40] * 6
        assert _column(out, "OLD", "adjusted") == [100, 100, 0, 0, 0, 0]

    def test_a_chain_resolves_link_by_link(self) -> None:
        products = pd.DataFrame(
            [
                _product("A", lifecycle="phase_out", eol_month="2027-02", successor_code="B"),
                _product("B", lifecycle="phase_out", eol_month="2027-04", successor_code="C"),
                _product("C"),
            ]
        )
        # A alone 10; B's pair (A + B) 30; C's pair (B + C) 50
        out = review(products, _baseline({"A": [10] * 6, "B": [30] * 6, "C": [50] * 6}), MONTHS)
        assert _column(out, "A", "adjusted") == [10, 0, 0, 0, 0, 0]
        # B: 30 - A's 10 in January, the whole 30 after A's EOL, nothing from its own EOL
        assert _column(out, "B", "adjusted") == [20, 30, 30, 0, 0, 0]
        # C: 50 minus what B (net) still plans
        assert _column(out, "C", "adjusted") == [30, 20, 20, 50, 50, 50]
