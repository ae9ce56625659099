"""Every table of the supply service, imported by Alembic's env.py (and nothing else)."""

from sop_shared.bulk import IdempotencyRecord
from sop_shared.inbox.models import ProcessedMessage
from sop_shared.jobs.models import Job
from sop_shared.outbox.models import OutboxEvent
from sop_shared.readmodels.products import ProductRef
from sop_supply.sites.models import Site

__all__ = ["IdempotencyRecord", "Job", "OutboxEvent", "ProcessedMessage", "ProductRef", "Site"]
