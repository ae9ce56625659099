"""One trace runs from an HTTP request, through its event, into a consumer and a peer call."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from sop_shared.events import CloudEvent
from sop_shared.http import ServiceClient
from sop_shared.inbox import apply_once
from sop_shared.outbox.models import OutboxEvent
from sop_shared.settings import AuthSettings
from sop_shared.tracing import span

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
INCOMING = f"00-{TRACE_ID}-00f067aa0ba902b7-01"


@pytest.fixture(scope="module")
def exporter() -> InMemorySpanExporter:
    memory = InMemorySpanExporter()
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
    provider.add_span_processor(SimpleSpanProcessor(memory))
    return memory


def test_trace_crosses_http_event_consumer_and_peer_call(
    client: Any, token: Any, session: Session, engine: Engine, exporter: InMemorySpanExporter
) -> None:
    response = client.post(
        "/api/v1/products",
        json={"code": "TR-1", "name": "Traced", "family": "F", "category": "C"},
        headers={**token("demand_planner"), "traceparent": INCOMING},
    )
    assert response.status_code == 201
    row = session.exec(select(OutboxEvent).order_by(col(OutboxEvent.seq).desc())).first()
    assert row is not None
    event = CloudEvent.model_validate(row.payload)
    assert event.traceparent is not None
    assert event.traceparent.split("-")[1] == TRACE_ID  # the event carries the request's trace
    assert row.headers["traceparent"] == event.traceparent

    seen: dict[str, str] = {}

    def call_peer(_: Session, __: CloudEvent) -> None:
        def handler(request: httpx.Request) -> httpx.Response:
            seen["traceparent"] = request.headers["traceparent"]
            return httpx.Response(200, json={"ok": True})

        peer = ServiceClient(
            "http://supply", AuthSettings(), caller="demand", transport=httpx.MockTransport(handler)
        )
        peer.get_json("/api/v1/anything")

    # the test's own connection: on SQLite a second connection would wait for its write lock
    assert apply_once(session.connection(), "trace.test", event, call_peer) is True  # type: ignore[arg-type]
    assert seen["traceparent"].split("-")[1] == TRACE_ID  # the peer call continues the same trace

    spans = exporter.get_finished_spans()
    server = [
        s
        for s in spans
        if s.kind == SpanKind.SERVER and format(s.context.trace_id, "032x") == TRACE_ID
    ]
    consumer = [
        s
        for s in spans
        if s.kind == SpanKind.CONSUMER and format(s.context.trace_id, "032x") == TRACE_ID
    ]
    assert server, "the request made a server span in the incoming trace"
    assert consumer, "the consumer made a span in the same trace"
    assert consumer[0].parent is not None
    assert consumer[0].parent.span_id == int(event.traceparent.split("-")[2], 16)


def test_without_an_sdk_the_incoming_traceparent_still_flows() -> None:
    with span("x", traceparent=INCOMING, kind=SpanKind.INTERNAL):
        from sop_shared.tracing import current_traceparent

        assert TRACE_ID in (current_traceparent() or "")
