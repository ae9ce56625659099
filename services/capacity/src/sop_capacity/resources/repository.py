from __future__ import annotations

from sqlmodel import col, select

from sop_capacity.resources.models import Resource
from sop_shared.repository import Repository


class ResourceRepository(Repository[Resource]):
    model = Resource

    def list_at(self, *, site: str | None, limit: int, offset: int) -> tuple[list[Resource], int]:
        query = select(Resource)
        if site:
            query = query.where(Resource.site == site)
        return self.list_page(query, order_by=col(Resource.code), limit=limit, offset=offset)
