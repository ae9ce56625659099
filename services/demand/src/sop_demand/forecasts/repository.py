from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import pandas as pd
from sqlalchemy import delete, func, insert
from sqlmodel import col, select

from sop_demand.forecasts.models import (
    ForecastPartition,
    ForecastRun,
    ForecastSelection,
    ForecastTotal,
    ForecastValue,
    RunStatus,
)
from sop_demand.history.models import SalesHistory
from sop_demand.products.models import Product
from sop_shared.bulk import copy_rows
from sop_shared.repository import Repository

VALUE_COLUMNS = ("run_id", "product", "month", "mean", "lo_80", "hi_80", "lo_95", "hi_95")


class ForecastRunRepository(Repository[ForecastRun]):
    model = ForecastRun

    def in_progress(self, cycle: str) -> ForecastRun | None:
        return self.session.exec(
            select(ForecastRun).where(
                ForecastRun.cycle == cycle,
                col(ForecastRun.status).in_([RunStatus.queued, RunStatus.running]),
            )
        ).first()

    def for_cycle(self, cycle: str) -> ForecastRun | None:
        """The cycle's frozen run, else its latest succeeded run."""
        return self.session.exec(
            select(ForecastRun)
            .where(ForecastRun.cycle == cycle, ForecastRun.status == RunStatus.succeeded)
            .order_by(col(ForecastRun.frozen).desc(), col(ForecastRun.created_at).desc())
        ).first()

    def frozen_runs(self) -> list[ForecastRun]:
        """Per cycle the run accuracy is measured against (frozen, else latest succeeded)."""
        runs = self.session.exec(
            select(ForecastRun)
            .where(ForecastRun.status == RunStatus.succeeded)
            .order_by(
                col(ForecastRun.cycle),
                col(ForecastRun.frozen).desc(),
                col(ForecastRun.created_at).desc(),
            )
        ).all()
        chosen: dict[str, ForecastRun] = {}
        for run in runs:
            chosen.setdefault(run.cycle, run)
        return list(chosen.values())

    def families_with_history(self, history_end: str) -> list[str]:
        """Families of products with sales up to ``history_end``, or inheriting some."""
        sold = (
            select(SalesHistory.product)
            .where(col(SalesHistory.month) <= history_end)
            .distinct()
            .subquery()
        )
        own = select(Product.family).where(col(Product.code).in_(select(sold.c.product)))
        successors = select(Product.successor_code).where(
            col(Product.code).in_(select(sold.c.product)), col(Product.successor_code).is_not(None)
        )
        inherited = select(Product.family).where(col(Product.code).in_(successors))
        families = set(self.session.exec(own).all()) | set(self.session.exec(inherited).all())
        return sorted(families)

    def family_products(self, family: str) -> pd.DataFrame:
        rows = self.session.exec(
            select(Product.code, Product.category).where(Product.family == family)
        ).all()
        return pd.DataFrame(rows, columns=["product", "category"])

    def family_history(
        self, family: str, products: Sequence[str], history_end: str
    ) -> pd.DataFrame:
        """Monthly quantity per product of the family, predecessors' history included."""
        predecessors = dict(
            self.session.exec(
                select(Product.code, Product.successor_code).where(
                    col(Product.successor_code).in_(list(products))
                )
            ).all()
        )
        wanted = sorted(set(products) | set(predecessors))
        rows = self.session.exec(
            select(SalesHistory.product, SalesHistory.month, func.sum(SalesHistory.quantity))
            .where(col(SalesHistory.product).in_(wanted), col(SalesHistory.month) <= history_end)
            .group_by(SalesHistory.product, SalesHistory.month)
        ).all()
        frame = pd.DataFrame(rows, columns=["product", "month", "y"]).astype({"y": float})
        own = frame[frame["product"].isin(set(products))]
        inherited = frame[frame["product"].isin(set(predecessors))].assign(
            product=lambda f: f["product"].map(predecessors)
        )
        both = pd.concat([own, inherited], ignore_index=True)
        return both.groupby(["product", "month"], as_index=False)["y"].sum()

    def partition_done(self, run_id: uuid.UUID, family: str) -> bool:
        return self.session.get(ForecastPartition, (run_id, family)) is not None

    def write_values(self, rows: Any) -> int:
        return copy_rows(self.session, ForecastValue.__table__, VALUE_COLUMNS, rows)  # type: ignore[attr-defined]

    def write_selections(self, records: list[dict[str, Any]]) -> None:
        if records:
            self.session.execute(insert(ForecastSelection), records)

    def write_totals(self, records: list[dict[str, Any]]) -> None:
        if records:
            self.session.execute(insert(ForecastTotal), records)

    def category_totals(self, run_id: uuid.UUID) -> list[dict[str, Any]]:
        rows = self.session.exec(
            select(Product.category, ForecastValue.month, func.sum(ForecastValue.mean))
            .join(Product, col(Product.code) == col(ForecastValue.product))
            .where(ForecastValue.run_id == run_id)
            .group_by(Product.category, ForecastValue.month)
        ).all()
        return [
            {"run_id": run_id, "level": "category", "node": c, "month": m, "mean": float(v)}
            for c, m, v in rows
        ]

    def counts(self, run_id: uuid.UUID) -> tuple[int, int]:
        series = self.session.exec(
            select(func.count()).where(ForecastSelection.run_id == run_id)
        ).one()
        families = self.session.exec(
            select(func.count()).where(
                ForecastPartition.run_id == run_id, ForecastPartition.status == "done"
            )
        ).one()
        return int(series), int(families)

    def clear_category_totals(self, run_id: uuid.UUID) -> None:
        self.session.exec(  # type: ignore[call-overload]
            delete(ForecastTotal).where(
                col(ForecastTotal.run_id) == run_id, col(ForecastTotal.level) == "category"
            )
        )

    def values_frame(
        self,
        run_id: uuid.UUID,
        *,
        months: Sequence[str] | None = None,
        intervals: bool = False,
    ) -> pd.DataFrame:
        """product, month, mean of a run; with ``intervals`` also lo_80 and hi_80 (the plan's
        forecast error comes from them), read in the same query."""
        names = ["product", "month", "mean", *(["lo_80", "hi_80"] if intervals else [])]
        query = select(*(getattr(ForecastValue, n) for n in names)).where(
            ForecastValue.run_id == run_id
        )
        if months is not None:
            query = query.where(col(ForecastValue.month).in_(list(months)))
        rows = self.session.exec(query).all()
        return pd.DataFrame(rows, columns=names).astype(dict.fromkeys(names[2:], float))
