"""Accuracy of the frozen forecast by lag and family, and FVA of the plan layers.

Hand-worked case: product A (family F) was forecast at 100 a month in cycle 2026-10 (history
to 2026-09). Actuals turned out Oct 80, Nov 125, Dec 100: errors F - A = +20, -25, 0.
A's history before the forecast rose by 1 a month, so its seasonal-naive in-sample error
(|y_t - y_t-12|) is 12 every month: the MASE scale is 12.
Product B (family G) was forecast at 50 and sold 50 each month.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlmodel import Session

from sop_demand.forecasts.models import ForecastRun, ForecastValue
from sop_demand.months import month_range
from sop_demand.plans.models import DemandPlan, DemandPlanLine
from tests import builders

URL = "/api/v1/forecast-accuracy"
HISTORY = month_range("2023-10", 36)
TARGETS = ["2026-10", "2026-11", "2026-12"]


@pytest.fixture
def frozen(session: Session) -> uuid.UUID:
    builders.product(session, "A", family="F")
    builders.product(session, "B", family="G")
    builders.sales(session, "A", {m: 100.0 + t for t, m in enumerate(HISTORY)})
    builders.sales(session, "B", dict.fromkeys(HISTORY, 50.0))
    builders.sales(session, "A", dict(zip(TARGETS, [80.0, 125.0, 100.0], strict=True)))
    builders.sales(session, "B", dict.fromkeys(TARGETS, 50.0))
    run = ForecastRun(
        cycle="2026-10",
        history_end="2026-09",
        horizon=3,
        status="succeeded",
        job_id=uuid.uuid4(),
        frozen=True,
        created_by="test",
    )
    session.add(run)
    for product, value in (("A", 100.0), ("B", 50.0)):
        session.add_all(
            ForecastValue(
                run_id=run.id,
                product=product,
                month=m,
                mean=value,
                lo_80=value,
                hi_80=value,
                lo_95=value,
                hi_95=value,
            )
            for m in TARGETS
        )
    # a later, unfrozen run of the same cycle must not be the one measured
    later = ForecastRun(
        cycle="2026-10",
        history_end="2026-09",
        horizon=3,
        status="succeeded",
        job_id=uuid.uuid4(),
        created_by="test",
    )
    session.add(later)
    session.add_all(
        ForecastValue(
            run_id=later.id, product="A", month=m, mean=0, lo_80=0, hi_80=0, lo_95=0, hi_95=0
        )
        for m in TARGETS
    )
    session.commit()
    return run.id


def _rows(client: Any, token: Any, url: str = URL, **params: Any) -> list[dict[str, Any]]:
    response = client.get(url, params=params, headers=token("viewer"))
    assert response.status_code == 200, response.text
    return response.json()["items"]


@pytest.mark.usefixtures("frozen")
class TestAccuracy:
    def test_by_lag_for_one_product(self, client: Any, token: Any) -> None:
        rows = _rows(client, token, by="lag", product="A")
        assert [r["lag"] for r in rows] == [1, 2, 3]
        lag1, lag2, lag3 = rows
        # lag 1: |100 - 80| / 80 = 0.25, bias +20 / 80, MASE 20 / 12
        assert (lag1["wape"], lag1["mape"], lag1["bias"]) == pytest.approx((0.25, 0.25, 0.25))
        assert lag1["mase"] == pytest.approx(20 / 12)
        # lag 2: 25 / 125 = 0.2 under-forecast
        assert (lag2["wape"], lag2["bias"], lag2["mase"]) == pytest.approx((0.2, -0.2, 25 / 12))
        assert (lag3["wape"], lag3["mase"]) == (0.0, 0.0)

    def test_lag_1_is_the_cycle_month(self, client: Any, token: Any) -> None:
        # one meaning of lag everywhere (docs/CONTRACTS.md, cycle's /kpis too): target month
        # minus the last month of actuals; cycle 2026-10 has actuals to 2026-09
        rows = _rows(client, token, by=["lag", "month"], product="A")
        assert [(r["lag"], r["month"]) for r in rows] == [
            (1, "2026-10"),
            (2, "2026-11"),
            (3, "2026-12"),
        ]

    def test_overall_and_by_family(self, client: Any, token: Any) -> None:
        [overall] = _rows(client, token, product="A", by=[])
        assert overall["n"] == 3
        assert overall["wape"] == pytest.approx(45 / 305)
        assert overall["mape"] == pytest.approx((0.25 + 0.2 + 0) / 3)
        assert overall["bias"] == pytest.approx(-5 / 305)
        assert overall["mase"] == pytest.approx((20 + 25 + 0) / 3 / 12)
        families = {r["family"]: r for r in _rows(client, token, by="family")}
        assert families["F"]["wape"] == pytest.approx(45 / 305)
        # B is perfect; its flat history has no MASE scale, so no MASE
        assert (families["G"]["wape"], families["G"]["mase"]) == (0.0, None)

    def test_lags_and_months_filter(self, client: Any, token: Any) -> None:
        rows = _rows(client, token, by=["product", "lag"], lag=[2], month_to="2026-11")
        assert [(r["product"], r["lag"], r["n"]) for r in rows] == [("A", 2, 1), ("B", 2, 1)]

    def test_report_names_the_runs_measured(
        self, client: Any, token: Any, frozen: uuid.UUID
    ) -> None:
        body = client.get(URL, headers=token("viewer")).json()
        assert body["runs"] == [{"cycle": "2026-10", "run_id": str(frozen), "frozen": True}]
        assert body["actuals_through"] == "2026-12"


@pytest.mark.usefixtures("frozen")
def test_forecast_value_added_of_each_layer(
    client: Any, token: Any, session: Session, frozen: uuid.UUID
) -> None:
    plan = DemandPlan(
        cycle="2026-10",
        version_no=1,
        status="submitted",
        forecast_run_id=frozen,
        created_by="test",
    )
    session.add(plan)
    # baseline / after review / consensus; actuals 80, 125, 100
    layers = {"2026-10": (100, 90, 80), "2026-11": (100, 110, 125), "2026-12": (100, 100, 100)}
    session.add_all(
        DemandPlanLine(
            plan_id=plan.id,
            product="A",
            site="S1",
            month=m,
            family="F",
            category="CAT",
            baseline=b,
            adjusted=a,
            quantity=q,
            price=1,
            revenue=q,
        )
        for m, (b, a, q) in layers.items()
    )
    session.commit()
    rows = {
        r["layer"]: r
        for r in _rows(client, token, url=f"{URL}/value-added", by="family", metric="wape")
    }
    # baseline WAPE 45/305; review |90-80| + |110-125| = 25 -> 25/305; consensus exact -> 0
    assert rows["review"]["baseline_error"] == pytest.approx(45 / 305)
    assert rows["review"]["layer_error"] == pytest.approx(25 / 305)
    assert rows["review"]["fva"] == pytest.approx(20 / 305)
    assert rows["consensus"]["layer_error"] == 0.0
    assert rows["consensus"]["fva"] == pytest.approx(45 / 305)
    assert rows["consensus"]["family"] == "F"


def test_nothing_to_measure_is_an_empty_report(client: Any, token: Any) -> None:
    body = client.get(URL, headers=token("viewer")).json()
    assert (body["items"], body["runs"], body["actuals_through"]) == ([], [], None)
