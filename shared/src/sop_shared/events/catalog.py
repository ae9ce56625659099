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


class PlanLink(BaseModel):
    """Where one approved plan is read: its header and its lines (paths under the owning
    service's base URL, e.g. ``/api/v1/demand-plans/{id}/lines?format=csv``)."""

    service: str = Field(description="The owning service: demand, supply or capacity")
    plan_id: str
    version: int | None = None
    plan: str = Field(description="GET path of the plan header")
    lines_csv: str = Field(description="GET path of every line as CSV (header row)")
    lines_jsonl: str = Field(description="GET path of every line as JSON lines")


class PlanApprovedData(BaseModel):
    cycle: str
    scenario: str = "base"
    approved_by: str
    approved_at: str
    demand_plan_id: str | None = None
    supply_plan_id: str | None = None
    production_plan_id: str | None = None
    demand_plan_version: int | None = None
    supply_plan_version: int | None = None
    production_plan_version: int | None = None
    comment: str | None = None
    approved_plan: str | None = Field(
        default=None, description="GET path of the approved plan on the cycle service"
    )
    links: dict[str, PlanLink] = Field(
        default_factory=dict, description="demand, supply, production: where to read each plan"
    )


class CycleStepChangedData(BaseModel):
    cycle: str
    step: str
    status: str
    actor: str
    reason: str | None = None


class StepNoticeData(BaseModel):
    """Something a step's owner must hear of: what happened, to which step, who owns it and
    where to look. One payload for the four notice types (stale, overdue, sent back,
    approved), so a notification sender (webhooks, mail, chat) needs one template."""

    cycle: str
    step: str
    notice: str = Field(description="stale | overdue | sent_back | approved")
    status: str = Field(description="The step's stored status after the change")
    owner_role: str
    owner_user: str | None = None
    due_date: str = Field(description="YYYY-MM-DD")
    actor: str = Field(description="Who or what caused it (a user, a service, the clock)")
    reason: str | None = None
    at: str = Field(description="When it happened (ISO 8601, UTC)")
    link: str = Field(
        description="The step in the cycle API, e.g. /api/v1/cycles/2026-12/steps/pre_sop"
    )


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
        "sop.cycle.step.stale.v1",
        "cycle",
        StepNoticeData,
        "A completed step rests on a plan that has since changed (or an earlier step was "
        "reopened or sent back): its owner has to review it again.",
    ),
    EventSpec(
        "sop.cycle.step.overdue.v1",
        "cycle",
        StepNoticeData,
        "A step is not completed by its due date (announced once per due date).",
    ),
    EventSpec(
        "sop.cycle.step.sent-back.v1",
        "cycle",
        StepNoticeData,
        "Executives sent the plan back to this step; it is in progress again.",
    ),
    EventSpec(
        "sop.cycle.step.approved.v1",
        "cycle",
        StepNoticeData,
        "Executives approved the plan: the executive S&OP step is completed.",
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
