"""Vectorised batch validation: the same row/column reporting as parse_rows, at any size."""

from __future__ import annotations

import numpy as np
import pytest

from sop_demand.history.service import validate_sales
from sop_demand.months import add_months, month_index, month_of_index, months_of_index
from sop_shared.problems import ValidationFailed

PRICES = {"A": 2.0, "B": 3.0}


def _csv(rows: list[str]) -> bytes:
    return ("product,site,month,quantity,revenue\n" + "\n".join(rows) + "\n").encode()


def test_a_large_batch_reports_the_first_hundred_errors_and_the_total() -> None:
    good = [f"A,S{i},2026-01,1," for i in range(5000)]
    bad = [f"B,S{i},2026-01,-1," for i in range(250)]
    with pytest.raises(ValidationFailed) as info:
        validate_sales(_csv(good + bad), "text/csv", PRICES)
    problem = info.value
    assert problem.extra["error_count"] == 250
    assert problem.errors is not None
    assert len(problem.errors) == 100
    assert [e.row for e in problem.errors[:2]] == [5001, 5002]
    assert {e.field for e in problem.errors} == {"quantity"}


def test_errors_are_ordered_by_row_then_column() -> None:
    rows = ["X,S1,2026-1,-1,", "A,S1,2026-01,1,", "A,S1,2026-01,2,"]
    with pytest.raises(ValidationFailed) as info:
        validate_sales(_csv(rows), "text/csv", PRICES)
    got = [(e.row, e.field) for e in info.value.errors or []]
    assert got == [(1, "product"), (1, "month"), (1, "quantity"), (3, "row")]


def test_clean_batch_fills_revenue_from_the_price() -> None:
    frame = validate_sales(_csv(["A,S1,2026-01,4,", "B,S1,2026-01,1,7.5"]), "text/csv", PRICES)
    # A: 4 units × 2.0; B keeps the revenue it was sent
    np.testing.assert_allclose(frame["revenue"].to_numpy(), [8.0, 7.5])
    assert frame["channel"].tolist() == ["", ""]


def test_month_arithmetic() -> None:
    assert month_index("2026-01") - month_index("2025-12") == 1
    assert month_of_index(month_index("2026-12") + 1) == "2027-01"
    assert add_months("2026-03", -3) == "2025-12"
    assert months_of_index(month_index(["2026-11", "2027-02"])).tolist() == ["2026-11", "2027-02"]
