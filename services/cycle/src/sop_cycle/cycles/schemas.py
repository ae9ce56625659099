from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.json_schema import SkipJsonSchema

from sop_cycle.settings import STEP_NAMES
from sop_shared.auth import Role
from sop_shared.repository import Page
from sop_shared.types import Month

StepName = StrEnum("StepName", {name: name for name in STEP_NAMES})  # type: ignore[misc]
MonthPath = Annotated[
    str,
    Path(pattern=r"^(19|2\d)\d{2}-(0[1-9]|1[0-2])$", examples=["2026-12"], description="YYYY-MM"),
]


class CycleCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    month: Month


class CycleRead(CycleCreate):
    model_config = ConfigDict(from_attributes=True)

    status: str
    created_by: str
    version: int


class CyclePage(Page[CycleRead]):
    pass


class StepRead(BaseModel):
    """A step as a coordinator sees it: ``status`` is ``overdue`` once an open step is late."""

    model_config = ConfigDict(from_attributes=True)

    name: str
    seq: int
    status: str = Field(description="Effective status (overdue computed against today)")
    workflow_status: str = Field(description="Stored status, before the overdue rule")
    overdue: bool
    owner_role: str
    owner_user: str | None
    due_date: date
    basis: dict[str, Any] = Field(description="Plans the step was completed (or made ready) on")
    version: int
    started_at: datetime | None
    completed_at: datetime | None
    updated_at: datetime


class PlanRefRead(BaseModel):
    kind: str
    plan_id: str
    version: int
    status: str
    upstream_plan_id: str | None = None
    totals: dict[str, Any] = Field(default_factory=dict)


class ApprovalRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    scenario: str
    demand_plan_id: str | None
    supply_plan_id: str | None
    production_plan_id: str | None
    demand_version: int | None = None
    supply_version: int | None = None
    production_version: int | None = None
    approved_by: str
    approved_at: datetime
    comment: str | None


class CycleDetail(CycleRead):
    steps: list[StepRead]
    current_plans: dict[str, PlanRefRead | None] = Field(
        description="The base scenario's current demand, supply and production plans; once "
        "approved, the approved scenario's plans as approved (frozen)"
    )
    approval: ApprovalRead | None = None


class StepUpdate(BaseModel):
    """Owner and due date of a step; the status changes only through transitions."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    owner_role: Role | None = None
    owner_user: str | None = Field(default=None, max_length=200)
    # Every step has a due date: it may be moved, not removed (null is refused, 422).
    due_date: date | SkipJsonSchema[None] = None

    @field_validator("due_date", mode="before")
    @classmethod
    def _due_date_not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("due_date cannot be null: every step has a due date")
        return value


class TransitionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    reason: str | None = Field(default=None, max_length=2000)


class ReopenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    reason: str = Field(min_length=1, max_length=2000, description="Why the step reopens")


class TransitionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    step: str
    action: str
    from_status: str
    to_status: str
    actor: str
    reason: str | None
    event_id: str | None
    at: datetime


class TransitionPage(Page[TransitionRead]):
    pass


class GateCheck(BaseModel):
    name: str
    ok: bool
    detail: str | None = None


class PeerDataStatus(BaseModel):
    """One service's answer to ``GET /data-status`` (or why there was none)."""

    service: str
    month: str
    ready: bool
    last_month_loaded: str | None = None
    detail: str | None = None
