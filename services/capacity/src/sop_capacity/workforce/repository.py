from __future__ import annotations

from sqlmodel import col, select

from sop_capacity.workforce.models import Workforce
from sop_shared.repository import Repository


class WorkforceRepository(Repository[Workforce]):
    model = Workforce

    def existing_keys(self, pools: list[str]) -> set[tuple[str]]:
        rows = self.session.exec(select(Workforce.pool).where(col(Workforce.pool).in_(pools)))
        return {(p,) for p in rows.all()}

    def page(self, *, limit: int, offset: int) -> tuple[list[Workforce], int]:
        return self.list_page(
            select(Workforce), order_by=col(Workforce.pool), limit=limit, offset=offset
        )

    def all(self) -> list[Workforce]:
        return list(self.session.exec(select(Workforce)).all())
