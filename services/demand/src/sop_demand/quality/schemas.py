from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel, Field

T = TypeVar("T")


class MonthLoaded(BaseModel):
    month: str
    rows: int
    quantity: float
    revenue: float


class SeriesGap(BaseModel):
    product: str
    site: str
    channel: str | None
    missing_months: list[str]


class ValueFlag(BaseModel):
    product: str
    site: str
    channel: str | None
    month: str
    quantity: float
    revenue: float
    median: float | None = None
    score: float | None = Field(default=None, description="Robust z-score (modified z)")


class Finding(BaseModel, Generic[T]):
    count: int
    items: list[T] = Field(description="The first 100")


class DataQualityReport(BaseModel):
    """What a planner checks before trusting the history (S&OP step 1)."""

    last_month_loaded: str | None
    month_from: str | None
    month_to: str | None
    months: list[MonthLoaded]
    series: int = Field(description="product × site × channel series in the window")
    gaps: Finding[SeriesGap] = Field(description="Months missing inside a series' span")
    negative_values: Finding[ValueFlag]
    outliers: Finding[ValueFlag] = Field(
        description="Modified z-score over 3.5 within the series (Iglewicz-Hoaglin)"
    )
    products_without_history: Finding[str] = Field(
        description="Active or phase-out products with no sales at all"
    )
    budget_months: list[str] = Field(description="Months that carry a budget")
