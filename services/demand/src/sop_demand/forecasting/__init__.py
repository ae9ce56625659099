"""Statistical demand forecasting: classification, model selection, accuracy, reconciliation."""

from sop_demand.forecasting.classify import DemandClass, classify_demand, classify_series
from sop_demand.forecasting.engine import (
    ForecastResult,
    candidate_models,
    forecast_partitions,
    select_and_forecast,
)

__all__ = [
    "DemandClass",
    "ForecastResult",
    "candidate_models",
    "classify_demand",
    "classify_series",
    "forecast_partitions",
    "select_and_forecast",
]
