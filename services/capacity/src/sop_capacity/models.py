"""Every table of the capacity service, imported by Alembic's env.py (and nothing else)."""

from sop_capacity.calendars.models import ResourceCalendar
from sop_capacity.history.models import ProductionHistory
from sop_capacity.production_plans.models import (
    PlanTrigger,
    ProductionPlan,
    ProductionPlanLine,
    ProductionPlanLoad,
    ProductionPlanPosition,
    ProductionPlanUnplannable,
)
from sop_capacity.resources.models import Resource
from sop_capacity.routings.models import Routing
from sop_capacity.scenarios.models import ScenarioSetting
from sop_capacity.workforce.models import Workforce
from sop_shared.bulk import IdempotencyRecord
from sop_shared.inbox.models import DeadLetter, ProcessedMessage
from sop_shared.jobs.models import Job
from sop_shared.outbox.models import OutboxEvent
from sop_shared.readmodels.products import ProductRef

__all__ = [
    "DeadLetter",
    "IdempotencyRecord",
    "Job",
    "OutboxEvent",
    "PlanTrigger",
    "ProcessedMessage",
    "ProductRef",
    "ProductionHistory",
    "ProductionPlan",
    "ProductionPlanLine",
    "ProductionPlanLoad",
    "ProductionPlanPosition",
    "ProductionPlanUnplannable",
    "Resource",
    "ResourceCalendar",
    "Routing",
    "ScenarioSetting",
    "Workforce",
]
