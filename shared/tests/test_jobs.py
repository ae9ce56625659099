"""Jobs cut off by a crash are re-queued (a bounded number of times, then failed with an
event); jobs of a live runner (any replica) are never touched."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from sop_shared.db import make_engine, transaction
from sop_shared.jobs import JobRunner, create_job, recover_interrupted
from sop_shared.jobs.models import Job
from sop_shared.jobs.runner import beat, claim


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    eng = make_engine(f"sqlite:///{tmp_path / 'jobs.db'}")
    Job.__table__.create(eng)  # type: ignore[attr-defined]  # the table alone, no service
    yield eng
    eng.dispose()


def _queued(engine: Engine, kind: str = "plan") -> uuid.UUID:
    with transaction(engine) as session:
        return create_job(session, kind=kind, params={}, created_by="t").id


def _job(engine: Engine, job_id: uuid.UUID) -> Job:
    with Session(engine) as session:
        job = session.get(Job, job_id)
        assert job is not None
        return job


def test_a_live_replicas_job_survives_another_replicas_start_up(engine: Engine) -> None:
    """Replica B starting (or sweeping) must not fail what replica A is running. Checked that
    it can fail: the former start-up rule (every running job) failed it."""
    job_id = _queued(engine)
    assert claim(engine, job_id, "replica-a")
    assert recover_interrupted(engine, "svc", stale_after=60) == 0
    assert _job(engine, job_id).state == "running"


def _stale(engine: Engine, *job_ids: uuid.UUID) -> None:
    old = datetime.now(UTC) - timedelta(seconds=120)
    with transaction(engine) as session:
        session.exec(update(Job).where(col(Job.id).in_(job_ids)).values(heartbeat_at=old))  # type: ignore[call-overload]


def test_a_job_whose_runner_stopped_beating_is_requeued(engine: Engine) -> None:
    """Checked that it can fail: with the former rule (fail it at once) the job ended
    ``failed`` after its first interruption and nothing ran it again."""
    job_id = _queued(engine)
    assert claim(engine, job_id, "replica-a")
    _stale(engine, job_id)
    queued = _queued(engine)
    assert recover_interrupted(engine, "svc", stale_after=60, max_attempts=3) == 1
    job = _job(engine, job_id)
    assert (job.state, job.attempts, job.owner) == ("queued", 1, None)
    assert "attempt 1 of 3 was interrupted" in (job.message or "")
    assert claim(engine, job_id, "replica-b")  # a runner starts it again
    assert _job(engine, job_id).attempts == 2
    assert _job(engine, queued).state == "queued"  # requested work still runs


def test_a_job_interrupted_on_every_attempt_fails_with_its_event(engine: Engine) -> None:
    job_id = _queued(engine)
    failed: list[tuple[uuid.UUID, str, str | None]] = []

    def on_failed(session: Session, job: Job) -> None:  # runs in the failing transaction
        assert session.get(Job, job.id).state == "failed"  # type: ignore[union-attr]
        failed.append((job.id, job.state, job.error))

    for attempt in range(1, 4):
        assert claim(engine, job_id, f"replica-{attempt}")
        _stale(engine, job_id)
        recover_interrupted(engine, "svc", stale_after=60, max_attempts=3, on_failed=on_failed)
    job = _job(engine, job_id)
    assert (job.state, job.attempts) == ("failed", 3)
    assert job.error is not None
    assert job.error.startswith("interrupted")
    assert failed == [(job_id, "failed", job.error)]


def test_beat_refreshes_only_the_owners_jobs(engine: Engine) -> None:
    mine, theirs = _queued(engine), _queued(engine)
    assert claim(engine, mine, "a")
    assert claim(engine, theirs, "b")
    old = datetime.now(UTC) - timedelta(seconds=120)
    with transaction(engine) as session:
        session.exec(update(Job).values(heartbeat_at=old))  # type: ignore[call-overload]
    beat(engine, "a", {mine, theirs})
    assert recover_interrupted(engine, "svc", stale_after=60) == 1
    assert _job(engine, mine).state == "running"
    assert _job(engine, theirs).state == "queued"


def test_a_long_job_outlives_the_stale_limit_because_its_runner_beats(engine: Engine) -> None:
    """A job running four times longer than ``stale_after`` succeeds: the poller beats for
    it and the sweep (same loop) leaves it alone. Checked that it can fail: without the
    ``beat`` call the runner's own sweep failed the job after ``stale_after``."""
    release = threading.Event()

    def work(_engine: Engine, _job_id: uuid.UUID, _report: Any) -> dict[str, Any]:
        release.wait(timeout=30)
        return {"ok": True}

    runner = JobRunner(engine, "svc", handlers={"plan": work}, stale_after=0.4)
    stop = threading.Event()
    poller = threading.Thread(target=runner.poll_forever, args=(stop, 0.02))
    poller.start()
    try:
        job_id = _queued(engine)
        deadline = time.monotonic() + 10
        while _job(engine, job_id).state != "running" and time.monotonic() < deadline:
            stop.wait(0.02)
        stop.wait(1.6)  # four stale periods with the job running
        assert _job(engine, job_id).state == "running"
        release.set()
        while _job(engine, job_id).state == "running" and time.monotonic() < deadline:
            stop.wait(0.02)
        assert _job(engine, job_id).state == "succeeded"
    finally:
        release.set()
        stop.set()
        poller.join(timeout=5)
        runner.shutdown()


def test_a_job_failed_for_good_publishes_job_failed_with_its_state(engine: Engine) -> None:
    """The publisher the services wire as ``on_failed``: the event is an outbox row of the
    transaction that fails the job, so it goes out exactly when the failure is committed."""
    from sop_shared.jobs.events import job_failed_publisher
    from sop_shared.outbox.models import OutboxEvent

    OutboxEvent.__table__.create(engine)  # type: ignore[attr-defined]
    with transaction(engine) as session:
        job_id = create_job(
            session,
            kind="supply-plan",
            params={"cycle": "2027-02", "scenario": "base"},
            created_by="t",
        ).id
    assert claim(engine, job_id, "replica-a")
    _stale(engine, job_id)
    recover_interrupted(
        engine, "supply", stale_after=60, max_attempts=1, on_failed=job_failed_publisher("supply")
    )
    with Session(engine) as session:
        [row] = session.exec(select(OutboxEvent)).all()
    assert (row.topic, row.key, row.event_type) == (
        "sop.supply.v1",
        "2027-02",
        "sop.supply.job.failed.v1",
    )
    data = row.payload["data"]
    assert (data["job_id"], data["kind"], data["attempts"]) == (str(job_id), "supply-plan", 1)
    assert data["error"].startswith("interrupted")
