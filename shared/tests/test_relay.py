"""Two outbox relays of one service (two replicas) against one database and a real broker:
events of one key arrive in the order they were written, and when one relay stops the
other carries on.

Checked that it can fail (on PostgreSQL): with the relay lock skipped (``_lead`` returning
True), the two relays sent different ``SKIP LOCKED`` batches at once and a key's events
arrived out of order. On SQLite the batches are serialised by ``BEGIN IMMEDIATE``.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from kafka import KafkaConsumer
from sqlalchemy.engine import Engine

from sop_shared.broker import EmbeddedBroker
from sop_shared.db import make_engine, transaction
from sop_shared.events import new_event
from sop_shared.kafka import ensure_topics
from sop_shared.outbox import OutboxRelay, add_event
from sop_shared.outbox.models import OutboxEvent
from sop_shared.settings import KafkaSettings
from sop_shared.testing import create_database, drop_database, wait_until

pytestmark = pytest.mark.kafka

KEYS = ["2027-01", "2027-02", "2027-03", "2027-04"]
PER_KEY = 60


@pytest.fixture
def database(tmp_path: Path) -> Iterator[str]:
    url = create_database("relay", tmp_path)
    engine = make_engine(url)
    OutboxEvent.__table__.create(engine)  # type: ignore[attr-defined]  # the table alone
    engine.dispose()
    yield url
    drop_database(url)


def _write(engine: Engine, topic: str, stop: threading.Event) -> None:
    """Events of every key, numbered per key, in small transactions (as requests write them)."""
    for n in range(PER_KEY):
        if stop.is_set():
            return
        with transaction(engine) as session:
            for key in KEYS:
                event = new_event(source="/test", type="test.n.v1", subject=key, data={"n": n})
                add_event(session, event, topic=topic, key=key)


def test_two_relays_of_one_service_keep_each_keys_order(
    database: str, broker: EmbeddedBroker, kafka_settings: KafkaSettings
) -> None:
    topic = f"test.relay.{uuid.uuid4().hex[:8]}"
    settings = kafka_settings.model_copy(update={"relay_batch_size": 7})
    ensure_topics(settings, [topic])
    engines = [make_engine(database) for _ in range(3)]
    relays = [OutboxRelay(engines[i], settings, service="svc") for i in range(2)]
    stops = [threading.Event() for _ in range(3)]
    threads = [
        threading.Thread(target=relays[i].run_forever, args=(stops[i],), daemon=True)
        for i in range(2)
    ]
    writer = threading.Thread(target=_write, args=(engines[2], topic, stops[2]), daemon=True)
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=broker.bootstrap,
        group_id=f"relay-test-{uuid.uuid4().hex}",
        auto_offset_reset="earliest",
        session_timeout_ms=6000,
        heartbeat_interval_ms=1000,
    )
    received: dict[str, list[int]] = {key: [] for key in KEYS}

    def drain() -> int:
        for records in consumer.poll(timeout_ms=200).values():
            for record in records:
                n = int(json.loads(record.value)["data"]["n"])
                received[record.key.decode()].append(n)
        return sum(len(v) for v in received.values())

    try:
        for thread in (*threads, writer):
            thread.start()
        wait_until(lambda: drain() >= len(KEYS) * PER_KEY // 2, timeout=60, interval=0.05)
        stops[0].set()  # one replica goes away mid-stream: the other carries on alone
        threads[0].join(15)
        writer.join(60)
        wait_until(lambda: drain() >= len(KEYS) * PER_KEY, timeout=60, interval=0.05)
    finally:
        for stop in stops:
            stop.set()
        for thread in threads:
            thread.join(15)
        consumer.close()
        for engine in engines:
            engine.dispose()
    for key in KEYS:
        assert received[key] == list(range(PER_KEY)), (key, received[key])
