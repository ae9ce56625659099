from __future__ import annotations

import uuid

from pydantic import BaseModel, Field


class RunRef(BaseModel):
    cycle: str
    run_id: uuid.UUID
    frozen: bool = Field(description="False: no plan submitted yet, the latest run stands in")


class AccuracyRow(BaseModel):
    """One group; the grouping keys asked for in ``by`` are filled, the others null."""

    cycle: str | None = None
    product: str | None = None
    family: str | None = None
    lag: int | None = None
    month: str | None = None
    n: int = Field(description="Product × month forecasts scored")
    wape: float | None = Field(description="Σ|F-A| / Σ|A|")
    mape: float | None = Field(description="mean |F-A|/|A| over months with A ≠ 0")
    smape: float | None
    bias: float | None = Field(description="Σ(F-A) / ΣA; positive = over-forecast")
    mase: float | None = Field(description="error / in-sample seasonal-naive error")


class AccuracyReport(BaseModel):
    by: list[str]
    lags: list[int]
    actuals_through: str | None
    runs: list[RunRef] = Field(description="The forecast each cycle is measured against")
    items: list[AccuracyRow]


class FvaRow(BaseModel):
    layer: str = Field(description="review (promotions, NPI, EOL) or consensus (overrides)")
    cycle: str | None = None
    product: str | None = None
    family: str | None = None
    lag: int | None = None
    month: str | None = None
    n: int
    baseline_error: float | None = Field(description="The metric of the statistical baseline")
    layer_error: float | None
    fva: float | None = Field(description="baseline_error - layer_error; > 0: the layer helped")


class FvaReport(BaseModel):
    metric: str
    by: list[str]
    lags: list[int]
    actuals_through: str | None
    items: list[FvaRow]
