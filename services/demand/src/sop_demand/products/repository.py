from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import col, select

from sop_demand.products.models import Product
from sop_shared.repository import Repository


class ProductRepository(Repository[Product]):
    model = Product

    def list_filtered(
        self,
        *,
        family: str | None,
        category: str | None,
        lifecycle: str | None,
        limit: int,
        offset: int,
    ) -> tuple[list[Product], int]:
        query = select(Product)
        if family:
            query = query.where(Product.family == family)
        if category:
            query = query.where(Product.category == category)
        if lifecycle:
            query = query.where(Product.lifecycle == lifecycle)
        return self.list_page(query, order_by=col(Product.code), limit=limit, offset=offset)

    def by_codes(self, codes: Iterable[str], *, for_update: bool = False) -> dict[str, Product]:
        wanted = list(dict.fromkeys(codes))
        found: dict[str, Product] = {}
        for start in range(0, len(wanted), 5000):  # bounded IN lists
            query = select(Product).where(col(Product.code).in_(wanted[start : start + 5000]))
            if for_update:
                query = query.with_for_update()
            found.update((p.code, p) for p in self.session.exec(query).all())
        return found

    def all_codes(self) -> set[str]:
        return set(self.session.exec(select(Product.code)).all())

    def existing_codes(self, codes: Iterable[str]) -> set[str]:
        wanted = list(dict.fromkeys(codes))
        found: set[str] = set()
        for start in range(0, len(wanted), 5000):
            found.update(
                self.session.exec(
                    select(Product.code).where(col(Product.code).in_(wanted[start : start + 5000]))
                ).all()
            )
        return found

    def all(self) -> list[Product]:
        return list(self.session.exec(select(Product).order_by(col(Product.code))).all())
