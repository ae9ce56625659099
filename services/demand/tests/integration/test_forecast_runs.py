"""Forecast runs: 202 + job, one partition event per family, idempotent partitions."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlmodel import Session, col, func, select

from sop_demand.consumers.handlers import forecast_partition_handler
from sop_demand.forecasts.models import ForecastRun, ForecastTotal, ForecastValue
from sop_demand.forecasts.service import run_locally
from sop_demand.months import month_range
from sop_shared.events import CloudEvent
from sop_shared.jobs import Job
from sop_shared.outbox.models import OutboxEvent
from tests import builders

URL = "/api/v1/forecast-runs"
PARTITION = "sop.demand.forecast.partition.requested.v1"
MONTHS = month_range("2023-10", 36)  # 2023-10 .. 2026-09


@pytest.fixture
def catalogue(session: Session) -> None:
    """Two families; constant histories, so every model forecasts the constant."""
    builders.product(session, "A1", family="FA", category="C1")
    builders.product(session, "A2", family="FA", category="C1")
    builders.product(session, "B1", family="FB", category="C1")
    builders.product(session, "NOHIST", family="FC", category="C2")
    builders.sales(session, "A1", dict.fromkeys(MONTHS, 10.0))
    builders.sales(session, "A2", dict.fromkeys(MONTHS, 30.0))
    builders.sales(session, "B1", dict.fromkeys(MONTHS, 5.0))


def _partition_events(session: Session) -> list[OutboxEvent]:
    rows = session.exec(select(OutboxEvent).order_by(col(OutboxEvent.seq))).all()
    return [r for r in rows if r.event_type == PARTITION]


def _deliver(session: Session, rows: list[OutboxEvent]) -> None:
    handler = forecast_partition_handler(n_jobs=1)
    for row in rows:
        handler(session, CloudEvent.model_validate(row.payload))
    session.commit()


@pytest.mark.usefixtures("catalogue")
class TestForecastRun:
    def test_run_is_a_job_partitioned_by_family(
        self, client: Any, token: Any, session: Session
    ) -> None:
        response = client.post(
            URL, json={"cycle": "2026-10", "horizon": 6}, headers=token("demand_planner")
        )
        assert response.status_code == 202, response.text
        run = response.json()
        assert run["status"] == "queued"
        assert run["history_end"] == "2026-09"
        assert response.headers["Location"] == f"/api/v1/jobs/{run['job_id']}"
        job = client.get(run["job_url"], headers=token("viewer")).json()
        assert (job["state"], job["total_parts"], job["done_parts"]) == ("queued", 2, 0)
        events = _partition_events(session)
        # FC has no history: nothing to forecast, no partition
        assert [(e.key, e.payload["data"]["partition_key"]) for e in events] == [
            ("FA", "FA"),
            ("FB", "FB"),
        ]
        assert events[0].payload["data"]["params"]["run_id"] == run["id"]

        _deliver(session, events[:1])
        job = client.get(run["job_url"], headers=token("viewer")).json()
        assert (job["state"], job["done_parts"], job["progress"]) == ("running", 1, 0.5)
        _deliver(session, events)  # FA again (a redelivery) and FB
        job = client.get(run["job_url"], headers=token("viewer")).json()
        assert (job["state"], job["done_parts"]) == ("succeeded", 2)
        assert job["result"]["series"] == 3

        done = client.get(f"{URL}/{run['id']}", headers=token("viewer")).json()
        assert (done["status"], done["series"], done["families"]) == ("succeeded", 3, 2)
        values = client.get(
            f"{URL}/{run['id']}/forecasts",
            params={"product": "A2", "limit": 10},
            headers=token("viewer"),
        ).json()
        assert [v["month"] for v in values["items"]] == month_range("2026-10", 6)
        # a constant history of 30 is forecast as 30, inside its intervals
        for v in values["items"]:
            assert v["mean"] == pytest.approx(30.0, abs=1e-6)
            assert v["lo_95"] <= v["lo_80"] <= v["mean"] <= v["hi_80"] <= v["hi_95"]
        assert (
            session.exec(
                select(func.count()).where(ForecastValue.run_id == uuid.UUID(run["id"]))
            ).one()
            == 3 * 6
        )  # the redelivered family was stored once

        totals = client.get(
            f"{URL}/{run['id']}/totals", params={"limit": 100}, headers=token("viewer")
        ).json()["items"]
        first = {(t["level"], t["node"]): t["mean"] for t in totals if t["month"] == "2026-10"}
        # family FA = 10 + 30, FB = 5, category C1 = 45: sums of their products
        assert first == pytest.approx(
            {("family", "FA"): 40.0, ("family", "FB"): 5.0, ("category", "C1"): 45.0}
        )
        selections = client.get(f"{URL}/{run['id']}/selections", headers=token("viewer")).json()[
            "items"
        ]
        assert [s["product"] for s in selections] == ["A1", "A2", "B1"]
        assert all(s["model"] and s["demand_class"] == "smooth" for s in selections)

    def test_a_second_run_while_one_is_queued_is_a_conflict(self, client: Any, token: Any) -> None:
        body = {"cycle": "2026-10", "horizon": 6}
        assert client.post(URL, json=body, headers=token("demand_planner")).status_code == 202
        again = client.post(URL, json=body, headers=token("demand_planner"))
        assert again.status_code == 409
        assert again.json()["code"] == "forecast-run-in-progress"

    def test_without_history_nothing_is_started(
        self, client: Any, token: Any, session: Session
    ) -> None:
        response = client.post(
            URL, json={"cycle": "2023-09", "horizon": 6}, headers=token("demand_planner")
        )
        assert response.status_code == 422
        assert response.json()["code"] == "no-history"
        assert session.exec(select(ForecastRun)).all() == []
        assert _partition_events(session) == []

    def test_without_kafka_the_families_run_in_a_local_job(
        self, client: Any, token: Any, session: Session, app_factory: Any
    ) -> None:
        run = client.post(
            URL,
            json={"cycle": "2026-10", "horizon": 3, "families": ["FB"]},
            headers=token("demand_planner"),
        ).json()
        job = session.get(Job, uuid.UUID(run["job_id"]))
        assert job is not None
        assert job.kind == "forecast-run"  # the test app has Kafka enabled: partition events
        job.kind = "forecast-run-local"
        session.commit()
        progress: list[float] = []
        result = run_locally(1)(session.connection(), job.id, lambda p, m=None: progress.append(p))
        assert result == {"run_id": run["id"], "cycle": "2026-10", "series": 1, "families": 1}
        assert progress == [1.0]
        fb = session.exec(
            select(ForecastTotal.mean).where(
                ForecastTotal.run_id == uuid.UUID(run["id"]), ForecastTotal.node == "FB"
            )
        ).all()
        assert fb == pytest.approx([5.0, 5.0, 5.0])


def test_successor_inherits_its_predecessors_history(
    client: Any, token: Any, session: Session
) -> None:
    builders.product(session, "NEWGEN", family="FN")
    builders.product(session, "OLDGEN", family="FO", lifecycle="phase_out", successor_code="NEWGEN")
    builders.sales(session, "OLDGEN", dict.fromkeys(MONTHS[:30], 12.0))
    builders.sales(session, "NEWGEN", dict.fromkeys(MONTHS[30:], 12.0))
    run = client.post(
        URL,
        json={"cycle": "2026-10", "horizon": 2, "families": ["FN"]},
        headers=token("demand_planner"),
    ).json()
    _deliver(session, _partition_events(session))
    selection = client.get(f"{URL}/{run['id']}/selections", headers=token("viewer")).json()
    # 30 months of OLDGEN + 6 of its own = 36 months of 12 per month
    assert selection["items"][0]["n_obs"] == 36
    values = client.get(f"{URL}/{run['id']}/forecasts", headers=token("viewer")).json()["items"]
    assert [round(v["mean"], 6) for v in values] == [12.0, 12.0]


@pytest.mark.usefixtures("catalogue")
def test_a_run_whose_job_died_does_not_block_the_next(
    client: Any, token: Any, session: Session
) -> None:
    body = {"cycle": "2026-10", "horizon": 3}
    first = client.post(URL, json=body, headers=token("demand_planner")).json()
    job = session.get(Job, uuid.UUID(first["job_id"]))
    assert job is not None
    job.state, job.error = "failed", "interrupted: the service stopped while the job ran"
    session.commit()
    second = client.post(URL, json=body, headers=token("demand_planner"))
    assert second.status_code == 202
    old = client.get(f"{URL}/{first['id']}", headers=token("viewer")).json()
    assert (old["status"], old["error"]) == ("failed", job.error)
