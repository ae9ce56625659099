"""Idempotent consumers: an inbox row per applied event, in the handler's transaction."""

from sop_shared.inbox.models import ProcessedMessage
from sop_shared.inbox.runner import (
    ConsumerRunner,
    ConsumerSpec,
    EventRejected,
    Handler,
    apply_once,
)

__all__ = [
    "ConsumerRunner",
    "ConsumerSpec",
    "EventRejected",
    "Handler",
    "ProcessedMessage",
    "apply_once",
]
