from __future__ import annotations

from sqlalchemy import func, tuple_
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from sop_capacity.history.models import ProductionHistory
from sop_shared.repository import Repository


class HistoryRepository(Repository[ProductionHistory]):
    model = ProductionHistory

    def existing_keys(self, keys: list[tuple[str, str, str]]) -> set[tuple[str, str, str]]:
        found: set[tuple[str, str, str]] = set()
        columns = (
            col(ProductionHistory.resource),
            col(ProductionHistory.month),
            col(ProductionHistory.product),
        )
        for start in range(0, len(keys), 500):
            rows = self.session.exec(
                select(*columns).where(tuple_(*columns).in_(keys[start : start + 500]))
            ).all()
            found.update((r, m, p) for r, m, p in rows)
        return found

    def filtered(
        self, *, resource: str | None, from_month: str | None, to_month: str | None
    ) -> SelectOfScalar[ProductionHistory]:
        query = select(ProductionHistory)
        if resource:
            query = query.where(ProductionHistory.resource == resource)
        if from_month:
            query = query.where(col(ProductionHistory.month) >= from_month)
        if to_month:
            query = query.where(col(ProductionHistory.month) <= to_month)
        return query

    def page(
        self,
        *,
        resource: str | None,
        from_month: str | None,
        to_month: str | None,
        limit: int,
        offset: int,
    ) -> tuple[list[ProductionHistory], int]:
        query = self.filtered(resource=resource, from_month=from_month, to_month=to_month)
        query = query.order_by(col(ProductionHistory.resource), col(ProductionHistory.month))
        return self.list_page(
            query, order_by=col(ProductionHistory.product), limit=limit, offset=offset
        )

    def rows(
        self, *, resource: str | None, from_month: str | None, to_month: str | None
    ) -> list[ProductionHistory]:
        query = self.filtered(resource=resource, from_month=from_month, to_month=to_month)
        return list(self.session.exec(query).all())

    def last_month(self) -> str | None:
        return self.session.exec(select(func.max(ProductionHistory.month))).one()

    def count_in(self, month: str) -> int:
        query = select(func.count()).where(ProductionHistory.month == month)
        return int(self.session.exec(query).one())
