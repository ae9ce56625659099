"""Events of the cycles feature: ``step.changed`` on every transition of a step, and a
notice (``step.stale``, ``step.overdue``, ``step.sent-back``, ``step.approved``) for the
transitions a step's owner must hear of."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from sop_cycle.cycles.models import CycleStep
from sop_cycle.cycles.workflow import Action
from sop_shared.events.catalog import CycleStepChangedData, StepNoticeData
from sop_shared.outbox import publish

STEP_CHANGED = "sop.cycle.step.changed.v1"
#: The transitions that notify the step's owner: action → (notice, event type).
NOTICES: dict[Action, tuple[str, str]] = {
    Action.stale: ("stale", "sop.cycle.step.stale.v1"),
    Action.overdue: ("overdue", "sop.cycle.step.overdue.v1"),
    Action.send_back: ("sent_back", "sop.cycle.step.sent-back.v1"),
    Action.approve: ("approved", "sop.cycle.step.approved.v1"),
}


def step_changed(
    session: Session, *, month: str, step: CycleStep, actor: str, reason: str | None
) -> None:
    publish(
        session,
        domain="cycle",
        type=STEP_CHANGED,
        subject=f"{month}/{step.name}",
        cycle=month,
        scenario="base",
        version=step.version,
        data=CycleStepChangedData(
            cycle=month, step=step.name, status=step.status, actor=actor, reason=reason
        ),
    )


def step_notice(
    session: Session,
    *,
    month: str,
    step: CycleStep,
    action: Action,
    actor: str,
    reason: str | None,
    at: datetime,
) -> None:
    """Queue the notice of ``action`` for ``step``'s owner (no-op for other actions)."""
    if action not in NOTICES:
        return
    notice, event_type = NOTICES[action]
    publish(
        session,
        domain="cycle",
        type=event_type,
        subject=f"{month}/{step.name}",
        cycle=month,
        scenario="base",
        version=step.version,
        data=StepNoticeData(
            cycle=month,
            step=step.name,
            notice=notice,
            status=step.status,
            owner_role=step.owner_role,
            owner_user=step.owner_user,
            due_date=step.due_date.isoformat(),
            actor=actor,
            reason=reason,
            at=at.isoformat(),
            link=f"/api/v1/cycles/{month}/steps/{step.name}",
        ),
    )
