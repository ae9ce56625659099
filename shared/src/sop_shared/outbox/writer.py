"""The write side: service code adds events here, in the transaction of the change."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel
from sqlmodel import Session

from sop_shared.events.envelope import CloudEvent, new_event, topic_for
from sop_shared.logging import current_request_id
from sop_shared.outbox.models import OutboxEvent


def add_event(session: Session, event: CloudEvent, *, topic: str, key: str) -> OutboxEvent:
    """Queue ``event`` for the relay; it is sent only if this transaction commits."""
    headers = {
        "event_id": event.id,
        "event_type": event.type,
        "schema_version": event.type.rsplit(".", 1)[-1],
        "correlation_id": current_request_id() or event.id,
    }
    if event.traceparent:
        headers["traceparent"] = event.traceparent
    row = OutboxEvent(
        id=uuid.UUID(event.id),
        topic=topic,
        key=key,
        event_type=event.type,
        payload=event.model_dump(mode="json", exclude_none=True),
        headers=headers,
    )
    session.add(row)
    return row


def publish(
    session: Session,
    *,
    domain: str,
    type: str,
    subject: str,
    data: BaseModel | dict[str, Any],
    key: str | None = None,
    cycle: str | None = None,
    scenario: str | None = None,
    version: int | None = None,
) -> CloudEvent:
    """Build the envelope for ``domain``'s topic and add it to the outbox.

    The key defaults to the cycle (so one cycle's events stay in order), else the subject.
    """
    event = new_event(
        source=f"/sop/{domain}",
        type=type,
        subject=subject,
        data=data,
        cycle=cycle,
        scenario=scenario,
        version=version,
    )
    add_event(session, event, topic=topic_for(domain), key=key or cycle or subject)
    return event
