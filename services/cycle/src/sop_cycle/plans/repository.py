from __future__ import annotations

from sqlalchemy import func
from sqlmodel import col, select

from sop_cycle.plans.models import PlanRecord
from sop_shared.repository import Repository

ANY_UPSTREAM = object()


class PlanRecordRepository(Repository[PlanRecord]):
    model = PlanRecord

    def for_cycle(
        self, cycle: str, scenario: str | None = None, *, up_to: int | None = None
    ) -> list[PlanRecord]:
        """The plans recorded for a cycle (one scenario), only up to record ``up_to``."""
        query = select(PlanRecord).where(PlanRecord.cycle == cycle)
        if scenario is not None:
            query = query.where(PlanRecord.scenario == scenario)
        if up_to is not None:
            query = query.where(col(PlanRecord.id) <= up_to)
        return list(self.session.exec(query.order_by(col(PlanRecord.id))).all())

    def last_id(self) -> int:
        return self.session.exec(select(func.max(PlanRecord.id))).one() or 0

    def find_upstream(
        self, *, kind: str, plan_id: str, cycle: str, scenario: str
    ) -> PlanRecord | None:
        """The recorded plan ``plan_id``: one of (cycle, scenario) when there is one, else
        the latest recorded under that id (whose cycle or scenario then differs)."""
        same = (PlanRecord.cycle == cycle) & (PlanRecord.scenario == scenario)
        return self.session.exec(
            select(PlanRecord)
            .where(PlanRecord.kind == kind, PlanRecord.plan_id == plan_id)
            .order_by(same.desc(), col(PlanRecord.id).desc())
        ).first()

    def newest_version(
        self, *, kind: str, cycle: str, scenario: str, upstream: object = ANY_UPSTREAM
    ) -> int | None:
        """Highest version recorded in one plan stream (the stale-version high-water mark)."""
        query = select(func.max(PlanRecord.version)).where(
            PlanRecord.kind == kind, PlanRecord.cycle == cycle, PlanRecord.scenario == scenario
        )
        if upstream is not ANY_UPSTREAM:
            query = query.where(
                col(PlanRecord.upstream_plan_id).is_(None)
                if upstream is None
                else PlanRecord.upstream_plan_id == upstream
            )
        return self.session.exec(query).one()
