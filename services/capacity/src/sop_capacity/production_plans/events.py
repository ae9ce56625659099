"""Events of the production-plan feature: ``capacity.plan.changed`` for supply and cycle."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from sop_capacity.production_plans.models import ProductionPlan
from sop_shared.events.catalog import PlanChangedData
from sop_shared.outbox import publish

PLAN_CHANGED = "sop.capacity.plan.changed.v1"


def plan_changed(session: Session, plan: ProductionPlan, *, counts: dict[str, int]) -> None:
    totals: dict[str, Any] = plan.totals
    publish(
        session,
        domain="capacity",
        type=PLAN_CHANGED,
        subject=str(plan.id),
        cycle=plan.cycle,
        scenario=plan.scenario,
        version=plan.version,
        data=PlanChangedData(
            plan_id=str(plan.id),
            cycle=plan.cycle,
            scenario=plan.scenario,
            version=plan.version,
            status=plan.status,
            upstream_plan_id=plan.supply_plan_id,
            totals={
                "quantity": float(totals.get("production", 0.0)),
                "cost": float(plan.costs.get("total", 0.0)),
                "production_cost": float(plan.costs.get("production", 0.0)),
                "ending_backorder": float(totals.get("ending_backorder", 0.0)),
                "overtime_hours": float(totals.get("overtime_hours", 0.0)),
            },
            counts=counts,
            lines_url=f"/api/v1/production-plans/{plan.id}/lines",
        ),
    )
