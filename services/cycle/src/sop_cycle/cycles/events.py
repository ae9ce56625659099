"""Events of the cycles feature: ``step.changed`` on every transition of a step."""

from __future__ import annotations

from sqlmodel import Session

from sop_cycle.cycles.models import CycleStep
from sop_shared.events.catalog import CycleStepChangedData
from sop_shared.outbox import publish

STEP_CHANGED = "sop.cycle.step.changed.v1"


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
