"""The cycle service: the seven-step monthly cycle, scenarios, pre-S&OP and executive approval."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import httpx
from fastapi import FastAPI

from sop_cycle import models  # noqa: F401  (register the tables before the app starts)
from sop_cycle.consumers.handlers import consumers
from sop_cycle.cycles.routes import router as cycles_router
from sop_cycle.cycles.watch import overdue_watcher
from sop_cycle.executive.routes import kpi_router
from sop_cycle.executive.routes import router as executive_router
from sop_cycle.executive.service import KPI_JOB, snapshot_kpis
from sop_cycle.peers import Peers
from sop_cycle.plans.routes import router as plans_router
from sop_cycle.presop.routes import router as presop_router
from sop_cycle.scenarios.routes import router as scenarios_router
from sop_cycle.settings import CycleSettings, get_settings
from sop_shared.app import create_service_app

SERVICE_DIR = Path(__file__).resolve().parents[2]

TAGS = [
    {"name": "cycles", "description": "Monthly cycles, their seven steps, gates and audit trail"},
    {"name": "plans", "description": "Plan versions learned from the planning services' events"},
    {"name": "scenarios", "description": "What-if variants of a cycle's plan and their KPIs"},
    {"name": "pre-sop", "description": "Step 6: the reconciled view of a scenario"},
    {"name": "executive", "description": "Step 7: decisions, approval, send-back, review pack"},
    {"name": "kpis", "description": "KPIs across cycles, as a time series"},
]


def create_app(
    settings: CycleSettings | None = None, *, peer_transport: httpx.BaseTransport | None = None
) -> FastAPI:
    """``peer_transport`` replaces the network under the peer clients (tests fake the peers)."""
    settings = settings or get_settings()
    peers = Peers.from_settings(settings, transport=peer_transport)

    def start_overdue_watcher(app: FastAPI) -> None:
        if settings.run_workers:  # one per worker process, like the relay and the consumers
            watcher = overdue_watcher(app.state.engine, settings.overdue_check_seconds)
            app.state.workers.start("cycle-overdue", watcher)

    app = create_service_app(
        settings,
        title="S&OP cycle service",
        description="Cycles and their seven steps, scenarios, the pre-S&OP reconciliation, "
        "executive decisions and approval (S&OP steps 1, 6, 7).",
        service_dir=SERVICE_DIR,
        routers=[
            cycles_router,
            plans_router,
            scenarios_router,
            presop_router,
            executive_router,
            kpi_router,
        ],
        consumers=consumers(),
        openapi_tags=TAGS,
        job_handlers={KPI_JOB: partial(snapshot_kpis, peers=peers, settings=settings)},
        on_startup=start_overdue_watcher,
    )
    app.state.peers = peers
    return app
