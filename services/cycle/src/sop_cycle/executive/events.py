"""Events of the executive feature: ``plan.approved`` for the planning services (they freeze
the versions) and for ERP consumers."""

from __future__ import annotations

from sqlmodel import Session

from sop_cycle.cycles.models import Approval
from sop_shared.events.catalog import PlanApprovedData
from sop_shared.outbox import publish

PLAN_APPROVED = "sop.cycle.plan.approved.v1"


def plan_approved(session: Session, *, month: str, approval: Approval, version: int) -> None:
    publish(
        session,
        domain="cycle",
        type=PLAN_APPROVED,
        subject=month,
        cycle=month,
        scenario=approval.scenario,
        version=version,
        data=PlanApprovedData(
            cycle=month,
            scenario=approval.scenario,
            approved_by=approval.approved_by,
            approved_at=approval.approved_at.isoformat(),
            demand_plan_id=approval.demand_plan_id,
            supply_plan_id=approval.supply_plan_id,
            production_plan_id=approval.production_plan_id,
            comment=approval.comment,
        ),
    )
