"""The data-status contract each service answers for the cycle's step-1 gate."""

from __future__ import annotations

from pydantic import BaseModel, Field


class DataCheck(BaseModel):
    name: str
    ok: bool
    detail: str | None = None


class DataStatus(BaseModel):
    service: str
    month: str = Field(description="The month whose data is asked for (usually the previous month)")
    ready: bool = Field(description="True when every check passes")
    last_month_loaded: str | None = None
    checks: list[DataCheck] = Field(default_factory=list)
