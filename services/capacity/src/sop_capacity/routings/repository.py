from __future__ import annotations

from sqlalchemy import tuple_
from sqlmodel import col, select

from sop_capacity.routings.models import Routing
from sop_shared.repository import Repository


class RoutingRepository(Repository[Routing]):
    model = Routing

    def existing_keys(self, keys: list[tuple[str, str]]) -> set[tuple[str, str]]:
        found: set[tuple[str, str]] = set()
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            rows = self.session.exec(
                select(Routing.product, Routing.resource).where(
                    tuple_(col(Routing.product), col(Routing.resource)).in_(chunk)
                )
            ).all()
            found.update((p, r) for p, r in rows)
        return found

    def list_filtered(
        self, *, product: str | None, resource: str | None, limit: int, offset: int
    ) -> tuple[list[Routing], int]:
        query = select(Routing)
        if product:
            query = query.where(Routing.product == product)
        if resource:
            query = query.where(Routing.resource == resource)
        query = query.order_by(col(Routing.product), col(Routing.priority))
        return self.list_page(query, order_by=col(Routing.resource), limit=limit, offset=offset)

    def all(self) -> list[Routing]:
        return list(self.session.exec(select(Routing)).all())

    def for_products(self, products: list[str]) -> list[Routing]:
        wanted = list(set(products))
        found: list[Routing] = []
        for start in range(0, len(wanted), 1000):
            query = select(Routing).where(col(Routing.product).in_(wanted[start : start + 1000]))
            found.extend(self.session.exec(query).all())
        return found
