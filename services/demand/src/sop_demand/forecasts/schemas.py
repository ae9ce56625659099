from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, computed_field

from sop_shared.repository import Page
from sop_shared.types import Month


class ForecastRunCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    cycle: Month = Field(description="The cycle month; its forecast starts in that month")
    horizon: int = Field(default=24, ge=1, le=36, description="Months forecast")
    history_end: Month | None = Field(
        default=None, description="Last month of actuals used (default: the month before)"
    )
    season_length: int = Field(default=12, ge=1, le=24)
    n_windows: int = Field(default=3, ge=1, le=6, description="Backtest windows per series")
    families: list[str] | None = Field(
        default=None, min_length=1, description="Only these families (default: all with history)"
    )


class ForecastRunRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    cycle: str
    history_end: str
    horizon: int
    season_length: int
    n_windows: int
    status: str
    job_id: uuid.UUID
    frozen: bool
    families: int
    series: int
    error: str | None
    created_by: str
    created_at: datetime
    finished_at: datetime | None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def job_url(self) -> str:
        return f"/api/v1/jobs/{self.job_id}"


class ForecastRunPage(Page[ForecastRunRead]):
    pass


class ForecastValueRead(BaseModel):
    product: str
    month: str
    mean: float
    lo_80: float
    hi_80: float
    lo_95: float
    hi_95: float


class ForecastValuePage(Page[ForecastValueRead]):
    pass


class SelectionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    product: str
    family: str
    demand_class: str
    tier: str
    model: str
    metric: str | None
    score: float | None
    scores: dict[str, Any]
    n_obs: int


class SelectionPage(Page[SelectionRead]):
    pass


class TotalRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    level: str
    node: str
    month: str
    mean: float


class TotalPage(Page[TotalRead]):
    pass
