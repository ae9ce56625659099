"""The app factory shared by the four services: middleware, problems, health, workers.

Each service's ``create_app`` passes its routers, its migrations folder and its
consumers; nothing connects at import time, everything starts in the lifespan.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute
from opentelemetry.trace import SpanKind
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint

from sop_shared.auth import FailedAuthLimiter
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
from sop_shared.problems import (
    ProblemDetails,
    install_problem_handlers,
    internal_error,
    problem_response,
    problem_responses,
)
from sop_shared.settings import ServiceSettings
from sop_shared.tracing import configure_tracing, span

log = logging.getLogger("sop.app")

API_PREFIX = "/api/v1"

#: A client's X-Request-ID is kept (and echoed) only if it looks like an id; anything else
#: (too long, odd characters) is replaced by a fresh one.
REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
#: Headers on every answer; API answers are never cached (they carry plan data).
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
}
DOCS_PATHS = ("/docs", "/redoc")
NUL_ESCAPE = b"\\u0000"


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
        offered = request.headers.get("x-request-id", "")
        request_id = offered if REQUEST_ID_RE.match(offered) else uuid.uuid4().hex
        token = set_request_id(request_id)
        started = time.perf_counter()
        try:
            with span(
                f"{request.method} {request.url.path}",
                traceparent=request.headers.get("traceparent"),
                kind=SpanKind.SERVER,
                attributes={"http.request.method": request.method, "url.path": request.url.path},
            ):
                try:
                    response = await self._respond(request, call_next)
                except Exception:  # rendered here, so the 500 carries the request id too
                    response = internal_error(request)
            # The route with its prefixes (/api/v1/...): FastAPI keeps the included
            # router's own route in ``scope["route"]``, without the prefix.
            fastapi_scope = request.scope.get("fastapi") or {}
            route = fastapi_scope.get("effective_route_context") or request.scope.get("route")
            path = getattr(route, "path", "unmatched")
            elapsed = time.perf_counter() - started
            HTTP_REQUESTS.labels(self.service, request.method, path, response.status_code).inc()
            HTTP_LATENCY.labels(self.service, request.method, path).observe(elapsed)
            response.headers["X-Request-ID"] = request_id
            for name, value in SECURITY_HEADERS.items():
                response.headers.setdefault(name, value)
            if request.url.path.startswith(API_PREFIX):
                response.headers.setdefault("Cache-Control", "no-store")
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
        if "\x00" in request.scope["path"] or b"%00" in request.scope["query_string"]:
            return _nul_refused(request)
        return await call_next(request)


def _nul_refused(request: Request | None) -> Response:
    return problem_response(
        request,
        status=422,
        code="validation-error",
        title="Invalid request",
        detail="NUL characters are not accepted in the path, the query or the body.",
    )


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
        tail = b""  # the previous chunk's end, so an escape split over two chunks is seen

        async def counted() -> Any:
            nonlocal seen, tail
            message = await receive()
            if message["type"] == "http.request":
                chunk = message.get("body", b"")
                seen += len(chunk)
                if seen > self.max_body_bytes:
                    raise StarletteHTTPException(
                        413, detail=f"The body exceeds {self.max_body_bytes} bytes."
                    )
                # A NUL character (raw, or JSON's \u0000) is refused before anything parses
                # it: PostgreSQL cannot store it in text, and no field of ours needs it.
                window = tail + chunk
                if b"\x00" in chunk or NUL_ESCAPE in window:
                    raise StarletteHTTPException(
                        422, detail="NUL characters are not accepted in the body."
                    )
                tail = window[-(len(NUL_ESCAPE) - 1) :]
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
        platform = settings.platform
        engine = make_engine(
            settings.database_url,
            pool_size=platform.db_pool_size,
            max_overflow=platform.db_max_overflow,
            pool_timeout=platform.db_pool_timeout_seconds,
        )
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
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.auth_limiter = FailedAuthLimiter(
        settings.auth.failed_limit, settings.auth.failed_window_seconds
    )
    app.state.consumer_handlers = {
        f"{settings.service_name}.{spec.purpose}": spec.handlers for spec in consumer_specs
    }
    app.add_middleware(BodyLimitMiddleware, max_body_bytes=settings.platform.max_body_bytes)
    app.add_middleware(
        RequestContextMiddleware,
        service=settings.service_name,
        max_body_bytes=settings.platform.max_body_bytes,
    )
    if settings.platform.cors_origins:  # closed unless origins are configured
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.platform.cors_origins,
            allow_methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=[
                "Authorization",
                "Content-Type",
                "If-Match",
                "Idempotency-Key",
                "X-Request-ID",
                "traceparent",
            ],
            expose_headers=["ETag", "Location", "Retry-After", "X-Request-ID"],
            max_age=600,
        )
    install_problem_handlers(app)
    _add_docs(app, title)
    app.include_router(health_router)
    for router in routers:
        app.include_router(router, prefix=API_PREFIX)
    app.include_router(jobs_router, prefix=API_PREFIX)
    app.include_router(dead_letters_router, prefix=API_PREFIX)
    _register_problem_schema(app)
    return app


def _with_csp(page: HTMLResponse, *, worker: bool = False) -> HTMLResponse:
    """A docs page with a strict CSP: its CDN, its own inline scripts (by hash), no more."""
    body = bytes(page.body).decode()
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"
        for script in re.findall(r"<script>(.*?)</script>", body, flags=re.DOTALL)
    )
    policy = (
        "default-src 'none'; "
        f"script-src https://cdn.jsdelivr.net {hashes}; "
        "style-src https://cdn.jsdelivr.net https://fonts.googleapis.com 'unsafe-inline'; "
        "font-src https://fonts.gstatic.com; "
        "img-src 'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly; "
        "connect-src 'self'; "
        + ("worker-src blob:; " if worker else "")
        + "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    )
    page.headers["Content-Security-Policy"] = policy
    return page


def _add_docs(app: FastAPI, title: str) -> None:
    """Swagger UI and ReDoc, open (no token), each with its strict CSP."""

    @app.get(DOCS_PATHS[0], include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return _with_csp(get_swagger_ui_html(openapi_url="/openapi.json", title=f"{title} - docs"))

    @app.get(DOCS_PATHS[1], include_in_schema=False)
    def redoc() -> HTMLResponse:
        return _with_csp(
            get_redoc_html(openapi_url="/openapi.json", title=f"{title} - ReDoc"), worker=True
        )


#: Answers any API operation may give whatever its route declares: a token refused (401),
#: a role refused (403), too many failed authentications (429), a request the schema or a
#: parser limit refuses (422), a database unreachable or saturated (503, Retry-After).
COMMON_API_PROBLEMS = (401, 403, 422, 429, 503)


def _document_common_problems(schema: dict[str, Any]) -> None:
    """Add the answers of ``COMMON_API_PROBLEMS`` (and 404 on paths with a parameter, 413 on
    operations with a body) to every API operation that does not declare them yet."""
    for path, operations in schema.get("paths", {}).items():
        if not path.startswith(API_PREFIX):
            continue
        for operation in operations.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            statuses = list(COMMON_API_PROBLEMS)
            if "{" in path:
                statuses.append(404)
            if "requestBody" in operation:
                statuses.append(413)
            responses = operation["responses"]
            if "HTTPValidationError" in str(responses.get("422", "")):
                del responses["422"]  # FastAPI's default: ours is a problem document
            for status, response in problem_responses(*statuses).items():
                responses.setdefault(str(status), response)


def _document_metrics(schema: dict[str, Any]) -> None:
    """``/metrics`` answers Prometheus' text format, not the JSON FastAPI documents."""
    answer = schema.get("paths", {}).get("/metrics", {}).get("get", {}).get("responses", {})
    if "200" in answer:
        answer["200"]["content"] = {"text/plain": {"schema": {"type": "string"}}}


def _register_problem_schema(app: FastAPI) -> None:
    """Make ``ProblemDetails`` a named component even before any route references it, and
    document the problem answers every API operation may give."""
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = original()
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        problem = ProblemDetails.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, definition in problem.pop("$defs", {}).items():  # FieldError
            components.setdefault(name, definition)
        components.setdefault("ProblemDetails", problem)
        _document_common_problems(schema)
        _document_metrics(schema)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
