from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import pandas as pd
from sqlalchemy import Uuid, func, literal, update
from sqlalchemy import insert as sa_insert
from sqlalchemy import select as sa_select
from sqlmodel import col, select

from sop_demand.history.models import SalesHistory
from sop_demand.months import add_months
from sop_demand.plans.build import LINE_COLUMNS
from sop_demand.plans.models import (
    DemandPlan,
    DemandPlanLine,
    DemandScenario,
    PlanOverride,
    PlanStatus,
)
from sop_demand.products.models import Product
from sop_shared.bulk import copy_rows
from sop_shared.repository import Repository

WRITE_COLUMNS = ("plan_id", *LINE_COLUMNS)


class PlanRepository(Repository[DemandPlan]):
    model = DemandPlan

    def next_version_no(self, cycle: str, scenario: str) -> int:
        current = self.session.exec(
            select(func.max(DemandPlan.version_no)).where(
                DemandPlan.cycle == cycle, DemandPlan.scenario == scenario
            )
        ).one()
        return int(current or 0) + 1

    def open_draft(self, cycle: str, scenario: str) -> DemandPlan | None:
        return self.session.exec(
            select(DemandPlan).where(
                DemandPlan.cycle == cycle,
                DemandPlan.scenario == scenario,
                DemandPlan.status == PlanStatus.draft,
            )
        ).first()

    def latest_submitted(self, cycle: str, scenario: str) -> DemandPlan | None:
        """The newest version that went through submit (submitted or approved)."""
        return self.session.exec(
            select(DemandPlan)
            .where(
                DemandPlan.cycle == cycle,
                DemandPlan.scenario == scenario,
                col(DemandPlan.status).in_([PlanStatus.submitted, PlanStatus.approved]),
            )
            .order_by(col(DemandPlan.version_no).desc())
        ).first()

    def supersede(self, cycle: str, scenario: str, keep: uuid.UUID) -> None:
        self.session.exec(  # type: ignore[call-overload]
            update(DemandPlan)
            .where(
                col(DemandPlan.cycle) == cycle,
                col(DemandPlan.scenario) == scenario,
                col(DemandPlan.status) == PlanStatus.submitted,
                col(DemandPlan.id) != keep,
            )
            .values(status=PlanStatus.superseded)
        )

    # ------------------------------------------------------------------ lines

    def write_lines(self, plan_id: uuid.UUID, lines: pd.DataFrame) -> int:
        """A missing σ (NaN) is written as NULL (COPY would store PostgreSQL's NaN)."""
        columns = [_nulls(lines[c]) for c in LINE_COLUMNS]
        return copy_rows(
            self.session,
            DemandPlanLine.__table__,  # type: ignore[attr-defined]
            WRITE_COLUMNS,
            zip([plan_id] * len(lines), *columns, strict=True),
        )

    def copy_lines(self, source: uuid.UUID, target: uuid.UUID) -> None:
        table = DemandPlanLine.__table__  # type: ignore[attr-defined]
        rest = [c for c in WRITE_COLUMNS if c != "plan_id"]
        self.session.execute(
            sa_insert(table).from_select(
                list(WRITE_COLUMNS),
                select(
                    literal(target, type_=Uuid()), *(getattr(DemandPlanLine, c) for c in rest)
                ).where(DemandPlanLine.plan_id == source),
            )
        )

    def lines_frame(
        self, plan_id: uuid.UUID, *, families: Sequence[str] | None = None
    ) -> pd.DataFrame:
        query = select(*(getattr(DemandPlanLine, c) for c in LINE_COLUMNS)).where(
            DemandPlanLine.plan_id == plan_id
        )
        if families is not None:
            query = query.where(col(DemandPlanLine.family).in_(list(families)))
        rows = self.session.exec(query).all()
        frame = pd.DataFrame(rows, columns=LINE_COLUMNS)
        floats = ["baseline", "adjusted", "quantity", "price", "revenue", "forecast_sigma"]
        return frame.astype(dict.fromkeys(floats, float))

    def update_quantities(self, plan_id: uuid.UUID, changed: pd.DataFrame) -> None:
        """New quantity and revenue for rows by primary key (ORM bulk UPDATE)."""
        records = [
            {
                "plan_id": plan_id,
                "product": r.product,
                "site": r.site,
                "month": r.month,
                "quantity": float(r.quantity),
                "revenue": float(r.revenue),
            }
            for r in changed.itertuples(index=False)
        ]
        if records:
            self.session.execute(update(DemandPlanLine), records)

    def totals(self, plan_id: uuid.UUID) -> tuple[int, float, float, int]:
        lines, quantity, revenue, products = self.session.exec(
            select(
                func.count(),
                func.coalesce(func.sum(DemandPlanLine.quantity), 0.0),
                func.coalesce(func.sum(DemandPlanLine.revenue), 0.0),
                func.count(func.distinct(DemandPlanLine.product)),
            ).where(DemandPlanLine.plan_id == plan_id)
        ).one()
        return int(lines), float(quantity), float(revenue), int(products)

    def family_month(self, plan_id: uuid.UUID) -> pd.DataFrame:
        rows = self.session.execute(
            sa_select(
                col(DemandPlanLine.family),
                col(DemandPlanLine.month),
                func.sum(DemandPlanLine.quantity),
                func.sum(DemandPlanLine.revenue),
                func.sum(DemandPlanLine.baseline),
            )
            .where(col(DemandPlanLine.plan_id) == plan_id)
            .group_by(DemandPlanLine.family, DemandPlanLine.month)
            .order_by(DemandPlanLine.family, DemandPlanLine.month)
        ).all()
        return pd.DataFrame(
            rows, columns=["family", "month", "quantity", "revenue", "baseline"]
        ).astype({"quantity": float, "revenue": float, "baseline": float})

    # ------------------------------------------------------------------ inputs

    def products_frame(self) -> pd.DataFrame:
        """Every product with the columns ``review.effects`` and ``build.site_shares`` use."""
        rows = self.session.execute(
            sa_select(
                col(Product.code),
                col(Product.family),
                col(Product.category),
                col(Product.price),
                col(Product.lifecycle),
                col(Product.launch_date),
                col(Product.eol_date),
                col(Product.analog_code),
                col(Product.scaling_factor),
                col(Product.launch_curve),
                col(Product.launch_probability),
                col(Product.rundown_months),
                col(Product.successor_code),
            ).order_by(col(Product.code))
        ).all()
        frame = pd.DataFrame(
            rows,
            columns=[
                "code",
                "family",
                "category",
                "price",
                "lifecycle",
                "launch_date",
                "eol_date",
                "analog_code",
                "scaling_factor",
                "launch_curve",
                "launch_probability",
                "rundown_months",
                "successor_code",
            ],
        )
        frame["launch_month"] = frame["launch_date"].map(_month_of, na_action="ignore")
        frame["eol_month"] = frame["eol_date"].map(_month_of, na_action="ignore")
        predecessors = frame.dropna(subset=["successor_code"]).drop_duplicates("successor_code")
        frame["predecessor"] = frame["code"].map(
            dict(zip(predecessors["successor_code"], predecessors["code"], strict=True))
        )
        return frame

    def recent_site_history(self, history_end: str, months: int = 12) -> pd.DataFrame:
        start = add_months(history_end, -(months - 1))
        rows = self.session.exec(
            select(SalesHistory.product, SalesHistory.site, func.sum(SalesHistory.quantity))
            .where(col(SalesHistory.month) >= start, col(SalesHistory.month) <= history_end)
            .group_by(SalesHistory.product, SalesHistory.site)
        ).all()
        return pd.DataFrame(rows, columns=["product", "site", "quantity"]).astype(
            {"quantity": float}
        )

    def family_actuals(self, month_from: str, month_to: str) -> pd.DataFrame:
        rows = self.session.exec(
            select(
                Product.family,
                SalesHistory.month,
                func.sum(SalesHistory.quantity),
                func.sum(SalesHistory.revenue),
            )
            .join(Product, col(Product.code) == col(SalesHistory.product))
            .where(col(SalesHistory.month) >= month_from, col(SalesHistory.month) <= month_to)
            .group_by(Product.family, SalesHistory.month)
        ).all()
        return pd.DataFrame(rows, columns=["family", "month", "quantity", "revenue"]).astype(
            {"quantity": float, "revenue": float}
        )

    def scenarios(self, cycle: str) -> list[DemandScenario]:
        return list(
            self.session.exec(
                select(DemandScenario).where(
                    DemandScenario.cycle == cycle, DemandScenario.status == "active"
                )
            ).all()
        )

    def overrides_query(self, plan_id: uuid.UUID) -> Any:
        return select(PlanOverride).where(PlanOverride.plan_id == plan_id)


def _nulls(column: pd.Series) -> list[Any]:
    """The column's values with NaN as None."""
    if column.dtype.kind != "f":
        return column.tolist()
    return column.astype(object).where(column.notna(), None).tolist()


def _month_of(value: Any) -> str:
    return f"{value.year:04d}-{value.month:02d}"
