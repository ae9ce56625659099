"""The event a job that failed for good publishes (``sop.<service>.job.failed.v1``)."""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel import Session

from sop_shared.events.catalog import JobFailedData
from sop_shared.jobs.models import Job
from sop_shared.outbox.writer import publish


def job_failed_type(domain: str) -> str:
    return f"sop.{domain}.job.failed.v1"


def job_failed_publisher(domain: str) -> Callable[[Session, Job], None]:
    """``on_failed`` for a ``JobRunner``: the event goes out with the job's failed state."""

    def publish_failed(session: Session, job: Job) -> None:
        params = job.params or {}
        cycle, scenario = params.get("cycle"), params.get("scenario")
        publish(
            session,
            domain=domain,
            type=job_failed_type(domain),
            subject=str(job.id),
            data=JobFailedData(
                job_id=str(job.id),
                kind=job.kind,
                error=(job.error or "")[:2000],
                attempts=job.attempts,
                cycle=cycle if isinstance(cycle, str) else None,
                scenario=scenario if isinstance(scenario, str) else None,
            ),
            cycle=cycle if isinstance(cycle, str) else None,
            scenario=scenario if isinstance(scenario, str) else None,
        )

    return publish_failed
