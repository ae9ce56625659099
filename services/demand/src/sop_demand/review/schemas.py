from __future__ import annotations

import uuid

from pydantic import BaseModel, Field


class NpiMonth(BaseModel):
    month: str
    analog_forecast: float = Field(description="The analog's statistical forecast")
    curve: float = Field(description="Launch-curve factor (0 before launch, 1 once mature)")
    if_launched: float = Field(description="analog × scaling factor × curve")
    expected: float = Field(description="if_launched × launch probability")


class NpiForecast(BaseModel):
    product: str
    analog: str | None
    scaling_factor: float
    launch_month: str | None
    launch_probability: float
    forecast_run_id: uuid.UUID
    months: list[NpiMonth]


class FunnelLaunch(BaseModel):
    product: str
    family: str
    analog: str | None
    launch_month: str | None
    launch_probability: float
    volume_if_launched: float
    expected_volume: float
    expected_revenue: float


class FunnelCell(BaseModel):
    family: str
    month: str
    expected_volume: float
    expected_revenue: float


class NpiFunnel(BaseModel):
    """Planned launches with their probability, rolled up into expected volume."""

    forecast_run_id: uuid.UUID
    months: list[str]
    launches: list[FunnelLaunch]
    by_family_month: list[FunnelCell]
    expected_volume: float
    volume_if_all_launched: float
