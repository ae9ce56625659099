"""W3C trace context carried on HTTP calls and events.

Without OpenTelemetry configured, the current ``traceparent`` is the one the
request came in with (kept in a context variable), so it still flows along.
"""

from __future__ import annotations

import contextvars

_traceparent: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "traceparent", default=None
)


def current_traceparent() -> str | None:
    return _traceparent.get()


def set_traceparent(value: str | None) -> contextvars.Token[str | None]:
    return _traceparent.set(value)


def reset_traceparent(token: contextvars.Token[str | None]) -> None:
    _traceparent.reset(token)
