"""Telling an outage (wait and retry) from a bad message or a bug (stop and report).

Consumers and jobs ask ``is_outage``: a database or peer that cannot be reached, a lock or
pool timeout, a 5xx from a peer. Such a failure says nothing about the message or the job;
retrying later succeeds once the dependency is back. Everything else (a payload that fails
validation, a domain rule, a bug) fails the same way again and is reported instead.
"""

from __future__ import annotations

import httpx
from sqlalchemy import exc as sa_exc

from sop_shared.problems import DomainError

_OUTAGE_TYPES: tuple[type[BaseException], ...] = (
    sa_exc.OperationalError,  # connection refused or lost, lock/serialisation timeouts
    sa_exc.InterfaceError,
    sa_exc.DisconnectionError,
    sa_exc.TimeoutError,  # the connection pool is exhausted
    httpx.TransportError,
    ConnectionError,
    TimeoutError,
)


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def is_outage(exc: BaseException) -> bool:
    """True when ``exc`` (or what caused it) is a dependency being unavailable."""
    for error in _chain(exc):
        if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
            return True
        if isinstance(error, _OUTAGE_TYPES):
            return True
        if isinstance(error, DomainError) and error.status in (502, 503, 504):
            return True
    return False


def failure_kind(exc: BaseException) -> str:
    """How a message that is not an outage failed: ``validation``, ``domain`` or ``error``."""
    from pydantic import ValidationError

    for error in _chain(exc):
        if isinstance(error, ValidationError | ValueError | TypeError | KeyError):
            return "validation"
        if isinstance(error, DomainError | sa_exc.IntegrityError):
            return "domain"
    return "error"
