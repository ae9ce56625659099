"""The forecast error each demand plan line carries for supply's statistical safety stock.

A forecast run whose 80 % prediction intervals are known (written as stored rows, so the
interval is ours, not a model's), a product sold 3:1 at two sites and an NPI planned from it:

  A, 2026-10: mean 40, 80 % interval 40 ± 12.815516  -> σ = 25.631032 / (2 × 1.2815516) = 10
  A, 2026-11: mean 40, 80 % interval 40 ± 25.631032  -> σ = 20
  site share of A: S1 30 / 40 = 0.75, S2 10 / 40 = 0.25
  -> σ at S1 = 7.5 and 15, at S2 = 2.5 and 5; the NPI N (planned from its analog A) has none.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import pytest
from sqlmodel import Session

from sop_demand.forecasts.models import ForecastRun, ForecastValue
from sop_demand.months import month_range
from tests import builders

PLANS = "/api/v1/demand-plans"
Z_80 = 1.2815516


@pytest.fixture
def run_id(session: Session) -> str:
    builders.product(session, "A", family="F", price=10.0)
    builders.product(
        session,
        "N",
        family="F",
        price=10.0,
        lifecycle="npi",
        analog_code="A",
        scaling_factor=1.0,
        launch_date=date(2026, 10, 1),
    )
    history = month_range("2025-10", 12)  # up to 2026-09
    builders.sales(session, "A", dict.fromkeys(history, 30.0), site="S1")
    builders.sales(session, "A", dict.fromkeys(history, 10.0), site="S2")
    run = ForecastRun(
        cycle="2026-10",
        history_end="2026-09",
        horizon=2,
        status="succeeded",
        job_id=uuid.uuid4(),
        created_by="test",
    )
    session.add(run)
    for product, month, half_width in (
        ("A", "2026-10", 10 * Z_80),
        ("A", "2026-11", 20 * Z_80),
        ("N", "2026-10", 50 * Z_80),  # its own interval does not count: it follows A
        ("N", "2026-11", 50 * Z_80),
    ):
        session.add(
            ForecastValue(
                run_id=run.id,
                product=product,
                month=month,
                mean=40.0,
                lo_80=40.0 - half_width,
                hi_80=40.0 + half_width,
                lo_95=0.0,
                hi_95=100.0,
            )
        )
    session.commit()
    return str(run.id)


def _sigma(client: Any, token: Any, plan_id: str) -> dict[tuple[str, str, str], Any]:
    page = client.get(f"{PLANS}/{plan_id}/lines", headers=token("viewer")).json()
    return {(i["product"], i["site"], i["month"]): i["forecast_sigma"] for i in page["items"]}


def test_sigma_from_the_80_percent_interval_split_by_site_share(
    client: Any, token: Any, run_id: str
) -> None:
    created = client.post(
        PLANS,
        json={"cycle": "2026-10", "forecast_run_id": run_id},
        headers=token("demand_planner"),
    )
    assert created.status_code == 201, created.text
    plan = created.json()
    sigma = _sigma(client, token, plan["id"])
    assert sigma == {
        ("A", "S1", "2026-10"): pytest.approx(7.5),
        ("A", "S1", "2026-11"): pytest.approx(15.0),
        ("A", "S2", "2026-10"): pytest.approx(2.5),
        ("A", "S2", "2026-11"): pytest.approx(5.0),
        # N borrows A's site mix and volume, not a statistical forecast of its own
        ("N", "S1", "2026-10"): None,
        ("N", "S1", "2026-11"): None,
        ("N", "S2", "2026-10"): None,
        ("N", "S2", "2026-11"): None,
    }

    # a planner's override changes the quantity, not the statistical forecast's error
    changed = client.post(
        f"{PLANS}/{plan['id']}/overrides",
        json={"reason": "tender", "items": [{"node": "A", "month": "2026-10", "quantity": 80}]},
        headers={**token("demand_planner"), "If-Match": '"1"'},
    )
    assert changed.status_code == 200, changed.text
    assert _sigma(client, token, plan["id"]) == sigma

    # the CSV stream (what supply reads) carries it; null is an empty cell
    text = client.get(
        f"{PLANS}/{plan['id']}/lines",
        params={"format": "csv", "month": "2026-10"},
        headers=token("integration"),
    ).text.splitlines()
    assert text[0].split(",")[-1] == "forecast_sigma"
    cells = {tuple(r.split(",")[i] for i in (0, 2)): r.split(",")[-1] for r in text[1:]}
    assert float(cells[("A", "S1")]) == pytest.approx(7.5)
    assert cells[("N", "S1")] == ""

    # a new version based on this one (after submit) copies σ with the lines
    submitted = client.post(
        f"{PLANS}/{plan['id']}/submit", headers={**token("demand_planner"), "If-Match": '"2"'}
    )
    assert submitted.status_code == 200, submitted.text
    second = client.post(
        PLANS,
        json={"cycle": "2026-10", "based_on": plan["id"]},
        headers=token("demand_planner"),
    ).json()
    assert _sigma(client, token, second["id"]) == sigma
