"""Events of the executive feature: ``plan.approved`` for the planning services (they freeze
the versions) and for ERP consumers."""

from __future__ import annotations

from sqlmodel import Session

from sop_cycle.cycles.models import Approval
from sop_cycle.peers import plan_link
from sop_shared.events.catalog import PlanApprovedData, PlanLink
from sop_shared.outbox import publish

PLAN_APPROVED = "sop.cycle.plan.approved.v1"


def approval_links(approval: Approval) -> dict[str, PlanLink]:
    """demand, supply, production → where the approved version and its lines are read."""
    links = {}
    for kind in ("demand", "supply", "production"):
        plan_id = getattr(approval, f"{kind}_plan_id")
        if plan_id:
            links[kind] = plan_link(kind, plan_id, getattr(approval, f"{kind}_version"))
    return links


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
            demand_plan_version=approval.demand_version,
            supply_plan_version=approval.supply_version,
            production_plan_version=approval.production_version,
            comment=approval.comment,
            approved_plan=f"/api/v1/cycles/{month}/approved-plan",
            links=approval_links(approval),
        ),
    )
