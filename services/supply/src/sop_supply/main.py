"""The supply service: Sites, item-site parameters, inventory, inventory targets, the supply plan and supplier contracts (S&OP step 4)."""

from __future__ import annotations

from pathlib import Path

import httpx
from fastapi import FastAPI

from sop_shared.app import create_service_app
from sop_shared.readmodels.products import router as products_router
from sop_supply import models  # noqa: F401  (register the tables before the app starts)
from sop_supply.consumers.handlers import consumers
from sop_supply.masterdata.routes import router as masterdata_router
from sop_supply.plans.jobs import SupplyPlanJob
from sop_supply.plans.peers import Peers
from sop_supply.plans.routes import router as plans_router
from sop_supply.plans.routes import scenarios_router
from sop_supply.plans.service import JOB_KIND
from sop_supply.settings import SupplySettings, get_settings
from sop_supply.sites.routes import router as sites_router

SERVICE_DIR = Path(__file__).resolve().parents[2]


def create_app(
    settings: SupplySettings | None = None, *, peer_transport: httpx.BaseTransport | None = None
) -> FastAPI:
    """``peer_transport`` replaces the network for calls to demand and capacity (tests)."""
    settings = settings or get_settings()
    return create_service_app(
        settings,
        title="S&OP supply service",
        description="Sites, item-site parameters, inventory, inventory targets, the supply plan and supplier contracts (S&OP step 4).",
        service_dir=SERVICE_DIR,
        routers=[sites_router, masterdata_router, plans_router, scenarios_router, products_router],
        consumers=consumers(),
        job_handlers={JOB_KIND: SupplyPlanJob(Peers(settings, transport=peer_transport))},
    )
