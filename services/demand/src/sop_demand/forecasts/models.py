from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from sop_shared.jsontype import JsonColumnType


def utcnow() -> datetime:
    return datetime.now(UTC)


class RunStatus(StrEnum):
    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"


class ForecastRun(SQLModel, table=True):
    """A statistical forecast of every product of a cycle, computed family by family.

    Runs are never changed once stored; the cycle's frozen run is the one its demand plan
    was submitted from, and accuracy is measured against it when actuals arrive.
    """

    __tablename__ = "forecast_run"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    cycle: str = Field(max_length=7, index=True)
    history_end: str = Field(max_length=7, description="Last month of actuals used")
    horizon: int
    season_length: int = 12
    n_windows: int = 3
    status: str = Field(default=RunStatus.queued, max_length=20)
    job_id: uuid.UUID
    frozen: bool = False
    families: int = 0
    series: int = 0
    error: str | None = None
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None


class ForecastPartition(SQLModel, table=True):
    """One family of a run, done: the guard that makes a redelivered partition a no-op."""

    __tablename__ = "forecast_partition"

    run_id: uuid.UUID = Field(primary_key=True)
    family: str = Field(primary_key=True, max_length=100)
    status: str = Field(max_length=20)
    series: int = 0
    seconds: float = 0.0
    error: str | None = None
    finished_at: datetime = Field(default_factory=utcnow)


class ForecastValue(SQLModel, table=True):
    """Product × month forecast with 80 % and 95 % prediction intervals."""

    __tablename__ = "forecast_value"

    run_id: uuid.UUID = Field(primary_key=True)
    product: str = Field(primary_key=True, max_length=64)
    month: str = Field(primary_key=True, max_length=7)
    mean: float
    lo_80: float
    hi_80: float
    lo_95: float
    hi_95: float


class ForecastSelection(SQLModel, table=True):
    """The model chosen for a product, its demand class and the backtest scores."""

    __tablename__ = "forecast_selection"

    run_id: uuid.UUID = Field(primary_key=True)
    product: str = Field(primary_key=True, max_length=64)
    family: str = Field(max_length=100)
    demand_class: str = Field(max_length=20)
    tier: str = Field(max_length=30)
    model: str = Field(max_length=200)
    metric: str | None = Field(default=None, max_length=20)
    score: float | None = None
    scores: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JsonColumnType, nullable=False)
    )
    n_obs: int = 0


class ForecastTotal(SQLModel, table=True):
    """Family and category totals of a run: sums of their products (bottom-up)."""

    __tablename__ = "forecast_total"

    run_id: uuid.UUID = Field(primary_key=True)
    level: str = Field(primary_key=True, max_length=10)
    node: str = Field(primary_key=True, max_length=100)
    month: str = Field(primary_key=True, max_length=7)
    mean: float
