from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Collection
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from opentelemetry.trace import SpanKind
from sqlalchemy import or_, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from sop_shared.db import transaction
from sop_shared.jobs.models import Job, JobState
from sop_shared.metrics import JOBS
from sop_shared.problems import NotFound
from sop_shared.tracing import current_traceparent, span

log = logging.getLogger("sop.jobs")

#: ``work(engine, job_id, report)`` returns the job's result; ``report(done, total, message)``.
Work = Callable[[Engine, uuid.UUID, Callable[[float, str | None], None]], dict[str, Any] | None]


def create_job(
    session: Session, *, kind: str, params: dict[str, Any], created_by: str, total_parts: int = 1
) -> Job:
    job = Job(
        kind=kind,
        params=params,
        created_by=created_by,
        total_parts=max(total_parts, 1),
        traceparent=current_traceparent(),
    )
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


#: ``on_failed(session, job)``: called in the transaction that fails a job for good (to
#: publish an event with it); the job row already says ``failed`` and why.
OnFailed = Callable[[Session, Job], None]


def recover_interrupted(
    engine: Engine,
    service: str,
    *,
    stale_after: float = 60.0,
    max_attempts: int = 3,
    on_failed: OnFailed | None = None,
) -> int:
    """Re-queue single-part jobs left running by a runner that stopped beating (killed, lost);
    one cut off ``max_attempts`` times is failed instead, with ``on_failed`` in the same
    transaction. Returns how many jobs were recovered either way.

    Run at start-up and periodically by every runner. A job of a live replica keeps a fresh
    heartbeat and is left alone, so replicas sharing a database do not take each other's
    work. Queued jobs are kept: the poller starts them, so work requested before a crash
    still runs. (Clocks of replicas are assumed in sync, as NTP keeps them.)
    """
    cutoff = datetime.now(UTC) - timedelta(seconds=stale_after)
    requeued = failed = 0
    with transaction(engine) as session:
        stale = session.exec(
            select(Job)
            .where(
                col(Job.state) == JobState.running,
                col(Job.total_parts) == 1,
                or_(col(Job.heartbeat_at).is_(None), col(Job.heartbeat_at) < cutoff),
            )
            .with_for_update(skip_locked=True)
        ).all()
        for job in stale:
            if job.attempts < max_attempts:
                job.state, job.owner, job.heartbeat_at = JobState.queued, None, None
                job.message = (
                    f"re-queued: attempt {job.attempts} of {max_attempts} was interrupted "
                    "(the service stopped while the job ran)"
                )
                requeued += 1
            else:
                job.state, job.finished_at = JobState.failed, datetime.now(UTC)
                job.error = (
                    f"interrupted: the service stopped while the job ran, {job.attempts} "
                    f"time(s) of {max_attempts}"
                )
                failed += 1
            session.add(job)
            if job.state == JobState.failed:
                session.flush()
                JOBS.labels(service, job.kind, "failed").inc()
                if on_failed is not None:
                    on_failed(session, job)
    if requeued or failed:
        log.warning(
            "%s: %s interrupted job(s) re-queued, %s failed after %s attempts",
            service,
            requeued,
            failed,
            max_attempts,
        )
    return requeued + failed


def finish_in(session: Session, job_id: uuid.UUID, result: dict[str, Any]) -> None:
    """Mark a job succeeded inside the transaction that writes its outcome, so a crash
    between that commit and the runner's own bookkeeping never runs the job again."""
    session.exec(  # type: ignore[call-overload]
        update(Job)
        .where(col(Job.id) == job_id)
        .values(
            state=JobState.succeeded, progress=1.0, result=result, finished_at=datetime.now(UTC)
        )
    )


def claim(engine: Engine, job_id: uuid.UUID, owner: str) -> bool:
    """Atomically move a queued job to running; False if another worker or replica got it."""
    now = datetime.now(UTC)
    with transaction(engine) as session:
        result = session.exec(  # type: ignore[call-overload]
            update(Job)
            .where(col(Job.id) == job_id, col(Job.state) == JobState.queued)
            .values(
                state=JobState.running,
                started_at=now,
                owner=owner,
                heartbeat_at=now,
                attempts=Job.attempts + 1,
            )
        )
        return bool(result.rowcount)


