"""Every table of the demand service, imported by Alembic's env.py (and nothing else)."""

from sop_demand.budget.models import DemandBudget
from sop_demand.forecasts.models import (
    ForecastPartition,
    ForecastRun,
    ForecastSelection,
    ForecastTotal,
    ForecastValue,
)
from sop_demand.history.models import SalesHistory, SalesLoad
from sop_demand.plans.models import DemandPlan, DemandPlanLine, DemandScenario, PlanOverride
from sop_demand.products.models import Product
from sop_demand.promotions.models import Promotion
from sop_shared.bulk import IdempotencyRecord
from sop_shared.inbox.models import DeadLetter, ProcessedMessage
from sop_shared.jobs.models import Job
from sop_shared.outbox.models import OutboxEvent

__all__ = [
    "DeadLetter",
    "DemandBudget",
    "DemandPlan",
    "DemandPlanLine",
    "DemandScenario",
    "ForecastPartition",
    "ForecastRun",
    "ForecastSelection",
    "ForecastTotal",
    "ForecastValue",
    "IdempotencyRecord",
    "Job",
    "OutboxEvent",
    "PlanOverride",
    "ProcessedMessage",
    "Product",
    "Promotion",
    "SalesHistory",
    "SalesLoad",
]
