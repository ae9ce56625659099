from __future__ import annotations

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
