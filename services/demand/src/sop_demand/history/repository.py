from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import delete, func
from sqlmodel import col, select

from sop_demand.history.models import SalesHistory, SalesLoad
from sop_demand.products.models import Product
from sop_shared.bulk import copy_rows
from sop_shared.repository import Repository

STAGE = sa.Table(
    "sales_stage",
    sa.MetaData(),
    sa.Column("product", sa.String(64)),
    sa.Column("site", sa.String(64)),
    sa.Column("channel", sa.String(64)),
    sa.Column("month", sa.String(7)),
)
WRITE_COLUMNS = ("product", "site", "channel", "month", "quantity", "revenue", "load_id")


class SalesRepository(Repository[SalesHistory]):
    model = SalesHistory

    def page(
        self, query: Any, *, order: Sequence[Any], limit: int, offset: int
    ) -> tuple[list[SalesHistory], int]:
        total = self.session.exec(select(func.count()).select_from(query.subquery())).one()
        rows = self.session.exec(query.order_by(*order).limit(limit).offset(offset)).all()
        return list(rows), int(total)

    def prices(self) -> dict[str, float]:
        return dict(self.session.exec(select(Product.code, Product.price)).all())

    def delete_months(self, months: Sequence[str]) -> int:
        result = self.session.exec(  # type: ignore[call-overload]
            delete(SalesHistory).where(col(SalesHistory.month).in_(list(months)))
        )
        return int(result.rowcount or 0)

    def delete_keys(self, keys: Iterable[Sequence[Any]]) -> int:
        """Delete stored rows with the batch's (product, site, channel, month) keys."""
        connection = self.session.connection()
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(
                "CREATE TEMP TABLE IF NOT EXISTS sales_stage (product varchar(64), "
                "site varchar(64), channel varchar(64), month varchar(7)) ON COMMIT DROP"
            )
        else:
            connection.exec_driver_sql(
                "CREATE TEMP TABLE IF NOT EXISTS sales_stage (product varchar(64), "
                "site varchar(64), channel varchar(64), month varchar(7))"
            )
        connection.exec_driver_sql("DELETE FROM sales_stage")
        copy_rows(self.session, STAGE, ["product", "site", "channel", "month"], keys)
        result = connection.exec_driver_sql(
            "DELETE FROM sales_history WHERE EXISTS (SELECT 1 FROM sales_stage s "
            "WHERE s.product = sales_history.product AND s.site = sales_history.site "
            "AND s.channel = sales_history.channel AND s.month = sales_history.month)"
        )
        connection.exec_driver_sql("DELETE FROM sales_stage")
        return int(result.rowcount or 0)

    def write(self, rows: Iterable[Sequence[Any]]) -> int:
        return copy_rows(self.session, SalesHistory.__table__, WRITE_COLUMNS, rows)  # type: ignore[attr-defined]

    def filtered(
        self,
        *,
        product: str | None = None,
        site: str | None = None,
        family: str | None = None,
        month_from: str | None = None,
        month_to: str | None = None,
    ) -> Any:
        query = select(SalesHistory)
        if product:
            query = query.where(SalesHistory.product == product)
        if site:
            query = query.where(SalesHistory.site == site)
        if family:
            query = query.where(
                col(SalesHistory.product).in_(select(Product.code).where(Product.family == family))
            )
        if month_from:
            query = query.where(col(SalesHistory.month) >= month_from)
        if month_to:
            query = query.where(col(SalesHistory.month) <= month_to)
        return query

    def last_month(self) -> str | None:
        return self.session.exec(select(func.max(SalesHistory.month))).one()


class SalesLoadRepository(Repository[SalesLoad]):
    model = SalesLoad
