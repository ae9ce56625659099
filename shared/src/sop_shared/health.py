"""Open endpoints: liveness, readiness (database and broker) and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from sop_shared.kafka import broker_reachable
from sop_shared.problems import problem_response

router = APIRouter(tags=["health"])


@router.get("/healthz", operation_id="health-live", summary="The process is alive")
def healthz(request: Request) -> dict[str, str]:
    return {"status": "ok", "service": request.app.state.settings.service_name}


@router.get(
    "/readyz",
    operation_id="health-ready",
    summary="The database and the broker can be reached",
    responses={503: {"description": "Not ready"}},
)
def readyz(request: Request) -> Response:
    settings = request.app.state.settings
    checks: dict[str, str] = {}
    try:
        with request.app.state.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"unavailable: {type(exc).__name__}"
    if settings.kafka.enabled:
        checks["broker"] = "ok" if broker_reachable(settings.kafka) else "unavailable"
    if all(v == "ok" for v in checks.values()):
        return JSONResponse({"status": "ready", "checks": checks})
    return problem_response(
        request,
        status=503,
        code="not-ready",
        title="Service not ready",
        detail=", ".join(f"{k}: {v}" for k, v in checks.items() if v != "ok"),
        checks=checks,
    )


@router.get(
    "/metrics", operation_id="health-metrics", summary="Prometheus metrics", include_in_schema=True
)
def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
