"""The small repository base every feature builds on: queries only, never a commit."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, Field
from sqlalchemy import func
from sqlmodel import Session, SQLModel, select
from sqlmodel.sql.expression import SelectOfScalar

M = TypeVar("M", bound=SQLModel)
T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of a list; subclass per resource (``ProductPage(Page[ProductRead])``)."""

    items: list[T]
    total: int = Field(description="Rows matching the filters, over all pages")
    limit: int
    offset: int


class Repository(Generic[M]):
    model: type[M]

    def __init__(self, session: Session) -> None:
        self.session = session

    def get_by(self, **filters: Any) -> M | None:
        query = select(self.model).filter_by(**filters)
        return self.session.exec(query).first()

    def get_for_update(self, **filters: Any) -> M | None:
        query = select(self.model).filter_by(**filters).with_for_update()
        return self.session.exec(query).first()

    def list_page(
        self,
        query: SelectOfScalar[M],
        *,
        order_by: Any,
        limit: int,
        offset: int,
        columns: Sequence[Any] = (),
    ) -> tuple[list[Any], int]:
        """A page and the total. With ``columns``, plain rows of those columns instead of ORM
        objects: a read-only page of many lines then costs a fraction of the time."""
        total = self.session.exec(select(func.count()).select_from(query.subquery())).one()
        page = query.order_by(order_by).limit(limit).offset(offset)
        if columns:
            return list(self.session.execute(page.with_only_columns(*columns)).all()), int(total)
        return list(self.session.exec(page).all()), int(total)

    def add(self, row: M) -> M:
        self.session.add(row)
        return row
