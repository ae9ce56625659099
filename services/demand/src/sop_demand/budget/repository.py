from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
from sqlmodel import col, select

from sop_demand.budget.models import DemandBudget
from sop_demand.products.models import Product
from sop_shared.repository import Repository


class BudgetRepository(Repository[DemandBudget]):
    model = DemandBudget

    def by_keys(
        self, keys: Iterable[tuple[str, str, str]]
    ) -> dict[tuple[str, str, str], DemandBudget]:
        wanted = set(keys)
        months = {k[2] for k in wanted}
        rows = self.session.exec(
            select(DemandBudget).where(col(DemandBudget.month).in_(months))
        ).all()
        return {(r.level, r.node, r.month): r for r in rows if (r.level, r.node, r.month) in wanted}

    def families(self) -> set[str]:
        return set(self.session.exec(select(Product.family).distinct()).all())

    def product_codes(self, codes: Iterable[str]) -> set[str]:
        wanted = list(set(codes))
        if not wanted:
            return set()
        return set(
            self.session.exec(select(Product.code).where(col(Product.code).in_(wanted))).all()
        )

    def query(self, *, level: str | None, node: str | None, year: int | None):  # type: ignore[no-untyped-def]
        query = select(DemandBudget)
        if level:
            query = query.where(DemandBudget.level == level)
        if node:
            query = query.where(DemandBudget.node == node)
        if year:
            query = query.where(
                col(DemandBudget.month) >= f"{year:04d}-01",
                col(DemandBudget.month) <= f"{year:04d}-12",
            )
        return query

    def family_frame(self, *, month_from: str, month_to: str) -> pd.DataFrame:
        """Budget per family × month: the family's own rows, else the sum of its products'."""
        fam = self.session.exec(
            select(
                DemandBudget.node, DemandBudget.month, DemandBudget.quantity, DemandBudget.revenue
            )
            .where(DemandBudget.level == "family")
            .where(col(DemandBudget.month) >= month_from, col(DemandBudget.month) <= month_to)
        ).all()
        prod = self.session.exec(
            select(Product.family, DemandBudget.month, DemandBudget.quantity, DemandBudget.revenue)
            .join(Product, col(Product.code) == col(DemandBudget.node))
            .where(DemandBudget.level == "product")
            .where(col(DemandBudget.month) >= month_from, col(DemandBudget.month) <= month_to)
        ).all()
        cols = ["family", "month", "budget_quantity", "budget_revenue"]
        own = pd.DataFrame(fam, columns=cols).astype(
            {"budget_quantity": float, "budget_revenue": float}
        )
        summed = (
            pd.DataFrame(prod, columns=cols)
            .astype({"budget_quantity": float, "budget_revenue": float})
            .groupby(["family", "month"], as_index=False)[["budget_quantity", "budget_revenue"]]
            .sum()
        )
        if own.empty:
            return summed
        merged = summed.merge(
            own[["family", "month"]], on=["family", "month"], how="left", indicator=True
        )
        summed = summed[(merged["_merge"] == "left_only").to_numpy()]
        return pd.concat([own, summed], ignore_index=True)
