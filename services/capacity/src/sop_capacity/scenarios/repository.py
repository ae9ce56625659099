from __future__ import annotations

from sqlmodel import col, select

from sop_capacity.scenarios.models import ScenarioSetting
from sop_shared.repository import Repository


class ScenarioRepository(Repository[ScenarioSetting]):
    model = ScenarioSetting

    def find(self, cycle: str, scenario: str) -> ScenarioSetting | None:
        return self.session.get(ScenarioSetting, (cycle, scenario))

    def page(
        self, *, cycle: str | None, limit: int, offset: int
    ) -> tuple[list[ScenarioSetting], int]:
        query = select(ScenarioSetting)
        if cycle:
            query = query.where(ScenarioSetting.cycle == cycle)
        query = query.order_by(col(ScenarioSetting.cycle))
        return self.list_page(
            query, order_by=col(ScenarioSetting.scenario), limit=limit, offset=offset
        )
