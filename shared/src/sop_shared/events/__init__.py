"""The event contract: a CloudEvents 1.0 JSON envelope and the versioned payloads."""

from sop_shared.events.catalog import EVENT_TYPES, EventSpec, event_spec
from sop_shared.events.envelope import CloudEvent, new_event, topic_for

__all__ = ["EVENT_TYPES", "CloudEvent", "EventSpec", "event_spec", "new_event", "topic_for"]