def beat(engine: Engine, owner: str, job_ids: Collection[uuid.UUID]) -> None:
    """Refresh the heartbeat of the jobs this runner is running."""
    if not job_ids:
        return
    with transaction(engine) as session:
        session.exec(  # type: ignore[call-overload]
            update(Job)
            .where(
                col(Job.id).in_(list(job_ids)),
                col(Job.owner) == owner,
                col(Job.state) == JobState.running,
            )
            .values(heartbeat_at=datetime.now(UTC))
        )


class JobRunner:
    """Runs job work in a small thread pool, recording state, progress and result.

    ``handlers`` map a job kind to its work; queued jobs of those kinds are picked
    up by ``poll_forever`` (after the transaction that created them commits), so a
    request or an event handler only writes the job row and returns.
    """

    def __init__(
        self,
        engine: Engine,
        service: str,
        workers: int = 2,
        handlers: dict[str, Work] | None = None,
        stale_after: float = 60.0,
        max_attempts: int = 3,
        on_failed: OnFailed | None = None,
    ) -> None:
        self.engine = engine
        self.max_attempts = max_attempts
        self.on_failed = on_failed
        self.service = service
        self.handlers = dict(handlers or {})
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.stale_after = stale_after
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"{service}-job")
        self._inflight: set[uuid.UUID] = set()

    def poll_once(self) -> int:
        """Start every queued job this process knows how to run; returns how many started."""
        if not self.handlers:
            return 0
        with Session(self.engine) as session:
            queued = session.exec(
                select(Job.id, Job.kind, Job.traceparent)
                .where(col(Job.state) == JobState.queued, col(Job.kind).in_(list(self.handlers)))
                .order_by(col(Job.created_at))
                .limit(20)
            ).all()
        started = 0
        for job_id, kind, traceparent in queued:
            if job_id in self._inflight or not claim(self.engine, job_id, self.owner):
                continue
            self._inflight.add(job_id)  # beaten while it waits for a pool thread, too
            self.pool.submit(
                self.run, job_id, kind, self.handlers[kind], claimed=True, traceparent=traceparent
            )
            started += 1
        return started

    def recover(self) -> int:
        """Re-queue (or finally fail) the jobs whose runner stopped beating."""
        return recover_interrupted(
            self.engine,
            self.service,
            stale_after=self.stale_after,
            max_attempts=self.max_attempts,
            on_failed=self.on_failed,
        )

    def poll_forever(self, stop: threading.Event, interval: float = 0.25) -> None:
        """Start queued jobs; every quarter of ``stale_after`` beat for the running ones and
        fail those whose runner (here or on another replica) stopped beating."""
        every = self.stale_after / 4
        last_beat = time.monotonic()
        while not stop.is_set():
            try:
                self.poll_once()
                if time.monotonic() - last_beat >= every:
                    last_beat = time.monotonic()
                    beat(self.engine, self.owner, set(self._inflight))
                    self.recover()
            except Exception:
                log.exception("job poller error")
            stop.wait(interval)

    def run(
        self,
        job_id: uuid.UUID,
        kind: str,
        work: Work,
        *,
        claimed: bool = False,
        traceparent: str | None = None,
    ) -> None:
        with span(
            f"job {kind}",
            traceparent=traceparent,
            kind=SpanKind.INTERNAL,
            attributes={"sop.job.id": str(job_id), "sop.job.kind": kind},
        ):
            try:
                self._run(job_id, kind, work, claimed=claimed)
            finally:  # no longer beaten, however it ended
                self._inflight.discard(job_id)

    def _run(self, job_id: uuid.UUID, kind: str, work: Work, *, claimed: bool) -> None:
        if not claimed:
            now = datetime.now(UTC)
            _set(
                self.engine,
                job_id,
                state=JobState.running,
                started_at=now,
                owner=self.owner,
                heartbeat_at=now,
                attempts=Job.attempts + 1,
            )
            self._inflight.add(job_id)

        def report(progress: float, message: str | None = None) -> None:
            _set(self.engine, job_id, progress=max(0.0, min(progress, 1.0)), message=message)

        try:
            result = work(self.engine, job_id, report)
        except Exception as exc:
            log.exception("job %s (%s) failed", job_id, kind, extra={"job_id": str(job_id)})
            with transaction(self.engine) as session:
                job = session.get(Job, job_id)
                if job is not None:
                    job.state, job.finished_at = JobState.failed, datetime.now(UTC)
                    job.error = str(exc)[:4000]
                    session.add(job)
                    session.flush()
                    if self.on_failed is not None:
                        self.on_failed(session, job)
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
