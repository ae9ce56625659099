"""The capacity service: Resources and calendars, routings, workforce, rough-cut capacity and the capacity-constrained production plan (S&OP step 5)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from sop_capacity import models  # noqa: F401  (register the tables before the app starts)
from sop_capacity.consumers.handlers import consumers
from sop_capacity.resources.routes import router as resources_router
from sop_capacity.settings import CapacitySettings, get_settings
from sop_shared.app import create_service_app
from sop_shared.readmodels.products import router as products_router

SERVICE_DIR = Path(__file__).resolve().parents[2]


def create_app(settings: CapacitySettings | None = None) -> FastAPI:
    return create_service_app(
        settings or get_settings(),
        title="S&OP capacity service",
        description="Resources and calendars, routings, workforce, rough-cut capacity and the capacity-constrained production plan (S&OP step 5).",
        service_dir=SERVICE_DIR,
        routers=[resources_router, products_router],
        consumers=consumers(),
    )
