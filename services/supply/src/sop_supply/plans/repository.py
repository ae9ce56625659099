"""Queries over supply plans; no commits."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, func, select, text
from sqlmodel import Session, col

from sop_shared.repository import Repository
from sop_supply.plans.models import (
    DemandPlanRef,
    ScenarioParameters,
    SupplyPlan,
    SupplyPlanContract,
    SupplyPlanException,
    SupplyPlanLine,
)


class SupplyPlanRepository(Repository[SupplyPlan]):
    model = SupplyPlan

    def next_version(self, *, cycle: str, scenario: str) -> int:
        """The next version of (cycle, scenario); PostgreSQL serialises concurrent writers."""
        if self.session.get_bind().dialect.name == "postgresql":
            self.session.execute(
                text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
                {"key": f"supply_plan:{cycle}:{scenario}"},
            )
        current = self.session.execute(
            select(func.max(SupplyPlan.version)).where(
                col(SupplyPlan.cycle) == cycle, col(SupplyPlan.scenario) == scenario
            )
        ).scalar_one()
        return int(current or 0) + 1

    def latest(self, *, cycle: str, scenario: str) -> SupplyPlan | None:
        query = (
            select(SupplyPlan)
            .where(col(SupplyPlan.cycle) == cycle, col(SupplyPlan.scenario) == scenario)
            .order_by(col(SupplyPlan.version).desc())
            .limit(1)
        )
        return self.session.execute(query).scalars().first()


class DemandPlanRefRepository(Repository[DemandPlanRef]):
    model = DemandPlanRef

    def latest(self, *, cycle: str, scenario: str) -> DemandPlanRef | None:
        query = (
            select(DemandPlanRef)
            .where(
                col(DemandPlanRef.cycle) == cycle,
                col(DemandPlanRef.scenario) == scenario,
                col(DemandPlanRef.status) == "submitted",
            )
            .order_by(col(DemandPlanRef.version).desc())
            .limit(1)
        )
        return self.session.execute(query).scalars().first()


class ScenarioRepository(Repository[ScenarioParameters]):
    model = ScenarioParameters


def page(
    session: Session, query: Select[Any], *, order_by: list[Any], limit: int, offset: int
) -> tuple[list[Any], int]:
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = session.execute(query.order_by(*order_by).limit(limit).offset(offset)).all()
    return list(rows), int(total)


def lines_query(plan_id: uuid.UUID, **filters: Any) -> Select[Any]:
    """Plan lines as plain rows (not ORM objects): pages and streams only read them, and
    building an ORM instance per line cost half of a 100-line page's time."""
    table = SupplyPlanLine.__table__  # type: ignore[attr-defined]
    query = select(table).where(table.c.plan_id == plan_id)
    for name, value in filters.items():
        if value is not None:
            query = query.where(table.c[name] == value)
    return query


LINE_ORDER = [col(SupplyPlanLine.product), col(SupplyPlanLine.site), col(SupplyPlanLine.month)]


def exceptions_query(plan_id: uuid.UUID, **filters: Any) -> Select[Any]:
    query = select(SupplyPlanException).where(col(SupplyPlanException.plan_id) == plan_id)
    for name, value in filters.items():
        if value is not None:
            query = query.where(getattr(SupplyPlanException, name) == value)
    return query


EXCEPTION_ORDER = [
    col(SupplyPlanException.kind),
    col(SupplyPlanException.product),
    col(SupplyPlanException.site),
    col(SupplyPlanException.month),
]


def contract_review(session: Session, plan_id: uuid.UUID) -> list[SupplyPlanContract]:
    query = (
        select(SupplyPlanContract)
        .where(col(SupplyPlanContract.plan_id) == plan_id)
        .order_by(col(SupplyPlanContract.material), col(SupplyPlanContract.contract))
    )
    return list(session.execute(query).scalars())
