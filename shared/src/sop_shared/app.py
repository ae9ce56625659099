"""The app factory shared by the four services: middleware, problems, health, workers.

Each service's ``create_app`` passes its routers, its migrations folder and its
consumers; nothing connects at import time, everything starts in the lifespan.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.routing import APIRoute
from opentelemetry.trace import SpanKind
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint

from sop_shared.db import make_engine, read_only
from sop_shared.health import router as health_router
from sop_shared.inbox import ConsumerRunner, ConsumerSpec
from sop_shared.inbox.routes import router as dead_letters_router
from sop_shared.jobs import JobRunner
from sop_shared.jobs import router as jobs_router
from sop_shared.jobs.events import job_failed_publisher
from sop_shared.jobs.runner import Work
from sop_shared.logging import configure_logging, reset_request_id, set_request_id
from sop_shared.metrics import HTTP_LATENCY, HTTP_REQUESTS
from sop_shared.migrations import head_revisions, upgrade
from sop_shared.outbox import OutboxRelay
from sop_shared.problems import ProblemDetails, install_problem_handlers, problem_response
from sop_shared.settings import ServiceSettings
from sop_shared.tracing import configure_tracing, span

log = logging.getLogger("sop.app")

API_PREFIX = "/api/v1"


@dataclass
class Workers:
    """Background threads of one service process: the relay and its consumers."""

    threads: list[threading.Thread] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    relay: OutboxRelay | None = None
    consumers: list[ConsumerRunner] = field(default_factory=list)

    def start(self, name: str, target: Callable[[threading.Event], None]) -> None:
        thread = threading.Thread(target=target, args=(self.stop,), name=name, daemon=True)
        thread.start()
        self.threads.append(thread)

    def shutdown(self, timeout: float = 10.0) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout)


def start_workers(
    settings: ServiceSettings, engine: Any, consumers: Iterable[ConsumerSpec], *, relay: bool = True
) -> Workers:
    workers = Workers()
    if not settings.kafka.enabled:
        return workers
    if relay:
        workers.relay = OutboxRelay(engine, settings.kafka, service=settings.service_name)
        workers.start(f"{settings.service_name}-relay", workers.relay.run_forever)
    for spec in consumers:
        runner = ConsumerRunner(
            engine,
            settings.kafka,
            consumer_name=f"{settings.service_name}.{spec.purpose}",
            topics=spec.topics,
            handlers=spec.handlers,
        )
        workers.consumers.append(runner)
        workers.start(runner.consumer_name, runner.run_forever)
    return workers


def operation_id(route: APIRoute) -> str:
    """``{tag}-{function}`` so generated clients keep stable method names."""
    tag = route.tags[0] if route.tags else "default"
    return f"{tag}-{route.name}".replace("_", "-")


class RequestContextMiddleware(BaseHTTPMiddleware):
    """Request id, trace context, size limit, access log and metrics for every request."""

    def __init__(self, app: Any, *, service: str, max_body_bytes: int) -> None:
        super().__init__(app)
        self.service = service
        self.max_body_bytes = max_body_bytes

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        request_id = request.headers.get("x-request-id") or uuid.uuid4().hex
        token = set_request_id(request_id)
        started = time.perf_counter()
        try:
            with span(
                f"{request.method} {request.url.path}",
                traceparent=request.headers.get("traceparent"),
                kind=SpanKind.SERVER,
                attributes={"http.request.method": request.method, "url.path": request.url.path},
            ):
                response = await self._respond(request, call_next)
            # The route with its prefixes (/api/v1/...): FastAPI keeps the included
            # router's own route in ``scope["route"]``, without the prefix.
            fastapi_scope = request.scope.get("fastapi") or {}
            route = fastapi_scope.get("effective_route_context") or request.scope.get("route")
            path = getattr(route, "path", "unmatched")
            elapsed = time.perf_counter() - started
            HTTP_REQUESTS.labels(self.service, request.method, path, response.status_code).inc()
            HTTP_LATENCY.labels(self.service, request.method, path).observe(elapsed)
            response.headers["X-Request-ID"] = request_id
            if not path.startswith(("/healthz", "/readyz", "/metrics")):
                log.info(
                    "%s %s -> %s",
                    request.method,
                    request.url.path,
                    response.status_code,
                    extra={
                        "path": path,
                        "status": response.status_code,
                        "duration_ms": round(elapsed * 1000, 1),
                    },
                )
            return response
        finally:
            reset_request_id(token)

    async def _respond(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > self.max_body_bytes:
            return problem_response(
                request,
                status=413,
                code="payload-too-large",
                title="Request body too large",
                detail=f"The body exceeds {self.max_body_bytes} bytes.",
            )
        return await call_next(request)


class BodyLimitMiddleware:
    """Counts a body's bytes as they arrive: a chunked upload (no Content-Length, which
    RequestContextMiddleware checks up front) over the limit is refused with the same 413
    while the route is still reading it, so nothing is written and nothing is buffered here.
    """

    def __init__(self, app: Any, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        seen = 0

        async def counted() -> Any:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body_bytes:
                    raise StarletteHTTPException(
                        413, detail=f"The body exceeds {self.max_body_bytes} bytes."
                    )
            return message

        await self.app(scope, counted, send)


def create_service_app(
    settings: ServiceSettings,
    *,
    title: str,
    description: str,
    service_dir: Path,
    routers: Iterable[APIRouter],
    consumers: Iterable[ConsumerSpec] = (),
    openapi_tags: list[dict[str, str]] | None = None,
    on_startup: Callable[[FastAPI], None] | None = None,
    job_handlers: dict[str, Work] | None = None,
) -> FastAPI:
    configure_logging(
        settings.service_name, settings.platform.log_level, settings.platform.log_json
    )
    configure_tracing(settings.service_name)  # exports only when OTEL_TRACES_EXPORTER asks
    consumer_specs = list(consumers)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.database_url)
        app.state.engine = engine
        app.state.read_engine = read_only(engine)
        if settings.migrate_on_start:
            upgrade(service_dir, settings.database_url)
        app.state.migration_heads = head_revisions(service_dir)
        app.state.jobs = JobRunner(
            engine,
            settings.service_name,
            handlers=job_handlers,
            stale_after=settings.platform.job_stale_seconds,
            max_attempts=settings.platform.job_max_attempts,
            on_failed=job_failed_publisher(settings.service_name),
        )
        if settings.run_workers:  # only a worker process recovers jobs cut off by a crash
            try:
                app.state.jobs.recover()
            except Exception as exc:  # no database (or schema) yet: the poller retries
                log.warning("job recovery at start-up failed: %s", exc)
        workers = (
            start_workers(settings, engine, consumer_specs) if settings.run_workers else Workers()
        )
        app.state.workers = workers
        if settings.run_workers and job_handlers:
            workers.start(f"{settings.service_name}-jobs", app.state.jobs.poll_forever)
        if on_startup is not None:
            on_startup(app)
        log.info("%s ready on %s:%s", settings.service_name, settings.host, settings.port)
        try:
            yield
        finally:
            workers.shutdown()
            app.state.jobs.shutdown()
            engine.dispose()

    app = FastAPI(
        title=title,
        description=description,
        version="1.0.0",
        lifespan=lifespan,
        generate_unique_id_function=operation_id,
        openapi_tags=openapi_tags,
        separate_input_output_schemas=False,
    )
    app.state.settings = settings
    app.state.consumer_handlers = {
        f"{settings.service_name}.{spec.purpose}": spec.handlers for spec in consumer_specs
    }
    app.add_middleware(BodyLimitMiddleware, max_body_bytes=settings.platform.max_body_bytes)
    app.add_middleware(
        RequestContextMiddleware,
        service=settings.service_name,
        max_body_bytes=settings.platform.max_body_bytes,
    )
    install_problem_handlers(app)
    app.include_router(health_router)
    for router in routers:
        app.include_router(router, prefix=API_PREFIX)
    app.include_router(jobs_router, prefix=API_PREFIX)
    app.include_router(dead_letters_router, prefix=API_PREFIX)
    _register_problem_schema(app)
    return app


def _register_problem_schema(app: FastAPI) -> None:
    """Make ``ProblemDetails`` a named component even before any route references it."""
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = original()
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.setdefault(
            "ProblemDetails",
            ProblemDetails.model_json_schema(ref_template="#/components/schemas/{model}"),
        )
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
