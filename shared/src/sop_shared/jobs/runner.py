from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from sop_shared.db import transaction
from sop_shared.jobs.models import Job, JobState
from sop_shared.metrics import JOBS
from sop_shared.problems import NotFound

log = logging.getLogger("sop.jobs")

#: ``work(engine, job_id, report)`` returns the job's result; ``report(done, total, message)``.
Work = Callable[[Engine, uuid.UUID, Callable[[float, str | None], None]], dict[str, Any] | None]


def create_job(
    session: Session, *, kind: str, params: dict[str, Any], created_by: str, total_parts: int = 1
) -> Job:
    job = Job(kind=kind, params=params, created_by=created_by, total_parts=max(total_parts, 1))
    session.add(job)
    session.flush()
    return job


def find_job(session: Session, job_id: uuid.UUID) -> Job:
    job = session.get(Job, job_id)
    if job is None:
        raise NotFound(f"Job {job_id} does not exist.")
    return job


def _set(engine: Engine, job_id: uuid.UUID, **values: Any) -> None:
    with transaction(engine) as session:
        session.exec(update(Job).where(col(Job.id) == job_id).values(**values))  # type: ignore[call-overload]


def complete_part(
    session: Session, job_id: uuid.UUID, *, result: dict[str, Any] | None = None
) -> Job:
    """Count one finished partition (atomic increment); the last one completes the job."""
    session.exec(  # type: ignore[call-overload]
        update(Job)
        .where(col(Job.id) == job_id)
        .values(done_parts=Job.done_parts + 1, state=JobState.running)
    )
    job = session.get(Job, job_id, populate_existing=True)
    assert job is not None
    job.progress = min(job.done_parts / job.total_parts, 1.0)
    if job.done_parts >= job.total_parts:
        job.state = JobState.succeeded
        job.finished_at = datetime.now(UTC)
        job.result = {**(job.result or {}), **(result or {})}
        JOBS.labels("-", job.kind, "succeeded").inc()
    session.add(job)
    return job


def fail_interrupted(engine: Engine, service: str) -> int:
    """At start-up: jobs this service left running or queued were cut off; mark them failed."""
    with transaction(engine) as session:
        result = session.exec(  # type: ignore[call-overload]
            update(Job)
            .where(
                col(Job.state).in_([JobState.running, JobState.queued]), col(Job.total_parts) == 1
            )
            .values(
                state=JobState.failed,
                error="interrupted: the service stopped while the job ran",
                finished_at=datetime.now(UTC),
            )
        )
        count = int(result.rowcount or 0)
    if count:
        log.warning("%s: marked %s interrupted job(s) failed", service, count)
    return count


class JobRunner:
    """Runs job work in a small thread pool, recording state, progress and result."""

    def __init__(self, engine: Engine, service: str, workers: int = 2) -> None:
        self.engine = engine
        self.service = service
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"{service}-job")

    def submit(self, job_id: uuid.UUID, kind: str, work: Work) -> Future[None]:
        return self.pool.submit(self.run, job_id, kind, work)

    def run(self, job_id: uuid.UUID, kind: str, work: Work) -> None:
        _set(self.engine, job_id, state=JobState.running, started_at=datetime.now(UTC))

        def report(progress: float, message: str | None = None) -> None:
            _set(self.engine, job_id, progress=max(0.0, min(progress, 1.0)), message=message)

        try:
            result = work(self.engine, job_id, report)
        except Exception as exc:
            log.exception("job %s (%s) failed", job_id, kind, extra={"job_id": str(job_id)})
            _set(
                self.engine,
                job_id,
                state=JobState.failed,
                error=str(exc)[:4000],
                finished_at=datetime.now(UTC),
            )
            JOBS.labels(self.service, kind, "failed").inc()
            return
        _set(
            self.engine,
            job_id,
            state=JobState.succeeded,
            progress=1.0,
            result=result or {},
            finished_at=datetime.now(UTC),
            done_parts=Job.total_parts,
        )
        JOBS.labels(self.service, kind, "succeeded").inc()

    def shutdown(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
