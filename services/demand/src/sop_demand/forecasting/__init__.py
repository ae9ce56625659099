"""Statistical demand forecasting: classification, model selection, accuracy, reconciliation.

Pure computation on pandas frames: no database, no I/O, so the service can run it per
partition (product family) in workers.
"""

from sop_demand.forecasting.accuracy import (
    accuracy,
    forecast_lag,
    forecast_value_added,
    mase_scale,
)
from sop_demand.forecasting.classify import DemandClass, classify_demand, classify_series
from sop_demand.forecasting.engine import (
    ForecastResult,
    candidate_combinations,
    candidate_models,
    forecast_partitions,
    select_and_forecast,
)
from sop_demand.forecasting.reconcile import bottom_up, disaggregate, split_total

__all__ = [
    "DemandClass",
    "ForecastResult",
    "accuracy",
    "bottom_up",
    "candidate_combinations",
    "candidate_models",
    "classify_demand",
    "classify_series",
    "disaggregate",
    "forecast_lag",
    "forecast_partitions",
    "forecast_value_added",
    "mase_scale",
    "select_and_forecast",
    "split_total",
]
