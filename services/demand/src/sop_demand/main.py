"""The demand service: products, history, forecasts and the consensus demand plan."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from sop_demand import models  # noqa: F401  (register the tables before the app starts)
from sop_demand.products.routes import router as products_router
from sop_demand.settings import DemandSettings, get_settings
from sop_shared.app import create_service_app

SERVICE_DIR = Path(__file__).resolve().parents[2]


def create_app(settings: DemandSettings | None = None) -> FastAPI:
    return create_service_app(
        settings or get_settings(),
        title="S&OP demand service",
        description="Products and lifecycle, sales history, statistical forecast, "
        "accuracy and the consensus demand plan (S&OP steps 1-3).",
        service_dir=SERVICE_DIR,
        routers=[products_router],
        openapi_tags=[{"name": "products", "description": "Product master data (owned here)"}],
    )
