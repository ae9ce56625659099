"""The consumer runner applies each event once in effect, through a real broker."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from kafka import KafkaConsumer, KafkaProducer
from prometheus_client import REGISTRY
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from sop_demand.products import service
from sop_demand.products.models import Product
from sop_demand.products.schemas import ProductCreate
from sop_shared.broker import EmbeddedBroker
from sop_shared.db import transaction
from sop_shared.events import CloudEvent, new_event
from sop_shared.inbox import ConsumerRunner, apply_once
from sop_shared.inbox.models import ProcessedMessage
from sop_shared.kafka import ensure_topics
from sop_shared.problems import Unprocessable
from sop_shared.settings import KafkaSettings
from sop_shared.testing import wait_until

pytestmark = pytest.mark.kafka


def _bump_price(session: Session, event: CloudEvent) -> None:
    """A deliberately non-idempotent effect, so a second application would show."""
    product = session.exec(select(Product).where(Product.code == event.subject)).one()
    product.price += 1
    session.add(product)


def _fail(session: Session, event: CloudEvent) -> None:
    raise ValueError("this handler always fails")


@pytest.fixture
def product_code(engine: Engine) -> str:
    code = f"IN-{uuid.uuid4().hex[:8]}"
    with transaction(engine) as s:
        service.create_product(
            s, data=ProductCreate(code=code, name=code, family="F", category="C")
        )
    return code


def _price(engine: Engine, code: str) -> float:
    with Session(engine) as s:
        return s.exec(select(Product.price).where(Product.code == code)).one()


@pytest.fixture
def runner_for(engine: Engine, kafka_settings: KafkaSettings) -> Iterator:
    started: list[tuple[ConsumerRunner, threading.Event, threading.Thread]] = []

    def _start(topic: str, handlers: dict) -> ConsumerRunner:
        runner = ConsumerRunner(
            engine,
            kafka_settings.model_copy(update={"consumer_max_attempts": 2}),
            consumer_name=f"test.{uuid.uuid4().hex[:8]}",
            topics=[topic],
            handlers=handlers,
        )
        stop = threading.Event()
        thread = threading.Thread(target=runner.run_forever, args=(stop,), daemon=True)
        thread.start()
        started.append((runner, stop, thread))
        return runner

    yield _start
    for _, stop, thread in started:
        stop.set()
        thread.join(15)


def test_same_event_delivered_twice_is_applied_once(
    engine: Engine,
    broker: EmbeddedBroker,
    kafka_settings: KafkaSettings,
    product_code: str,
    runner_for,
) -> None:
    topic = f"test.inbox.{uuid.uuid4().hex[:8]}"
    ensure_topics(kafka_settings, [topic])
    event = new_event(source="/test", type="test.bump.v1", subject=product_code, data={})
    producer = KafkaProducer(bootstrap_servers=broker.bootstrap)
    for _ in range(2):  # a redelivery: the same record twice
        producer.send(topic, key=product_code.encode(), value=event.to_json()).get(10)
    producer.close()
    runner = runner_for(topic, {"test.bump.v1": _bump_price})

    def consumed(outcome: str) -> float:
        labels = {"consumer": runner.consumer_name, "outcome": outcome}
        return REGISTRY.get_sample_value("sop_events_consumed_total", labels) or 0.0

    wait_until(lambda: consumed("applied") + consumed("duplicate") == 2, timeout=60)
    assert (consumed("applied"), consumed("duplicate")) == (1.0, 1.0)
    assert _price(engine, product_code) == 1.0
    assert apply_once(engine, runner.consumer_name, event, _bump_price) is False
    assert _price(engine, product_code) == 1.0


def test_handler_writes_and_inbox_row_commit_together(engine: Engine, product_code: str) -> None:
    event = new_event(source="/test", type="test.fail.v1", subject=product_code, data={})
    with pytest.raises(ValueError, match="always fails"):
        apply_once(engine, "test.atomic", event, _fail)
    with Session(engine) as s:
        assert s.get(ProcessedMessage, ("test.atomic", event.id)) is None
    assert apply_once(engine, "test.atomic", event, _bump_price) is True
    assert _price(engine, product_code) == 1.0


def test_poison_event_goes_to_the_dead_letter_topic(
    engine: Engine,
    broker: EmbeddedBroker,
    kafka_settings: KafkaSettings,
    product_code: str,
    runner_for,
) -> None:
    topic = f"test.dlq.{uuid.uuid4().hex[:8]}"
    ensure_topics(kafka_settings, [topic, f"{topic}.dlq"])
    poison = new_event(source="/test", type="test.fail.v1", subject=product_code, data={})
    good = new_event(source="/test", type="test.bump.v1", subject=product_code, data={})
    producer = KafkaProducer(bootstrap_servers=broker.bootstrap)
    producer.send(topic, key=b"k", value=poison.to_json()).get(10)
    producer.send(topic, key=b"k", value=good.to_json()).get(10)
    producer.close()
    runner_for(topic, {"test.fail.v1": _fail, "test.bump.v1": _bump_price})
    # the partition moves on past the poison record...
    wait_until(lambda: _price(engine, product_code) == 1.0, timeout=60)
    # ...which waits on the dead-letter topic with the error.
    dlq = KafkaConsumer(
        f"{topic}.dlq",
        bootstrap_servers=broker.bootstrap,
        group_id=f"dlq-{uuid.uuid4().hex}",
        auto_offset_reset="earliest",
        session_timeout_ms=6000,
        heartbeat_interval_ms=1000,
    )
    records: list = []
    wait_until(
        lambda: records.extend(r for rs in dlq.poll(500).values() for r in rs) or records,
        timeout=30,
    )
    dlq.close()
    assert CloudEvent.from_json(records[0].value).id == poison.id
    headers = dict(records[0].headers)
    assert headers["error"].startswith(b"this handler always fails")
    assert headers["reason"] == b"validation"  # a ValueError: the payload, not an outage


def _bump_known_product(session: Session, event: CloudEvent) -> None:
    """A handler with a domain rule: the event's product must exist here."""
    product = session.exec(select(Product).where(Product.code == event.subject)).first()
    if product is None:
        raise Unprocessable(f"unknown product {event.subject!r}", code="unknown-product")
    product.price += 1
    session.add(product)


