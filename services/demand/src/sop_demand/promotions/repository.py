from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy import select as sa_select
from sqlmodel import col, select

from sop_demand.promotions.models import Promotion
from sop_shared.repository import Repository


class PromotionRepository(Repository[Promotion]):
    model = Promotion

    def query(self, *, level: str | None, node: str | None, month: str | None) -> Any:
        query = select(Promotion)
        if level:
            query = query.where(Promotion.level == level)
        if node:
            query = query.where(Promotion.node == node)
        if month:
            query = query.where(
                col(Promotion.month_from) <= month, col(Promotion.month_to) >= month
            )
        return query

    def frame(self, *, month_from: str, month_to: str) -> pd.DataFrame:
        """Promotions overlapping the range, as the columns ``review.effects`` expects."""
        rows = self.session.execute(
            sa_select(
                col(Promotion.level),
                col(Promotion.node),
                col(Promotion.month_from),
                col(Promotion.month_to),
                col(Promotion.uplift_pct),
                col(Promotion.uplift_quantity),
                col(Promotion.price_change_pct),
            ).where(col(Promotion.month_from) <= month_to, col(Promotion.month_to) >= month_from)
        ).all()
        return pd.DataFrame(
            rows,
            columns=[
                "level",
                "node",
                "month_from",
                "month_to",
                "uplift_pct",
                "uplift_quantity",
                "price_change_pct",
            ],
        )
