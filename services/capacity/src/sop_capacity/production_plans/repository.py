from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, func
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from sop_capacity.production_plans.models import (
    PlanTrigger,
    ProductionPlan,
    ProductionPlanLine,
    ProductionPlanLoad,
    ProductionPlanMaterial,
    ProductionPlanPosition,
    ProductionPlanUnplannable,
)
from sop_shared.repository import Repository


class ProductionPlanRepository(Repository[ProductionPlan]):
    model = ProductionPlan

    def next_version(self, cycle: str, scenario: str) -> int:
        query = select(func.max(ProductionPlan.version)).where(
            ProductionPlan.cycle == cycle, ProductionPlan.scenario == scenario
        )
        return int(self.session.exec(query).one() or 0) + 1

    def page(
        self,
        *,
        cycle: str | None,
        scenario: str | None,
        supply_plan_id: str | None,
        strategy: str | None,
        limit: int,
        offset: int,
        status: str | None = None,
    ) -> tuple[list[ProductionPlan], int]:
        query = select(ProductionPlan)
        if status:
            query = query.where(ProductionPlan.status == status)
        if cycle:
            query = query.where(ProductionPlan.cycle == cycle)
        if scenario:
            query = query.where(ProductionPlan.scenario == scenario)
        if supply_plan_id:
            query = query.where(ProductionPlan.supply_plan_id == supply_plan_id)
        if strategy:
            query = query.where(ProductionPlan.strategy == strategy)
        query = query.order_by(col(ProductionPlan.cycle).desc(), col(ProductionPlan.scenario))
        return self.list_page(
            query, order_by=col(ProductionPlan.version).desc(), limit=limit, offset=offset
        )

    def triggers_of(self, supply_plan_id: str) -> list[PlanTrigger]:
        """What the supply plan's events said of it (cycle, scenario)."""
        query = select(PlanTrigger).where(PlanTrigger.supply_plan_id == supply_plan_id)
        return list(self.session.exec(query).all())

    def find(self, plan_id: uuid.UUID) -> ProductionPlan | None:
        return self.session.get(ProductionPlan, plan_id)

    def trigger(self, supply_plan_id: str, scenario: str) -> PlanTrigger | None:
        return self.session.get(PlanTrigger, (supply_plan_id, scenario))


def _lines_query(
    plan_id: uuid.UUID, product: str | None, resource: str | None, month: str | None
) -> SelectOfScalar[ProductionPlanLine]:
    query = select(ProductionPlanLine).where(ProductionPlanLine.plan_id == plan_id)
    if product:
        query = query.where(ProductionPlanLine.product == product)
    if resource:
        query = query.where(ProductionPlanLine.resource == resource)
    if month:
        query = query.where(ProductionPlanLine.month == month)
    return query.order_by(
        col(ProductionPlanLine.product), col(ProductionPlanLine.site), col(ProductionPlanLine.month)
    )


LINE_COLUMNS = ("product", "site", "month", "resource", "quantity", "hours", "cost")
POSITION_COLUMNS = (
    "product",
    "site",
    "month",
    "requirement",
    "production",
    "inventory",
    "backorder",
    "safety_stock",
    "safety_stock_shortfall",
    "short_of",
)
MATERIAL_COLUMNS = (
    "material",
    "site",
    "month",
    "opening",
    "receipts",
    "purchases",
    "used",
    "closing",
    "value",
    "binding",
)


class LineRepository(Repository[ProductionPlanLine]):
    """Lines of one plan: pages for screens, a stream for services."""

    model = ProductionPlanLine

    def lines_page(
        self,
        plan_id: uuid.UUID,
        *,
        product: str | None,
        resource: str | None,
        month: str | None,
        limit: int,
        offset: int,
    ) -> tuple[list[Any], int]:
        query = _lines_query(plan_id, product, resource, month)
        return self.list_page(
            query,
            order_by=col(ProductionPlanLine.resource),
            limit=limit,
            offset=offset,
            columns=[getattr(ProductionPlanLine, c) for c in LINE_COLUMNS],
        )

    def stream_query(
        self, plan_id: uuid.UUID, *, product: str | None, resource: str | None, month: str | None
    ) -> Select[Any]:
        """Every line's ``LINE_COLUMNS`` in page order, as plain rows for a stream."""
        query = _lines_query(plan_id, product, resource, month).order_by(
            col(ProductionPlanLine.resource)
        )
        return query.with_only_columns(*(getattr(ProductionPlanLine, c) for c in LINE_COLUMNS))


