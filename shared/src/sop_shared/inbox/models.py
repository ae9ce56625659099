from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import BigInteger, Column, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from sop_shared.jsontype import BigIntId


class ProcessedMessage(SQLModel, table=True):
    """One row per (consumer, event) applied; its primary key is the dedup guard."""

    __tablename__ = "processed_message"

    consumer: str = Field(primary_key=True, max_length=200)
    event_id: str = Field(primary_key=True, max_length=64)
    event_type: str = Field(max_length=200)
    processed_at: datetime = Field(default_factory=lambda: datetime.now(UTC))


class DeadLetter(SQLModel, table=True):
    """A record a consumer could not apply (bad payload, domain rule, bug), kept for replay.

    The same record is also sent to ``<topic>.dlq``; this row is what ``/dead-letters`` lists,
    readiness warns about and the replay command re-applies once the cause is fixed. The
    unique key makes a redelivered poison record one dead letter, not two.
    """

    __tablename__ = "dead_letter"
    __table_args__ = (UniqueConstraint("consumer", "topic", "partition", "offset"),)

    id: int | None = Field(
        default=None, sa_column=Column(BigIntId, primary_key=True, autoincrement=True)
    )
    consumer: str = Field(max_length=200)
    topic: str = Field(max_length=200)
    partition: int
    offset: int = Field(sa_column=Column(BigInteger, nullable=False))
    key: str | None = Field(default=None, max_length=200)
    event_id: str | None = Field(default=None, max_length=64)
    event_type: str | None = Field(default=None, max_length=200)
    payload: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    #: ``validation`` (the payload does not parse), ``domain`` (a rule refused it) or ``error``.
    reason: str = Field(max_length=20)
    error: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    replay_attempts: int = Field(default=0)
    replay_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    replayed_at: datetime | None = Field(default=None, index=True)
