"""The relay sends committed outbox rows through a real broker; nothing is lost or leaked."""

from __future__ import annotations

import json
import uuid

import pytest
from kafka import KafkaConsumer
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from sop_demand.products import service
from sop_demand.products.schemas import ProductCreate
from sop_shared.broker import EmbeddedBroker, free_port
from sop_shared.db import transaction
from sop_shared.outbox import OutboxRelay
from sop_shared.outbox.models import OutboxEvent
from sop_shared.settings import KafkaSettings
from sop_shared.testing import wait_until

pytestmark = pytest.mark.kafka


def _product(code: str) -> ProductCreate:
    return ProductCreate(code=code, name=code, family="F", category="C")


def _read_all(bootstrap: str, topic: str, expected: int, timeout: float = 30) -> list[dict]:
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"test-{uuid.uuid4().hex}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        session_timeout_ms=6000,
        heartbeat_interval_ms=1000,
    )
    seen: list[dict] = []
    try:
        wait_until(lambda: _poll_into(consumer, seen) >= expected, timeout=timeout)
    finally:
        consumer.close()
    return seen


def _poll_into(consumer: KafkaConsumer, seen: list[dict]) -> int:
    for records in consumer.poll(timeout_ms=500).values():
        seen.extend(json.loads(r.value) for r in records)
    return len(seen)


def _unpublished(engine: Engine) -> list[OutboxEvent]:
    with Session(engine) as s:
        return list(
            s.exec(select(OutboxEvent).where(col(OutboxEvent.published_at).is_(None))).all()
        )


@pytest.fixture
def drained(engine: Engine, kafka_settings: KafkaSettings) -> OutboxRelay:
    """A relay on the shared broker, with earlier tests' rows already sent."""
    relay = OutboxRelay(engine, kafka_settings, service="demand-test")
    while relay.run_once():
        pass
    return relay


def test_committed_change_reaches_the_broker_and_is_marked_sent(
    engine: Engine, drained: OutboxRelay, broker: EmbeddedBroker
) -> None:
    code = f"R-{uuid.uuid4().hex[:8]}"
    with transaction(engine) as s:
        service.create_product(s, data=_product(code))
    assert drained.run_once() == 1
    events = _read_all(broker.bootstrap, "sop.demand.v1", expected=1)
    assert code in {e["subject"] for e in events}
    assert _unpublished(engine) == []


def test_rolled_back_transaction_publishes_nothing(engine: Engine, drained: OutboxRelay) -> None:
    code = f"RB-{uuid.uuid4().hex[:8]}"

    def failing_use_case() -> None:
        with transaction(engine) as s:
            service.create_product(s, data=_product(code))
            s.flush()
            raise RuntimeError("the use case failed after writing")

    with pytest.raises(RuntimeError):
        failing_use_case()
    assert drained.run_once() == 0
    with Session(engine) as s:
        rows = s.exec(select(OutboxEvent)).all()
    assert all(r.payload.get("subject") != code for r in rows)


def test_broker_outage_delays_events_and_loses_none(engine: Engine, tmp_path: object) -> None:
    port = free_port()
    settings = KafkaSettings(
        bootstrap_servers=f"127.0.0.1:{port}", request_timeout_ms=3000, delivery_timeout_ms=5000
    )
    relay = OutboxRelay(engine, settings, service="demand-outage")
    with EmbeddedBroker(port=port):
        while relay.run_once():  # rows of earlier tests go to this broker first
            pass
    # Broker down: changes still commit and their events wait.
    codes = [f"OUT-{i}-{uuid.uuid4().hex[:6]}" for i in range(5)]
    for code in codes:
        with transaction(engine) as s:
            service.create_product(s, data=_product(code))
    assert relay.run_once() == 0
    waiting = {r.payload["subject"] for r in _unpublished(engine)}
    assert set(codes) <= waiting
    # Broker back (empty, memory-only): every waiting event is delivered, in order.
    with EmbeddedBroker(port=port) as back:
        wait_until(
            lambda: relay.run_once() == 0 and not _unpublished(engine), timeout=60, interval=0.5
        )
        events = _read_all(back.bootstrap, "sop.demand.v1", expected=len(codes))
    delivered = [e["subject"] for e in events if e["subject"] in codes]
    assert sorted(delivered) == sorted(codes)
    assert len(delivered) == len(set(delivered))
