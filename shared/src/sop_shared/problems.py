"""RFC 9457 problem details for every 4xx/5xx answer.

``DomainError`` subclasses are raised by service code; the handlers render them,
request validation errors, routing errors and unexpected failures in one shape.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from sop_shared.logging import current_request_id

log = logging.getLogger("sop.problems")

PROBLEM_BASE = "https://errors.sop.example/"
PROBLEM_MEDIA_TYPE = "application/problem+json"


class FieldError(BaseModel):
    field: str = Field(description="Dotted path of the offending field, e.g. body.lines.3.quantity")
    message: str
    row: int | None = Field(default=None, description="1-based row number for bulk uploads")


class ProblemDetails(BaseModel):
    """The one error body of the platform (RFC 9457)."""

    type: str = Field(examples=[PROBLEM_BASE + "validation-error"])
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    code: str
    trace_id: str | None = None
    errors: list[FieldError] | None = None

    model_config = {"extra": "allow"}


class DomainError(Exception):
    status = 400
    code = "bad-request"
    title = "Bad request"

    def __init__(
        self,
        detail: str,
        *,
        code: str | None = None,
        title: str | None = None,
        errors: list[FieldError] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        if code:
            self.code = code
        if title:
            self.title = title
        self.errors = errors
        self.extra = extra


class NotFound(DomainError):
    status, code, title = 404, "not-found", "Resource not found"


class Conflict(DomainError):
    status, code, title = 409, "conflict", "Conflict"


class PreconditionFailed(DomainError):
    status, code, title = 412, "precondition-failed", "Precondition failed"


class PreconditionRequired(DomainError):
    status, code, title = 428, "precondition-required", "Precondition required"


class Unprocessable(DomainError):
    status, code, title = 422, "unprocessable", "Request cannot be processed"


class ValidationFailed(Unprocessable):
    code, title = "validation-error", "Invalid request"


class Unauthorized(DomainError):
    status, code, title = 401, "unauthorized", "Authentication required"


class Forbidden(DomainError):
    status, code, title = 403, "forbidden", "Not allowed for this role"


class PayloadTooLarge(DomainError):
    status, code, title = 413, "payload-too-large", "Request body too large"


class TooManyRequests(DomainError):
    status, code, title = 429, "too-many-requests", "Too many requests"

    def __init__(self, detail: str, *, retry_after: int, **kw: Any) -> None:
        super().__init__(detail, **kw)
        self.retry_after = retry_after


class UpstreamUnavailable(DomainError):
    status, code, title = 503, "upstream-unavailable", "A dependency is unavailable"


def problem_response(
    request: Request | None,
    *,
    status: int,
    code: str,
    title: str,
    detail: str | None = None,
    errors: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body = ProblemDetails(
        type=PROBLEM_BASE + code,
        title=title,
        status=status,
        detail=detail,
        instance=str(request.url.path) if request is not None else None,
        code=code,
        trace_id=current_request_id(),
        errors=errors,
        **extra,
    )
    return JSONResponse(
        body.model_dump(exclude_none=True),
        status_code=status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=headers,
    )


def _field_path(loc: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(part) for part in loc)


def validation_errors(raw: list[dict[str, Any]]) -> list[FieldError]:
    out = []
    for err in raw:
        message = err.get("msg", "invalid")
        if err.get("type") == "extra_forbidden":
            message = "unknown field"
        elif err.get("type") == "json_invalid":
            message = f"malformed JSON: {err.get('ctx', {}).get('error', message)}"
        out.append(FieldError(field=_field_path(err.get("loc", ())), message=message))
    return out


_STATUS_CODES = {
    400: ("bad-request", "Bad request"),
    401: ("unauthorized", "Authentication required"),
    403: ("forbidden", "Not allowed for this role"),
    404: ("not-found", "Resource not found"),
    405: ("method-not-allowed", "Method not allowed"),
    406: ("not-acceptable", "Not acceptable"),
    413: ("payload-too-large", "Request body too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    422: ("validation-error", "Invalid request"),
    429: ("too-many-requests", "Too many requests"),
    500: ("internal-error", "Internal error"),
    503: ("unavailable", "Service unavailable"),
}

#: Seconds a client is asked to wait when the database is unreachable or saturated.
RETRY_AFTER_SECONDS = 5


_UNAVAILABLE_HINTS = (
    "connect",
    "connection",
    "server closed",
    "terminating",
    "locked",
    "timeout",
    "shutting down",
    "deadlock",  # PostgreSQL picked this transaction as a deadlock victim: retry
    "could not serialize",
)


def _is_unavailable(exc: OperationalError) -> bool:
    """A lost or busy database (retry later) rather than a bug such as a missing column."""
    text = str(exc.orig).lower()
    return bool(exc.connection_invalidated) or any(hint in text for hint in _UNAVAILABLE_HINTS)


def install_problem_handlers(app: FastAPI) -> None:
    """Render every error of the app as ``application/problem+json``."""

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else {}
        if (retry_after := getattr(exc, "retry_after", None)) is not None:
            headers["Retry-After"] = str(retry_after)
        return problem_response(
            request,
            status=exc.status,
            code=exc.code,
            title=exc.title,
            detail=exc.detail,
            errors=exc.errors,
            headers=headers or None,
            **exc.extra,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI parses a JSON body before the routes' auth dependency runs: an API call
        # without a valid token is a 401 whatever its body, never a 422 telling its fields.
        from sop_shared.auth import authenticate  # auth imports this module

        if request.url.path.startswith("/api/"):
            try:
                authenticate(request)
            except Unauthorized as denied:
                return await _domain(request, denied)
        errors = validation_errors(list(exc.errors()))
        first = errors[0].field if errors else "request"
        return problem_response(
            request,
            status=422,
            code="validation-error",
            title="Invalid request",
            detail=f"{len(errors)} invalid field(s), first: {first}",
            errors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400 and isinstance(exc.__cause__, RecursionError | ValueError):
            # FastAPI's JSON body parser hit a parser limit: nesting deeper than the
            # interpreter recurses, or an integer of more than 4,300 digits.
            return body_too_complex(request, exc.__cause__)
        code, title = _STATUS_CODES.get(exc.status_code, ("http-error", "HTTP error"))
        headers = dict(exc.headers) if exc.headers else {}
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(allowed_methods(request))
        return problem_response(
            request,
            status=exc.status_code,
            code=code,
            title=title,
            detail=str(exc.detail) if exc.detail else None,
            headers=headers or None,
        )

    @app.exception_handler(DataError)
    async def _data(request: Request, exc: DataError) -> JSONResponse:
        # The database refused a value (out of its column's range, a NUL byte): the request's
        # fault, nothing was written (the transaction is rolled back).
        log.info("data error on %s: %s", request.url.path, exc.orig)
        return problem_response(
            request,
            status=422,
            code="value-out-of-range",
            title="Invalid request",
            detail="A value does not fit its column (out of range or not storable text).",
        )

    @app.exception_handler(PoolTimeout)
    async def _pool_exhausted(request: Request, exc: PoolTimeout) -> JSONResponse:
        log.warning("connection pool exhausted on %s: %s", request.url.path, exc)
        return _unavailable(request, "The service is busy (no database connection free).")

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, exc: IntegrityError) -> JSONResponse:
        log.info("integrity error on %s: %s", request.url.path, exc.orig)
        return problem_response(
            request,
            status=409,
            code="conflict",
            title="Conflict",
            detail="The change conflicts with existing data (a unique or reference rule).",
        )

    @app.exception_handler(OperationalError)
    async def _database_down(request: Request, exc: OperationalError) -> JSONResponse:
        if not _is_unavailable(exc):
            return await _unexpected(request, exc)
        log.warning("database unavailable on %s: %s", request.url.path, exc.orig)
        return _unavailable(request, "The service's database cannot be reached or is busy.")

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        return internal_error(request)


def internal_error(request: Request) -> JSONResponse:
    """The 500 problem; logs the exception being handled."""
    log.exception("unhandled error on %s", request.url.path)
    return problem_response(
        request,
        status=500,
        code="internal-error",
        title="Internal error",
        detail="An unexpected error occurred; it has been logged.",
    )


def _unavailable(request: Request, detail: str) -> JSONResponse:
    return problem_response(
        request,
        status=503,
        code="database-unavailable",
        title="Database unavailable",
        detail=detail + " Retry later.",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def body_too_complex(request: Request | None, cause: BaseException) -> JSONResponse:
    """A 422 for a body past a parser limit (too deep, a too long integer)."""
    message = (
        "nested too deeply" if isinstance(cause, RecursionError) else f"not parseable: {cause}"
    )
    return problem_response(
        request,
        status=422,
        code="validation-error",
        title="Invalid request",
        detail=f"The body is {message}.",
        errors=[FieldError(field="body", message=message[:200])],
    )


def allowed_methods(request: Request) -> list[str]:
    """The methods of the request's path as routed and documented: those of every route
    with the template of the first route matching it (``/scenarios/compare`` is not
    ``/scenarios/{code}``, though both match)."""
    path = request.scope.get("path", "")
    contexts = [
        context
        for route in request.app.router.routes
        for context in (
            route.effective_route_contexts()
            if hasattr(route, "effective_route_contexts")
            else [route]
        )
        if getattr(context, "path_regex", None) is not None
    ]
    template = next((c.path_format for c in contexts if c.path_regex.match(path)), None)
    methods: set[str] = set()
    for context in contexts:
        if context.path_format == template:
            methods |= set(getattr(context, "methods", None) or ())
    return sorted(methods)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` entry declaring the problem answers of a route."""
    # No "model" key: FastAPI would document an application/json answer beside it, and
    # problems are only ever application/problem+json (the component is registered by app).
    return {
        status: {
            "content": {
                PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/ProblemDetails"}}
            },
            "description": _STATUS_CODES.get(status, ("", "Problem"))[1] or "Problem",
        }
        for status in statuses
    }
