"""Events of forecast runs: one ``partition.requested`` per family, keyed by the family."""

from __future__ import annotations

from sqlmodel import Session

from sop_demand.forecasts.models import ForecastRun
from sop_shared.events.catalog import JobRequestedData
from sop_shared.outbox import publish

PARTITION_REQUESTED = "sop.demand.forecast.partition.requested.v1"
JOB_KIND = "forecast-run"


def partition_requested(session: Session, run: ForecastRun, family: str) -> None:
    """Key = family, so a family always lands on the same Kafka partition (and replica)."""
    publish(
        session,
        domain="demand",
        type=PARTITION_REQUESTED,
        subject=f"{run.id}/{family}",
        key=family,
        cycle=run.cycle,
        data=JobRequestedData(
            job_id=str(run.job_id),
            kind=JOB_KIND,
            partition_key=family,
            params={"run_id": str(run.id), "family": family},
        ),
    )
