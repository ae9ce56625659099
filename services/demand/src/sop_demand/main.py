"""The demand service: products, history, forecasts and the consensus demand plan."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from sop_demand import models  # noqa: F401  (register the tables before the app starts)
from sop_demand.accuracy.routes import router as accuracy_router
from sop_demand.budget.routes import router as budget_router
from sop_demand.consumers.handlers import cycle_consumer, forecast_consumer
from sop_demand.forecasts.pools import use_forkserver
from sop_demand.forecasts.routes import router as forecasts_router
from sop_demand.forecasts.service import LOCAL_JOB_KIND, run_locally
from sop_demand.history.routes import router as history_router
from sop_demand.plans.routes import router as plans_router
from sop_demand.products.routes import router as products_router
from sop_demand.promotions.routes import router as promotions_router
from sop_demand.quality.routes import router as quality_router
from sop_demand.review.routes import router as review_router
from sop_demand.settings import DemandSettings, get_settings
from sop_shared.app import create_service_app

SERVICE_DIR = Path(__file__).resolve().parents[2]

TAGS = [
    {"name": "products", "description": "Product master data and lifecycle (owned here)"},
    {"name": "sales-history", "description": "Sales per product × site × channel × month"},
    {"name": "demand-budgets", "description": "Budget per product or family × month"},
    {"name": "data-quality", "description": "History quality and the step-1 data gate"},
    {"name": "promotions", "description": "Promotions and price plans (product review)"},
    {"name": "forecast-runs", "description": "Statistical forecast runs (jobs by family)"},
    {"name": "demand-plans", "description": "Consensus demand plan versions, overrides, LE"},
    {"name": "forecast-accuracy", "description": "Accuracy by product, family, lag; FVA"},
    {"name": "product-review", "description": "NPI forecasts from analogs, the NPI funnel"},
]


def create_app(settings: DemandSettings | None = None) -> FastAPI:
    settings = settings or get_settings()
    if settings.run_workers:  # consumer and job threads will run forecasts: no plain fork
        use_forkserver()
    return create_service_app(
        settings,
        title="S&OP demand service",
        description="Products and lifecycle, sales history, statistical forecast, "
        "accuracy and the consensus demand plan (S&OP steps 1-3).",
        service_dir=SERVICE_DIR,
        routers=[
            products_router,
            history_router,
            budget_router,
            quality_router,
            promotions_router,
            forecasts_router,
            plans_router,
            accuracy_router,
            review_router,
        ],
        consumers=[forecast_consumer(settings.forecast_n_jobs), cycle_consumer()],
        job_handlers={LOCAL_JOB_KIND: run_locally(settings.forecast_n_jobs)},
        openapi_tags=TAGS,
    )