class PositionRepository(Repository[ProductionPlanPosition]):
    model = ProductionPlanPosition

    def _query(
        self, plan_id: uuid.UUID, product: str | None, backordered: bool
    ) -> SelectOfScalar[ProductionPlanPosition]:
        query = select(ProductionPlanPosition).where(ProductionPlanPosition.plan_id == plan_id)
        if product:
            query = query.where(ProductionPlanPosition.product == product)
        if backordered:
            query = query.where(col(ProductionPlanPosition.backorder) > 0)
        return query.order_by(col(ProductionPlanPosition.product), col(ProductionPlanPosition.site))

    def positions_page(
        self, plan_id: uuid.UUID, *, product: str | None, backordered: bool, limit: int, offset: int
    ) -> tuple[list[ProductionPlanPosition], int]:
        return self.list_page(
            self._query(plan_id, product, backordered),
            order_by=col(ProductionPlanPosition.month),
            limit=limit,
            offset=offset,
        )

    def stream_query(
        self, plan_id: uuid.UUID, *, product: str | None, backordered: bool
    ) -> Select[Any]:
        query = self._query(plan_id, product, backordered).order_by(
            col(ProductionPlanPosition.month)
        )
        return query.with_only_columns(
            *(getattr(ProductionPlanPosition, c) for c in POSITION_COLUMNS)
        )

    def backordered(self, plan_id: uuid.UUID) -> list[ProductionPlanPosition]:
        query = self._query(plan_id, None, True).order_by(col(ProductionPlanPosition.month))
        return list(self.session.exec(query).all())

    def short_of_safety_stock(self, plan_id: uuid.UUID) -> list[ProductionPlanPosition]:
        query = (
            self._query(plan_id, None, False)
            .where(col(ProductionPlanPosition.safety_stock_shortfall) > 0)
            .order_by(col(ProductionPlanPosition.month))
        )
        return list(self.session.exec(query).all())


class LoadRepository(Repository[ProductionPlanLoad]):
    model = ProductionPlanLoad

    def _query(
        self, plan_id: uuid.UUID, resource: str | None
    ) -> SelectOfScalar[ProductionPlanLoad]:
        query = select(ProductionPlanLoad).where(ProductionPlanLoad.plan_id == plan_id)
        if resource:
            query = query.where(ProductionPlanLoad.resource == resource)
        return query.order_by(col(ProductionPlanLoad.resource))

    def loads_page(
        self, plan_id: uuid.UUID, *, resource: str | None, limit: int, offset: int
    ) -> tuple[list[ProductionPlanLoad], int]:
        return self.list_page(
            self._query(plan_id, resource),
            order_by=col(ProductionPlanLoad.month),
            limit=limit,
            offset=offset,
        )

    def all_loads(self, plan_id: uuid.UUID) -> list[ProductionPlanLoad]:
        query = self._query(plan_id, None).order_by(col(ProductionPlanLoad.month))
        return list(self.session.exec(query).all())


class UnplannableRepository(Repository[ProductionPlanUnplannable]):
    model = ProductionPlanUnplannable

    def reasons(self, plan_id: uuid.UUID) -> dict[tuple[str, str], str]:
        """(product, site) -> why the plan could not make it."""
        query = select(ProductionPlanUnplannable).where(
            ProductionPlanUnplannable.plan_id == plan_id
        )
        return {(r.product, r.site): r.reason for r in self.session.exec(query).all()}


class MaterialRepository(Repository[ProductionPlanMaterial]):
    model = ProductionPlanMaterial

    def _query(self, plan_id: uuid.UUID, material: str | None) -> SelectOfScalar[Any]:
        query = select(ProductionPlanMaterial).where(ProductionPlanMaterial.plan_id == plan_id)
        if material:
            query = query.where(ProductionPlanMaterial.material == material)
        return query.order_by(
            col(ProductionPlanMaterial.material), col(ProductionPlanMaterial.site)
        )

    def materials_page(
        self, plan_id: uuid.UUID, *, material: str | None, limit: int, offset: int
    ) -> tuple[list[ProductionPlanMaterial], int]:
        return self.list_page(
            self._query(plan_id, material),
            order_by=col(ProductionPlanMaterial.month),
            limit=limit,
            offset=offset,
        )

    def stream_query(self, plan_id: uuid.UUID, *, material: str | None) -> Select[Any]:
        query = self._query(plan_id, material).order_by(col(ProductionPlanMaterial.month))
        return query.with_only_columns(
            *(getattr(ProductionPlanMaterial, c) for c in MATERIAL_COLUMNS)
        )
