"""``demand.plan.changed``: a version was submitted or approved; supply fetches its lines."""

from __future__ import annotations

from sqlmodel import Session

from sop_demand.plans.models import DemandPlan
from sop_shared.events.catalog import PlanChangedData
from sop_shared.outbox import publish

PLAN_CHANGED = "sop.demand.plan.changed.v1"


def plan_changed(session: Session, plan: DemandPlan, *, products: int) -> None:
    """Keyed by cycle (the default) so one cycle's plan events stay in order."""
    publish(
        session,
        domain="demand",
        type=PLAN_CHANGED,
        subject=str(plan.id),
        cycle=plan.cycle,
        scenario=plan.scenario,
        version=plan.version_no,
        data=PlanChangedData(
            plan_id=str(plan.id),
            cycle=plan.cycle,
            scenario=plan.scenario,
            version=plan.version_no,
            status=plan.status,
            totals={"quantity": plan.total_quantity, "revenue": plan.total_revenue},
            counts={"lines": plan.lines, "products": products},
            lines_url=f"/api/v1/demand-plans/{plan.id}/lines",
        ),
    )
