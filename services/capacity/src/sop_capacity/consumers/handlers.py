"""Which events the capacity service applies, and with which handler.

Handlers are pure ``(session, event) -> None``: they only write rows (a job to run, a
scenario's parameters, a frozen flag) in the consumer's transaction; the inbox makes a
redelivered event a no-op.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlmodel import Session

from sop_capacity.production_plans import service as plans
from sop_capacity.scenarios import service as scenarios
from sop_shared.events import CloudEvent, topic_for
from sop_shared.events.catalog import PlanApprovedData, PlanChangedData, ScenarioChangedData
from sop_shared.events.lineage import check_lineage
from sop_shared.inbox import ConsumerSpec
from sop_shared.readmodels.products import product_consumer

log = logging.getLogger("sop.capacity.consumers")

SUPPLY_PLAN_CHANGED = "sop.supply.plan.changed.v1"
SCENARIO_CHANGED = "sop.cycle.scenario.changed.v1"
PLAN_APPROVED = "sop.cycle.plan.approved.v1"


def on_supply_plan_changed(session: Session, event: CloudEvent) -> None:
    """An unconstrained supply plan queues its production plan; a constrained one is
    supply's answer to our own plan and is ignored (the loop guard)."""
    data = PlanChangedData.model_validate(event.data)
    check_lineage(event, cycle=data.cycle, scenario=data.scenario)
    if data.status != "unconstrained":
        log.info("ignoring %s supply plan %s", data.status, data.plan_id)
        return
    job = plans.queue_for_supply_plan(session, data=data, event_id=event.id)
    if job is None:
        log.info("supply plan %s/%s already has its run", data.plan_id, data.scenario)


def on_scenario_changed(session: Session, event: CloudEvent) -> None:
    data = ScenarioChangedData.model_validate(event.data)
    scenarios.apply_scenario(session, data=data, event_time=event.time)


def on_plan_approved(session: Session, event: CloudEvent) -> None:
    data = PlanApprovedData.model_validate(event.data)
    if not data.production_plan_id:
        return
    try:
        at = datetime.fromisoformat(data.approved_at)
    except ValueError:
        at = event.time
    plan = plans.freeze(session, plan_id=data.production_plan_id, actor=data.approved_by, at=at)
    if plan is None:
        log.warning("approved production plan %s is unknown here", data.production_plan_id)


def consumers() -> list[ConsumerSpec]:
    return [
        product_consumer(),
        ConsumerSpec(
            purpose="supply-plans",
            topics=[topic_for("supply")],
            handlers={SUPPLY_PLAN_CHANGED: on_supply_plan_changed},
        ),
        ConsumerSpec(
            purpose="cycle",
            topics=[topic_for("cycle")],
            handlers={SCENARIO_CHANGED: on_scenario_changed, PLAN_APPROVED: on_plan_approved},
        ),
    ]
