from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from sop_shared.repository import Page

#: Demand plan statuses that count as a plan for the cycle (drafts do not).
SUBMITTED = frozenset({"submitted", "approved"})


class PlanRef(BaseModel):
    """What the cycle knows of one plan version, detached from the session."""

    model_config = ConfigDict(from_attributes=True, frozen=True)

    id: int = Field(description="Arrival order of the record")
    kind: str
    plan_id: str
    cycle: str
    scenario: str
    version: int
    status: str
    upstream_plan_id: str | None = None
    totals: dict[str, Any] = Field(default_factory=dict)
    counts: dict[str, Any] = Field(default_factory=dict)
    lines_url: str | None = None
    received_at: datetime | None = None

    def identity(self) -> dict[str, Any]:
        """How a step remembers the plan it rested on (the basis)."""
        return {"plan_id": self.plan_id, "version": self.version, "status": self.status}


class CurrentPlans(BaseModel):
    """The chain of one (cycle, scenario): demand → supply → production."""

    demand: PlanRef | None = None
    supply: PlanRef | None = None
    production: PlanRef | None = None
    #: The approved plans of an approved cycle (pinned at approval, settled by definition).
    frozen: bool = False

    @property
    def complete(self) -> bool:
        return bool(self.demand and self.supply and self.production)

    @property
    def settled(self) -> bool:
        """Supply has answered the current production plan with a constrained plan (the
        CONTRACTS loop ends there): the constrained plan arrived after the production plan."""
        if not (self.demand and self.production and self.supply):
            return False
        if self.frozen:
            return True
        if self.supply.status != "constrained":
            return False
        supply_at, production_at = self.supply.received_at, self.production.received_at
        return supply_at is None or production_at is None or supply_at >= production_at

    def basis(self) -> dict[str, Any]:
        return {
            kind: ref.identity()
            for kind, ref in (
                ("demand", self.demand),
                ("supply", self.supply),
                ("production", self.production),
            )
            if ref is not None
        }

    def get(self, kind: str) -> PlanRef | None:
        return getattr(self, kind)  # type: ignore[no-any-return]


def resolve_current(records: list[PlanRef]) -> CurrentPlans:
    """Pick the current chain among the plans recorded for one (cycle, scenario).

    Demand: the highest submitted version of the scenario's own demand plans (a scenario
    never borrows base's: until its own exists, it is computing). Supply: the latest plan
    computed from that demand plan. Production: the latest plan computed from any of those
    supply plans (capacity answers the unconstrained one).
    """
    order = lambda r: (r.version, r.id)  # noqa: E731
    demands = [r for r in records if r.kind == "demand" and r.status in SUBMITTED]
    current_demand = max(demands, key=order) if demands else None
    if current_demand is None:
        return CurrentPlans()
    supplies = [
        r
        for r in records
        if r.kind == "supply" and r.upstream_plan_id in (current_demand.plan_id, None)
    ]
    supply = max(supplies, key=order) if supplies else None
    supply_ids = {s.plan_id for s in supplies}
    productions = [
        r
        for r in records
        if r.kind == "production"
        and (r.upstream_plan_id is None or r.upstream_plan_id in supply_ids)
    ]
    production = max(productions, key=order) if productions and supply else None
    return CurrentPlans(demand=current_demand, supply=supply, production=production)


class PlanRecordRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    kind: str
    plan_id: str
    cycle: str
    scenario: str
    version: int
    status: str
    upstream_plan_id: str | None
    totals: dict[str, Any]
    counts: dict[str, Any]
    lines_url: str | None
    source: str
    event_id: str
    event_time: datetime
    received_at: datetime


class PlanRecordPage(Page[PlanRecordRead]):
    pass
