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
