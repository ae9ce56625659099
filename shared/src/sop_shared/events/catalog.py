"""The event catalogue: every event type, its topic and its data model.

Pydantic models are the source of truth; ``make contracts`` writes the AsyncAPI
document and the JSON Schema snapshot from them, and a test fails on drift.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, Field


class ProductChangedData(BaseModel):
    """Master data of one product, as owned by the demand service."""

    code: str
    name: str
    family: str
    category: str
    unit: str = "EA"
    price: float = 0.0
    cost: float = 0.0
    lifecycle: str = "active"
    launch_date: str | None = None
    eol_date: str | None = None
    version: int = Field(description="Product row version; consumers drop older versions")
    deleted: bool = False


class PlanChangedData(BaseModel):
    """A plan version was published; consumers fetch its lines over REST."""

    plan_id: str
    cycle: str
    scenario: str = "base"
    version: int
    status: str
    upstream_plan_id: str | None = Field(
        default=None, description="The plan this one was computed from"
    )
    totals: dict[str, float] = Field(default_factory=dict)
    counts: dict[str, int] = Field(default_factory=dict)
    lines_url: str | None = None


class ScenarioChangedData(BaseModel):
    cycle: str
    scenario: str
    name: str
    parameters: dict[str, object] = Field(default_factory=dict)
    status: str = "active"


class PlanApprovedData(BaseModel):
    cycle: str
    scenario: str = "base"
    approved_by: str
    approved_at: str
    demand_plan_id: str | None = None
    supply_plan_id: str | None = None
    production_plan_id: str | None = None
    comment: str | None = None


class CycleStepChangedData(BaseModel):
    cycle: str
    step: str
    status: str
    actor: str
    reason: str | None = None


class JobRequestedData(BaseModel):
    """A slice of a long computation, handed to whichever replica owns the partition."""

    job_id: str
    kind: str
    partition_key: str
    params: dict[str, object] = Field(default_factory=dict)


class JobFailedData(BaseModel):
    """A job failed for good (its error, or interrupted more often than allowed): the work it
    stood for (e.g. a plan of a chain) will not appear unless someone starts it again."""

    job_id: str
    kind: str = Field(description="The job kind, e.g. supply-plan or production-plan")
    error: str
    attempts: int = Field(description="How many times a runner started it")
    cycle: str | None = None
    scenario: str | None = None


@dataclass(frozen=True)
class EventSpec:
    type: str
    domain: str
    data_model: type[BaseModel]
    summary: str

    @property
    def topic(self) -> str:
        return f"sop.{self.domain}.v1"


_SPECS = [
    EventSpec(
        "sop.demand.product.changed.v1",
        "demand",
        ProductChangedData,
        "A product was created, changed or retired (master data for read models).",
    ),
    EventSpec(
        "sop.demand.plan.changed.v1",
        "demand",
        PlanChangedData,
        "A demand plan version was submitted or approved.",
    ),
    EventSpec(
        "sop.demand.forecast.partition.requested.v1",
        "demand",
        JobRequestedData,
        "A family slice of a forecast run waits for a worker.",
    ),
    EventSpec(
        "sop.supply.plan.changed.v1",
        "supply",
        PlanChangedData,
        "A supply plan version was computed (unconstrained or with constrained production).",
    ),
    EventSpec(
        "sop.capacity.plan.changed.v1",
        "capacity",
        PlanChangedData,
        "A capacity-constrained production plan version was computed.",
    ),
    EventSpec(
        "sop.cycle.scenario.changed.v1",
        "cycle",
        ScenarioChangedData,
        "A scenario was created or changed; services compute their versions for it.",
    ),
    EventSpec(
        "sop.cycle.step.changed.v1", "cycle", CycleStepChangedData, "A cycle step changed status."
    ),
    EventSpec(
        "sop.cycle.plan.approved.v1",
        "cycle",
        PlanApprovedData,
        "Executives approved the cycle's plan; ERP consumers take it from here.",
    ),
]

_SPECS += [
    EventSpec(
        f"sop.{domain}.job.failed.v1",
        domain,
        JobFailedData,
        f"A {domain} job failed for good (its error, or interrupted on every attempt).",
    )
    for domain in ("demand", "supply", "capacity", "cycle")
]

EVENT_TYPES: dict[str, EventSpec] = {spec.type: spec for spec in _SPECS}


def event_spec(event_type: str) -> EventSpec:
    return EVENT_TYPES[event_type]
