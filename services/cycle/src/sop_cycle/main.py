"""The cycle service: the seven-step monthly cycle, scenarios, pre-S&OP and executive approval."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from sop_cycle import models  # noqa: F401  (register the tables before the app starts)
from sop_cycle.cycles.routes import router as cycles_router
from sop_cycle.settings import CycleSettings, get_settings
from sop_shared.app import create_service_app

SERVICE_DIR = Path(__file__).resolve().parents[2]


def create_app(settings: CycleSettings | None = None) -> FastAPI:
    return create_service_app(
        settings or get_settings(),
        title="S&OP cycle service",
        description="Cycles and their seven steps, scenarios, the pre-S&OP reconciliation, "
        "executive decisions and approval (S&OP steps 1, 6, 7).",
        service_dir=SERVICE_DIR,
        routers=[cycles_router],
    )
