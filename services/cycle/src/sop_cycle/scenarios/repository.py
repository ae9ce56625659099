from __future__ import annotations

from sqlmodel import col, select

from sop_cycle.scenarios.models import Scenario
from sop_shared.repository import Repository


class ScenarioRepository(Repository[Scenario]):
    model = Scenario

    def page(
        self, *, cycle_id: int, status: str | None, limit: int, offset: int
    ) -> tuple[list[Scenario], int]:
        query = select(Scenario).where(Scenario.cycle_id == cycle_id)
        if status:
            query = query.where(Scenario.status == status)
        return self.list_page(query, order_by=col(Scenario.id), limit=limit, offset=offset)

    def by_codes(self, *, cycle_id: int, codes: list[str] | None) -> list[Scenario]:
        query = select(Scenario).where(Scenario.cycle_id == cycle_id)
        if codes:
            query = query.where(col(Scenario.code).in_(codes))
        else:
            query = query.where(Scenario.status == "active")
        return list(self.session.exec(query.order_by(col(Scenario.id))).all())
