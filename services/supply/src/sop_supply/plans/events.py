"""What the supply service does with the events of its peers (pure ``(session, event)`` handlers).

Each handler runs in the consumer's transaction together with the inbox row, so a redelivered
event is absorbed by the inbox; handlers only write rows (a queued job, scenario parameters,
an approval flag), the heavy work runs in the ``supply-plan`` job after commit.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime

from sqlmodel import Session

from sop_shared.events.catalog import PlanApprovedData, PlanChangedData, ScenarioChangedData
from sop_shared.events.envelope import CloudEvent
from sop_shared.events.lineage import check_lineage
from sop_shared.problems import NotFound
from sop_supply.plans import service
from sop_supply.plans.schemas import PlanJobParams

log = logging.getLogger("sop.supply.events")

DEMAND_PLAN_CHANGED = "sop.demand.plan.changed.v1"
CAPACITY_PLAN_CHANGED = "sop.capacity.plan.changed.v1"
SCENARIO_CHANGED = "sop.cycle.scenario.changed.v1"
PLAN_APPROVED = "sop.cycle.plan.approved.v1"


def on_demand_plan_changed(session: Session, event: CloudEvent) -> None:
    """A submitted demand plan queues its (unconstrained) supply plan, once per version."""
    data = PlanChangedData.model_validate(event.data)
    check_lineage(event, cycle=data.cycle, scenario=data.scenario)
    service.record_demand_plan(session, data=data)
    if data.status != "submitted":
        return
    service.queue_for_demand_plan(session, data=data, event_id=str(event.id))


def on_capacity_plan_changed(session: Session, event: CloudEvent) -> None:
    """A constrained production plan queues a recompute of the supply plan it answers.

    The recompute is published with status ``constrained``, which capacity ignores: the
    chain demand → supply → capacity → supply runs once.
    """
    data = PlanChangedData.model_validate(event.data)
    if not data.upstream_plan_id:
        log.warning("capacity plan %s names no supply plan; ignored", data.plan_id)
        return
    try:
        base = service.get_plan(session, uuid.UUID(data.upstream_plan_id))
    except (ValueError, NotFound):
        log.warning(
            "capacity plan %s answers unknown supply plan %s", data.plan_id, data.upstream_plan_id
        )
        return
    if base.status != "unconstrained":
        return  # only an unconstrained plan is revised (no loop on our own answers)
    check_lineage(
        event,
        cycle=data.cycle,
        scenario=data.scenario,
        upstream=(base.cycle, base.scenario),
        upstream_name=f"supply plan {base.id}",
    )
    params = PlanJobParams(
        mode="constrained",
        cycle=base.cycle,
        scenario=base.scenario,
        demand_plan_id=base.demand_plan_id,
        demand_plan_version=base.demand_plan_version,
        base_supply_plan_id=str(base.id),
        production_plan_id=data.plan_id,
    )
    service.queue_plan(session, params=params, actor=f"event:{event.id}")


def on_scenario_changed(session: Session, event: CloudEvent) -> None:
    """Keep the scenario's supply parameters (``service_level`` overrides every target).

    Nothing is computed here: the scenario's supply plan is computed once, from the
    scenario's own demand plan, when demand publishes it (docs/CONTRACTS.md); never from
    another scenario's demand plan.
    """
    data = ScenarioChangedData.model_validate(event.data)
    service.store_scenario(
        session,
        cycle=data.cycle,
        scenario=data.scenario,
        name=data.name,
        status=data.status,
        parameters=dict(data.parameters),
    )


def on_plan_approved(session: Session, event: CloudEvent) -> None:
    """Freeze the supply plan version the executives approved."""
    data = PlanApprovedData.model_validate(event.data)
    try:
        approved_at = datetime.fromisoformat(data.approved_at)
    except ValueError:
        approved_at = datetime.now(UTC)
    service.approve(
        session,
        cycle=data.cycle,
        scenario=data.scenario,
        supply_plan_id=data.supply_plan_id,
        approved_by=data.approved_by,
        approved_at=approved_at,
    )


HANDLERS = {
    DEMAND_PLAN_CHANGED: on_demand_plan_changed,
    CAPACITY_PLAN_CHANGED: on_capacity_plan_changed,
    SCENARIO_CHANGED: on_scenario_changed,
    PLAN_APPROVED: on_plan_approved,
}
