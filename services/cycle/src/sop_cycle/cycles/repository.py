from __future__ import annotations

from datetime import date

from sqlmodel import col, select

from sop_cycle.cycles.models import Cycle, CycleStep, StepTransition
from sop_shared.repository import Repository


class CycleRepository(Repository[Cycle]):
    model = Cycle


class StepRepository(Repository[CycleStep]):
    model = CycleStep

    def for_cycle(self, cycle_id: int) -> list[CycleStep]:
        query = select(CycleStep).where(CycleStep.cycle_id == cycle_id).order_by(col(CycleStep.seq))
        return list(self.session.exec(query).all())

    def past_due(self, *, today: date, exclude_status: str) -> list[tuple[Cycle, CycleStep]]:
        """Steps not completed whose due date is before ``today``, of cycles not in
        ``exclude_status``, by cycle and step order."""
        query = (
            select(Cycle, CycleStep)
            .join(CycleStep, col(CycleStep.cycle_id) == col(Cycle.id))
            .where(
                col(Cycle.status) != exclude_status,
                col(CycleStep.status) != "completed",
                col(CycleStep.due_date) < today,
            )
            .order_by(col(Cycle.month), col(CycleStep.seq))
        )
        return [(c, s) for c, s in self.session.exec(query).all()]


class TransitionRepository(Repository[StepTransition]):
    model = StepTransition

    def page(
        self, *, cycle_id: int, step: str | None, limit: int, offset: int
    ) -> tuple[list[StepTransition], int]:
        query = select(StepTransition).where(StepTransition.cycle_id == cycle_id)
        if step:
            query = query.where(StepTransition.step == step)
        return self.list_page(query, order_by=col(StepTransition.id), limit=limit, offset=offset)

    def reasons(self, *, cycle_ids: set[int], action: str) -> set[tuple[int, str, str | None]]:
        """(cycle id, step, reason) of every ``action`` transition of these cycles."""
        if not cycle_ids:
            return set()
        rows = self.session.exec(
            select(StepTransition.cycle_id, StepTransition.step, StepTransition.reason).where(
                col(StepTransition.cycle_id).in_(cycle_ids), StepTransition.action == action
            )
        ).all()
        return {(c, s, r) for c, s, r in rows}
