"""The capacity service: Resources and calendars, routings, workforce, rough-cut capacity and the capacity-constrained production plan (S&OP step 5)."""

from __future__ import annotations

from pathlib import Path

import httpx
from fastapi import FastAPI

from sop_capacity import models  # noqa: F401  (register the tables before the app starts)
from sop_capacity.calendars.routes import router as calendars_router
from sop_capacity.consumers.handlers import consumers
from sop_capacity.datastatus.routes import router as datastatus_router
from sop_capacity.history.routes import router as history_router
from sop_capacity.production_plans.jobs import make_production_plan_work
from sop_capacity.production_plans.routes import router as production_plans_router
from sop_capacity.production_plans.service import JOB_KIND
from sop_capacity.rccp.routes import router as rccp_router
from sop_capacity.resources.routes import router as resources_router
from sop_capacity.routings.routes import router as routings_router
from sop_capacity.scenarios.routes import router as scenarios_router
from sop_capacity.settings import CapacitySettings, get_settings
from sop_capacity.workforce.routes import router as workforce_router
from sop_shared.app import create_service_app
from sop_shared.readmodels.products import router as products_router

SERVICE_DIR = Path(__file__).resolve().parents[2]


def create_app(
    settings: CapacitySettings | None = None,
    *,
    supply_transport: httpx.BaseTransport | None = None,
) -> FastAPI:
    """``supply_transport`` replaces the HTTP transport to supply (a fake in tests)."""
    settings = settings or get_settings()
    app = create_service_app(
        settings,
        title="S&OP capacity service",
        description="Resources and calendars, routings, workforce, rough-cut capacity and the capacity-constrained production plan (S&OP step 5).",
        service_dir=SERVICE_DIR,
        routers=[
            resources_router,
            calendars_router,
            routings_router,
            workforce_router,
            history_router,
            datastatus_router,
            rccp_router,
            production_plans_router,
            scenarios_router,
            products_router,
        ],
        consumers=consumers(),
        job_handlers={JOB_KIND: make_production_plan_work(settings, transport=supply_transport)},
    )
    app.state.supply_transport = supply_transport
    return app
