"""Bearer-token auth (JWT, HS256 by default) and the roles of ARCHITECTURE.md.

Endpoints declare the roles they accept with ``require_roles``; ``admin`` is
accepted everywhere. Only health, readiness, metrics and docs stay open.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from sop_shared.problems import Forbidden, TooManyRequests, Unauthorized
from sop_shared.settings import AuthSettings


class Role(StrEnum):
    viewer = "viewer"
    demand_planner = "demand_planner"
    supply_planner = "supply_planner"
    capacity_planner = "capacity_planner"
    sop_coordinator = "sop_coordinator"
    executive = "executive"
    integration = "integration"
    admin = "admin"


ALL_ROLES = frozenset(Role)
#: Anyone signed in may read.
READ_ROLES = frozenset(Role)


@dataclass(frozen=True)
class Caller:
    subject: str
    roles: frozenset[Role]

    @property
    def name(self) -> str:
        return self.subject


def create_token(
    settings: AuthSettings,
    *,
    subject: str,
    roles: list[str] | list[Role],
    ttl_seconds: int | None = None,
) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": subject,
        "roles": [str(Role(r)) for r in roles],
        "iss": settings.issuer,
        "iat": now,
        "exp": now + (ttl_seconds if ttl_seconds is not None else settings.token_ttl_seconds),
    }
    return jwt.encode(claims, settings.jwt_secret, algorithm=settings.jwt_algorithm)


def decode_token(settings: AuthSettings, token: str) -> Caller:
    try:
        claims = jwt.decode(
            token,
            settings.jwt_secret,
            algorithms=[settings.jwt_algorithm],
            issuer=settings.issuer,
            options={"require": ["exp", "sub", "iss"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized("The token has expired.", code="token-expired") from exc
    except jwt.PyJWTError as exc:
        raise Unauthorized(f"The token is not valid: {exc}.", code="invalid-token") from exc
    roles = set()
    for raw in claims.get("roles", []):
        try:
            roles.add(Role(raw))
        except ValueError:
            continue
    return Caller(subject=str(claims["sub"]), roles=frozenset(roles))


class FailedAuthLimiter:
    """Counts requests with an invalid token per client address in a sliding window; over
    ``limit`` the address is answered 429 (with Retry-After) until its oldest failure ages
    out, so guessing secrets or replaying stolen expired tokens is slowed to a crawl."""

    MAX_CLIENTS = 100_000  # addresses remembered; the oldest are forgotten beyond it

    def __init__(self, limit: int, window_seconds: float) -> None:
        self.limit = limit
        self.window = window_seconds
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, client: str, now: float) -> deque[float]:
        times = self._failures.get(client)
        if times is None:
            if len(self._failures) >= self.MAX_CLIENTS:
                self._failures.pop(next(iter(self._failures)))
            times = self._failures[client] = deque()
        while times and times[0] <= now - self.window:
            times.popleft()
        return times

    def retry_after(self, client: str) -> int | None:
        """Seconds until ``client`` may try again, or None if it is not limited."""
        if self.limit <= 0:
            return None
        now = time.monotonic()
        with self._lock:
            times = self._recent(client, now)
            if len(times) < self.limit:
                return None
            return max(1, int(times[0] + self.window - now + 0.999))

    def failed(self, client: str) -> None:
        if self.limit <= 0:
            return
        now = time.monotonic()
        with self._lock:
            self._recent(client, now).append(now)


def _limiter(request: Request) -> FailedAuthLimiter | None:
    return getattr(request.app.state, "auth_limiter", None)


_bearer = HTTPBearer(auto_error=False, description="JWT signed with the platform secret")


def authenticate(request: Request) -> Caller:
    """The caller of the request's bearer token (``Unauthorized`` without a valid one)."""
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        raise Unauthorized("A bearer token is required.")
    settings: AuthSettings = request.app.state.settings.auth
    limiter = _limiter(request)
    client = request.client.host if request.client else "unknown"
    if limiter is not None and (wait := limiter.retry_after(client)) is not None:
        raise TooManyRequests(
            "Too many requests with an invalid token from this address; retry later.",
            code="too-many-failed-authentications",
            retry_after=wait,
        )
    try:
        return decode_token(settings, credentials.strip())
    except Unauthorized:
        if limiter is not None:
            limiter.failed(client)
        raise


def current_caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller:
    """``credentials`` only declares the scheme in the OpenAPI document."""
    return authenticate(request)


def require_roles(*roles: Role, admin: bool = True) -> Any:
    """Dependency that lets through callers holding one of ``roles`` (or admin).

    ``admin=False`` keeps business acts that are recorded with who did them (the executive
    approval) to their own role: an administrator's token does not sign off a plan.
    """
    allowed = frozenset(roles) | ({Role.admin} if admin else frozenset())

    def _check(caller: Annotated[Caller, Depends(current_caller)]) -> Caller:
        if not caller.roles & allowed:
            raise Forbidden(
                f"This action needs one of the roles: {', '.join(sorted(allowed))}.",
                required_roles=sorted(allowed),
            )
        return caller

    _check.allowed_roles = allowed  # type: ignore[attr-defined]  # read by the access-matrix test
    return Depends(_check)
