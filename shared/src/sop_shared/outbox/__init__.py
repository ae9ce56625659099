"""Transactional outbox: events are rows written with the change, sent after commit."""

from sop_shared.outbox.models import OutboxEvent
from sop_shared.outbox.relay import OutboxRelay
from sop_shared.outbox.writer import add_event, publish

__all__ = ["OutboxEvent", "OutboxRelay", "add_event", "publish"]
