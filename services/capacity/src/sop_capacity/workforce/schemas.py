from __future__ import annotations

from pydantic import ConfigDict, Field, model_validator

from sop_capacity.ingest import RowModel
from sop_shared.repository import Page


class WorkforceRow(RowModel):
    """One labour pool's crew parameters."""

    pool: str = Field(
        min_length=1,
        max_length=64,
        description="Code of a labour_pool resource",
        examples=["CREW-A"],
    )
    headcount: float = Field(ge=0, description="People in the crew at the start of the plan")
    hours_per_person: float = Field(gt=0, le=744, description="Regular hours per person a month")
    max_overtime_share: float = Field(
        default=0.0, ge=0, le=1, description="Overtime as a share of regular crew hours"
    )
    regular_hour_cost: float = Field(default=0.0, ge=0)
    overtime_hour_cost: float = Field(default=0.0, ge=0)
    hire_cost: float = Field(default=0.0, ge=0, description="Cost of hiring one person")
    fire_cost: float = Field(default=0.0, ge=0, description="Cost of letting one person go")
    min_headcount: float = Field(default=0.0, ge=0)
    max_headcount: float | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _bounds_in_order(self) -> WorkforceRow:
        if self.max_headcount is not None and self.max_headcount < self.min_headcount:
            raise ValueError("max_headcount must not be below min_headcount")
        return self


class WorkforceRead(WorkforceRow):
    model_config = ConfigDict(from_attributes=True, extra="ignore")


class WorkforcePage(Page[WorkforceRead]):
    pass
