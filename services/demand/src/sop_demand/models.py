"""Every table of the demand service, imported by Alembic's env.py (and nothing else)."""

from sop_demand.products.models import Product
from sop_shared.bulk import IdempotencyRecord
from sop_shared.inbox.models import ProcessedMessage
from sop_shared.jobs.models import Job
from sop_shared.outbox.models import OutboxEvent

__all__ = ["IdempotencyRecord", "Job", "OutboxEvent", "ProcessedMessage", "Product"]
