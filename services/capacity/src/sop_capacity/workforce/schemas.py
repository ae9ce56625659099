from __future__ import annotations

from pydantic import ConfigDict, Field, ValidationInfo, field_validator

from sop_shared.bulk import BulkRow
from sop_shared.repository import Page
from sop_shared.types import Money, Quantity


class WorkforceRow(BulkRow):
    """One labour pool's crew parameters."""

    pool: str = Field(
        min_length=1,
        max_length=64,
        description="Code of a labour_pool resource",
        examples=["CREW-A"],
    )
    headcount: Quantity = Field(
        description="People in the crew at the start of the plan, within min_headcount and "
        "max_headcount"
    )
    hours_per_person: float = Field(gt=0, le=744, description="Regular hours per person a month")
    max_overtime_share: float = Field(
        default=0.0, ge=0, le=1, description="Overtime as a share of regular crew hours"
    )
    regular_hour_cost: Money = 0.0
    overtime_hour_cost: Money = 0.0
    hire_cost: Money = Field(default=0.0, description="Cost of hiring one person")
    fire_cost: Money = Field(default=0.0, description="Cost of letting one person go")
    min_headcount: Quantity = 0.0
    max_headcount: Quantity | None = None

    @field_validator("max_headcount")
    @classmethod
    def _bounds_in_order(cls, value: float | None, info: ValidationInfo) -> float | None:
        """On the field, so the problem names max_headcount (min_headcount is checked first)."""
        low = info.data.get("min_headcount")
        if value is not None and low is not None and value < low:
            raise ValueError(f"must not be below min_headcount ({low:g})")
        return value


class WorkforceRead(WorkforceRow):
    model_config = ConfigDict(from_attributes=True, extra="ignore")


class WorkforcePage(Page[WorkforceRead]):
    pass
