from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Field, SQLModel


class ProcessedMessage(SQLModel, table=True):
    """One row per (consumer, event) applied; its primary key is the dedup guard."""

    __tablename__ = "processed_message"

    consumer: str = Field(primary_key=True, max_length=200)
    event_id: str = Field(primary_key=True, max_length=64)
    event_type: str = Field(max_length=200)
    processed_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
