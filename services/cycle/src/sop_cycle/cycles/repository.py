from __future__ import annotations

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


class TransitionRepository(Repository[StepTransition]):
    model = StepTransition

    def page(
        self, *, cycle_id: int, step: str | None, limit: int, offset: int
    ) -> tuple[list[StepTransition], int]:
        query = select(StepTransition).where(StepTransition.cycle_id == cycle_id)
        if step:
            query = query.where(StepTransition.step == step)
        return self.list_page(query, order_by=col(StepTransition.id), limit=limit, offset=offset)
