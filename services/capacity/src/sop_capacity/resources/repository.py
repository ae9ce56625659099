from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import col, select

from sop_capacity.resources.models import Resource
from sop_shared.repository import Repository


class ResourceRepository(Repository[Resource]):
    model = Resource

    def list_at(
        self, *, site: str | None, kind: str | None, limit: int, offset: int
    ) -> tuple[list[Resource], int]:
        query = select(Resource)
        if site:
            query = query.where(Resource.site == site)
        if kind:
            query = query.where(Resource.kind == kind)
        return self.list_page(query, order_by=col(Resource.code), limit=limit, offset=offset)

    def by_codes(self, codes: Iterable[str]) -> dict[str, Resource]:
        wanted = list(set(codes))
        found: dict[str, Resource] = {}
        for start in range(0, len(wanted), 500):
            rows = self.session.exec(
                select(Resource).where(col(Resource.code).in_(wanted[start : start + 500]))
            ).all()
            found.update({r.code: r for r in rows})
        return found

    def all(self) -> list[Resource]:
        return list(self.session.exec(select(Resource).order_by(col(Resource.code))).all())
