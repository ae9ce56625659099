"""Every table of the supply service, imported by Alembic's env.py (and nothing else)."""

from sop_shared.bulk import IdempotencyRecord
from sop_shared.inbox.models import DeadLetter, ProcessedMessage
from sop_shared.jobs.models import Job
from sop_shared.outbox.models import OutboxEvent
from sop_shared.readmodels.products import ProductRef
from sop_supply.masterdata.models import (
    BomLine,
    Contract,
    InventorySnapshot,
    ItemSite,
    Material,
    OpenSupply,
    Supplier,
    SupplyBudget,
)
from sop_supply.plans.models import (
    DemandPlanRef,
    DemandPlanTrigger,
    ScenarioParameters,
    SupplyPlan,
    SupplyPlanContract,
    SupplyPlanException,
    SupplyPlanForecastError,
    SupplyPlanLine,
)
from sop_supply.sites.models import Site

__all__ = [
    "BomLine",
    "Contract",
    "DeadLetter",
    "DemandPlanRef",
    "DemandPlanTrigger",
    "IdempotencyRecord",
    "InventorySnapshot",
    "ItemSite",
    "Job",
    "Material",
    "OpenSupply",
    "OutboxEvent",
    "ProcessedMessage",
    "ProductRef",
    "ScenarioParameters",
    "Site",
    "Supplier",
    "SupplyBudget",
    "SupplyPlan",
    "SupplyPlanContract",
    "SupplyPlanException",
    "SupplyPlanForecastError",
    "SupplyPlanLine",
]
