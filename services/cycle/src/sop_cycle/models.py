"""Every table of the cycle service, imported by Alembic's env.py (and nothing else)."""

from sop_cycle.cycles.models import Approval, Cycle, CycleStep, StepTransition
from sop_cycle.executive.models import CycleKpi, Decision
from sop_cycle.plans.models import PlanRecord
from sop_cycle.scenarios.models import Scenario
from sop_shared.inbox.models import DeadLetter, ProcessedMessage
from sop_shared.jobs.models import Job
from sop_shared.outbox.models import OutboxEvent

__all__ = [
    "Approval",
    "Cycle",
    "CycleKpi",
    "CycleStep",
    "DeadLetter",
    "Decision",
    "Job",
    "OutboxEvent",
    "PlanRecord",
    "ProcessedMessage",
    "Scenario",
    "StepTransition",
]
