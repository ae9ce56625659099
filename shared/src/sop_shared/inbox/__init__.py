"""Idempotent consumers: an inbox row per applied event, in the handler's transaction."""

from sop_shared.inbox.models import DeadLetter, ProcessedMessage
from sop_shared.inbox.runner import (
    ConsumerRunner,
    ConsumerSpec,
    EventRejected,
    Handler,
    apply_once,
    count_dead_letters,
    replay_dead_letters,
)

__all__ = [
    "ConsumerRunner",
    "ConsumerSpec",
    "DeadLetter",
    "EventRejected",
    "Handler",
    "ProcessedMessage",
    "apply_once",
    "count_dead_letters",
    "replay_dead_letters",
]
