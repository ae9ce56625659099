"""Every table of the cycle service, imported by Alembic's env.py (and nothing else)."""

from sop_cycle.cycles.models import Cycle
from sop_shared.inbox.models import ProcessedMessage
from sop_shared.jobs.models import Job
from sop_shared.outbox.models import OutboxEvent

__all__ = ["Job", "Cycle", "OutboxEvent", "ProcessedMessage"]
