from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from sop_shared.jsontype import JsonColumnType


class JobState(StrEnum):
    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"


class Job(SQLModel, table=True):
    __tablename__ = "job"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    kind: str = Field(max_length=60, index=True)
    state: str = Field(default=JobState.queued, max_length=20)
    params: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JsonColumnType, nullable=False)
    )
    total_parts: int = Field(default=1)
    done_parts: int = Field(default=0)
    #: How many times a runner started it; an interrupted job is re-queued while below the cap.
    attempts: int = Field(default=0)
    progress: float = Field(default=0.0)
    message: str | None = Field(default=None, max_length=500)
    result: dict[str, Any] | None = Field(
        default=None, sa_column=Column(JsonColumnType, nullable=True)
    )
    error: str | None = Field(default=None)
    created_by: str = Field(default="system", max_length=200)
    # The trace of the request or event that queued the job: the job's span continues it,
    # so the events the job publishes stay in the same trace (W3C traceparent, 55 chars).
    traceparent: str | None = Field(default=None, max_length=64)
    # Which runner (host:pid:nonce) runs it and when it last said it was alive: a job is
    # failed as interrupted only when its heartbeat is stale, never while a replica runs it.
    owner: str | None = Field(default=None, max_length=200)
    heartbeat_at: datetime | None = None
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    started_at: datetime | None = None
    finished_at: datetime | None = None
