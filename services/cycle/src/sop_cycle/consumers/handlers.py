"""Consumers of the planning services' events: pure ``(session, event) -> None`` handlers.

Each records the plan (stale-version guard inside) and, for the base scenario, moves the
cycle's steps: the plan's own step forward, later steps stale when they rested on an older
plan. The inbox (``sop_shared.inbox``) makes a redelivered event a no-op.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel import Session

from sop_cycle.cycles import service as cycles
from sop_cycle.plans import service as plans
from sop_shared.events.catalog import JobFailedData
from sop_shared.events.envelope import CloudEvent, topic_for
from sop_shared.inbox import ConsumerSpec

DEMAND_PLAN_CHANGED = "sop.demand.plan.changed.v1"
SUPPLY_PLAN_CHANGED = "sop.supply.plan.changed.v1"
CAPACITY_PLAN_CHANGED = "sop.capacity.plan.changed.v1"
SUPPLY_JOB_FAILED = "sop.supply.job.failed.v1"
CAPACITY_JOB_FAILED = "sop.capacity.job.failed.v1"


def _plan_handler(kind: str) -> Callable[[Session, CloudEvent], None]:
    def handle(session: Session, event: CloudEvent) -> None:
        ref = plans.record_plan(session, kind=kind, event=event)
        if ref is None:
            return
        cycles.plans_changed(
            session,
            arrived=ref,
            actor=event.source,
            reason=f"{event.type}: {kind} plan {ref.plan_id} v{ref.version} ({ref.status})",
            event_id=event.id,
        )

    handle.__name__ = f"on_{kind}_plan_changed"
    return handle


on_demand_plan_changed = _plan_handler("demand")
on_supply_plan_changed = _plan_handler("supply")
on_production_plan_changed = _plan_handler("production")


def on_job_failed(session: Session, event: CloudEvent) -> None:
    """A supply or production plan job failed for good: its step shows ``blocked``."""
    data = JobFailedData.model_validate(event.data)
    cycles.job_failed(session, data=data, actor=event.source, event_id=event.id)


HANDLERS = {
    DEMAND_PLAN_CHANGED: on_demand_plan_changed,
    SUPPLY_PLAN_CHANGED: on_supply_plan_changed,
    CAPACITY_PLAN_CHANGED: on_production_plan_changed,
    SUPPLY_JOB_FAILED: on_job_failed,
    CAPACITY_JOB_FAILED: on_job_failed,
}


def plan_consumer(topics: list[str] | None = None) -> ConsumerSpec:
    """The cycle's consumer group over the three planning topics."""
    return ConsumerSpec(
        purpose="plans",
        topics=topics or [topic_for("demand"), topic_for("supply"), topic_for("capacity")],
        handlers=dict(HANDLERS),
    )


def consumers() -> list[ConsumerSpec]:
    return [plan_consumer()]
