"""Distributed tracing with OpenTelemetry, carried as W3C trace context.

HTTP requests open a server span from the incoming ``traceparent``; events carry
the current ``traceparent`` in their envelope and consumers continue the trace
from it; calls to peer services send it along. Export is off by default and is
switched on by the standard variables (``OTEL_TRACES_EXPORTER=otlp`` or
``console``, ``OTEL_EXPORTER_OTLP_ENDPOINT``, ``OTEL_SERVICE_NAME``...).

Without an SDK configured the spans are no-ops, and the incoming ``traceparent``
is still passed through unchanged (kept in a context variable).
"""

from __future__ import annotations

import contextvars
import os
from collections.abc import Iterator
from contextlib import contextmanager

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import SpanKind
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

_traceparent: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "traceparent", default=None
)
_propagator = TraceContextTextMapPropagator()
_configured = False


def configure_tracing(service: str) -> bool:
    """Install an SDK tracer provider when OTEL_* variables ask for export; True if installed."""
    global _configured
    exporter_name = os.environ.get("OTEL_TRACES_EXPORTER", "none").lower()
    if (
        _configured
        or os.environ.get("OTEL_SDK_DISABLED", "").lower() == "true"
        or exporter_name == "none"
    ):
        return False
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter

    provider = TracerProvider(
        resource=Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME", service)})
    )
    if exporter_name == "console":  # one JSON object per line, as log shippers expect
        exporter = ConsoleSpanExporter(formatter=lambda s: s.to_json(indent=None) + os.linesep)
        provider.add_span_processor(BatchSpanProcessor(exporter))
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    _configured = True
    return True


def current_traceparent() -> str | None:
    """The traceparent of the active span, else the one received with the request or event."""
    carrier: dict[str, str] = {}
    _propagator.inject(carrier)
    return carrier.get("traceparent") or _traceparent.get()


def set_traceparent(value: str | None) -> contextvars.Token[str | None]:
    return _traceparent.set(value)


def reset_traceparent(token: contextvars.Token[str | None]) -> None:
    _traceparent.reset(token)


@contextmanager
def span(
    name: str, *, traceparent: str | None, kind: SpanKind, attributes: dict[str, str] | None = None
) -> Iterator[None]:
    """A span continuing ``traceparent`` (from a request header or an event envelope)."""
    parent = _propagator.extract({"traceparent": traceparent} if traceparent else {})
    token = otel_context.attach(parent)
    tp_token = _traceparent.set(traceparent)
    try:
        with trace.get_tracer("sop").start_as_current_span(
            name, kind=kind, attributes=attributes or {}
        ):
            yield
    finally:
        _traceparent.reset(tp_token)
        otel_context.detach(token)
