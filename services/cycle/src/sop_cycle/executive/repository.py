from __future__ import annotations

from sqlmodel import col, select

from sop_cycle.executive.models import CycleKpi, Decision
from sop_shared.repository import Repository


class DecisionRepository(Repository[Decision]):
    model = Decision

    def open_for_cycle(self, cycle_id: int) -> list[Decision]:
        query = select(Decision).where(Decision.cycle_id == cycle_id, Decision.status == "open")
        return list(self.session.exec(query.order_by(col(Decision.id))).all())

    def page(
        self, *, cycle_id: int, status: str | None, limit: int, offset: int
    ) -> tuple[list[Decision], int]:
        query = select(Decision).where(Decision.cycle_id == cycle_id)
        if status:
            query = query.where(Decision.status == status)
        return self.list_page(query, order_by=col(Decision.id), limit=limit, offset=offset)


class KpiRepository(Repository[CycleKpi]):
    model = CycleKpi

    def series(self, *, start: str | None, end: str | None) -> list[CycleKpi]:
        query = select(CycleKpi)
        if start:
            query = query.where(CycleKpi.month >= start)
        if end:
            query = query.where(CycleKpi.month <= end)
        return list(self.session.exec(query.order_by(col(CycleKpi.month))).all())