def test_poison_event_is_dead_lettered_with_its_reason_and_replayed_after_the_fix(
    engine: Engine,
    broker: EmbeddedBroker,
    kafka_settings: KafkaSettings,
    app_factory: Callable[..., Any],
    database_url: str,
    token: Callable[..., dict[str, str]],
    runner_for: Callable[..., ConsumerRunner],
) -> None:
    """An event a domain rule refuses (its product is unknown here) is dead-lettered with that
    reason while the events behind it are applied; once the product exists, the replay
    endpoint applies it, once. Checked that it can fail: with the replay applying nothing
    (``_replay_one`` marking the letter replayed without calling the handler) the price
    stayed 1.0 and the test went red."""
    code = f"DL-{uuid.uuid4().hex[:8]}"
    topic = f"test.replay.{uuid.uuid4().hex[:8]}"
    ensure_topics(kafka_settings, [topic, f"{topic}.dlq"])
    poison = new_event(source="/test", type="test.bump.v1", subject=code, data={})
    other = f"DL-{uuid.uuid4().hex[:8]}"
    with transaction(engine) as s:
        service.create_product(
            s, data=ProductCreate(code=other, name=other, family="F", category="C")
        )
    behind = new_event(source="/test", type="test.bump.v1", subject=other, data={})
    producer = KafkaProducer(bootstrap_servers=broker.bootstrap)
    producer.send(topic, key=b"k", value=poison.to_json()).get(10)
    producer.send(topic, key=b"k", value=behind.to_json()).get(10)
    producer.close()
    runner = runner_for(topic, {"test.bump.v1": _bump_known_product})
    wait_until(lambda: _price(engine, other) == 1.0, timeout=60)  # the partition moved on

    app = app_factory(database_url=database_url, migrate_on_start=False, run_workers=False)
    with TestClient(app) as api:
        app.state.consumer_handlers[runner.consumer_name] = runner.handlers
        admin = token("admin")
        listed = api.get("/api/v1/dead-letters", headers=admin).json()
        [letter] = [d for d in listed["items"] if d["consumer"] == runner.consumer_name]
        assert (letter["event_id"], letter["reason"]) == (poison.id, "domain")
        assert "unknown product" in letter["error"]
        ready = api.get("/readyz").json()
        assert "dead-lettered" in ready["warnings"]["dead_letters"]
        assert api.get("/api/v1/dead-letters", headers=token("viewer")).status_code == 403

        still = api.post(
            "/api/v1/dead-letters/replay", json={"ids": [letter["id"]]}, headers=admin
        ).json()
        assert [r["outcome"] for r in still["results"]] == ["failed"]  # not fixed yet

        with transaction(engine) as s:  # the fix: the product arrives
            service.create_product(
                s, data=ProductCreate(code=code, name=code, family="F", category="C")
            )
        replayed = api.post(
            "/api/v1/dead-letters/replay", json={"ids": [letter["id"]]}, headers=admin
        ).json()
        assert [r["outcome"] for r in replayed["results"]] == ["applied"]
        assert _price(engine, code) == 1.0
        again = api.post(
            "/api/v1/dead-letters/replay", json={"ids": [letter["id"]]}, headers=admin
        ).json()
        assert again["results"] == []  # replayed letters are done: applied once
        assert _price(engine, code) == 1.0
        assert letter["id"] not in [
            d["id"] for d in api.get("/api/v1/dead-letters", headers=admin).json()["items"]
        ]
