from __future__ import annotations

from sqlalchemy import tuple_
from sqlmodel import col, select

from sop_capacity.calendars.models import ResourceCalendar
from sop_shared.repository import Repository


class CalendarRepository(Repository[ResourceCalendar]):
    model = ResourceCalendar

    def existing_keys(self, keys: list[tuple[str, str]]) -> set[tuple[str, str]]:
        found: set[tuple[str, str]] = set()
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            rows = self.session.exec(
                select(ResourceCalendar.resource, ResourceCalendar.month).where(
                    tuple_(col(ResourceCalendar.resource), col(ResourceCalendar.month)).in_(chunk)
                )
            ).all()
            found.update((r, m) for r, m in rows)
        return found

    def list_filtered(
        self,
        *,
        resource: str | None,
        from_month: str | None,
        to_month: str | None,
        limit: int,
        offset: int,
    ) -> tuple[list[ResourceCalendar], int]:
        query = select(ResourceCalendar)
        if resource:
            query = query.where(ResourceCalendar.resource == resource)
        if from_month:
            query = query.where(col(ResourceCalendar.month) >= from_month)
        if to_month:
            query = query.where(col(ResourceCalendar.month) <= to_month)
        query = query.order_by(col(ResourceCalendar.resource))
        return self.list_page(
            query, order_by=col(ResourceCalendar.month), limit=limit, offset=offset
        )

    def in_range(self, first: str, last: str) -> list[ResourceCalendar]:
        query = select(ResourceCalendar).where(
            col(ResourceCalendar.month) >= first, col(ResourceCalendar.month) <= last
        )
        return list(self.session.exec(query).all())

    def for_resources(self, codes: list[str]) -> list[ResourceCalendar]:
        query = select(ResourceCalendar).where(col(ResourceCalendar.resource).in_(codes))
        return list(self.session.exec(query).all())
