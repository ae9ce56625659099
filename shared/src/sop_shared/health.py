"""Open endpoints: liveness, readiness (database and broker) and Prometheus metrics."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from sop_shared.inbox.runner import count_dead_letters
from sop_shared.kafka import broker_reachable
from sop_shared.problems import problem_response

log = logging.getLogger("sop.health")

router = APIRouter(tags=["health"])


@router.get("/healthz", operation_id="health-live", summary="The process is alive")
def healthz(request: Request) -> dict[str, str]:
    return {"status": "ok", "service": request.app.state.settings.service_name}


@router.get(
    "/readyz",
    operation_id="health-ready",
    summary="The database is at the migration head and the broker answers",
    responses={503: {"description": "Not ready"}},
)
def readyz(request: Request) -> Response:
    """Ready when the database is at this code's migration head and the broker answers a
    metadata request in time. Dead letters waiting for a replay are a warning (the service
    still works; an operator should look), listed under ``warnings``."""
    state = request.app.state
    settings = state.settings
    checks: dict[str, str] = {}
    warnings: dict[str, str] = {}
    checks["database"] = _database(state.engine, getattr(state, "migration_heads", None))
    if checks["database"] == "ok":
        try:
            dead = count_dead_letters(state.engine, settings.service_name)
        except Exception as exc:  # the check itself must not fail readiness
            log.warning("dead-letter count failed: %s", exc)
        else:
            if dead:
                warnings["dead_letters"] = (
                    f"{dead} event(s) dead-lettered and not replayed; see /api/v1/dead-letters"
                )
    if settings.kafka.enabled:
        checks["broker"] = "ok" if broker_reachable(settings.kafka) else "unavailable"
    if all(v == "ok" for v in checks.values()):
        body: dict[str, object] = {"status": "ready", "checks": checks}
        if warnings:
            body["warnings"] = warnings
        return JSONResponse(body)
    return problem_response(
        request,
        status=503,
        code="not-ready",
        title="Service not ready",
        detail=", ".join(f"{k}: {v}" for k, v in checks.items() if v != "ok"),
        checks=checks,
        warnings=warnings,
    )


def _database(engine: Engine, heads: set[str] | None) -> str:
    """``ok``, or why not: unreachable, or its schema is not the one this code expects."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            if heads is None:
                return "ok"
            try:
                found = {
                    row[0] for row in conn.execute(text("SELECT version_num FROM alembic_version"))
                }
            except DBAPIError:
                return "schema missing: no migrations applied"
    except Exception as exc:
        return f"unavailable: {type(exc).__name__}"
    if found != heads:
        return f"schema at {', '.join(sorted(found)) or 'nothing'}, expected {', '.join(sorted(heads))}"
    return "ok"


@router.get(
    "/metrics", operation_id="health-metrics", summary="Prometheus metrics", include_in_schema=True
)
def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
