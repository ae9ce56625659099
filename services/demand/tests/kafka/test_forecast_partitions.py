"""Forecast partitions through a real broker: redelivery is harmless, replicas share work."""

from __future__ import annotations

import random
import threading
import uuid
from collections.abc import Callable, Iterator

import pytest
from kafka import KafkaProducer
from prometheus_client import REGISTRY
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from sop_demand.consumers.handlers import forecast_partition_handler
from sop_demand.forecasts import service
from sop_demand.forecasts.events import PARTITION_REQUESTED
from sop_demand.forecasts.models import ForecastRun, ForecastValue
from sop_demand.forecasts.schemas import ForecastRunCreate
from sop_demand.history.models import SalesHistory
from sop_demand.months import month_range
from sop_demand.products.models import Product
from sop_shared.auth import Caller
from sop_shared.broker import EmbeddedBroker
from sop_shared.db import transaction
from sop_shared.events import CloudEvent
from sop_shared.inbox import ConsumerRunner
from sop_shared.jobs import Job
from sop_shared.kafka import ensure_topics
from sop_shared.outbox.models import OutboxEvent
from sop_shared.settings import KafkaSettings
from sop_shared.testing import wait_until

pytestmark = pytest.mark.kafka

HISTORY = month_range("2024-10", 24)  # up to 2026-09
HORIZON = 3


def _requested_run(engine: Engine, families: list[str]) -> tuple[uuid.UUID, list[CloudEvent]]:
    """Committed products (two per family), history and a run: its partition events."""
    with transaction(engine) as s:
        for family in families:
            for i in (1, 2):
                code = f"{family}-{i}"
                s.add(Product(code=code, name=code, family=family, category="K"))
                s.add_all(
                    SalesHistory(product=code, site="S1", month=m, quantity=10.0 * i, revenue=0)
                    for m in HISTORY
                )
        s.flush()
        # after the history, inside the accepted window (sop_shared.types.month_window)
        cycle = f"{random.randint(2027, 2035)}-{random.randint(1, 12):02d}"  # noqa: S311
        run = service.request_run(
            s,
            data=ForecastRunCreate(
                cycle=cycle, history_end="2026-09", horizon=HORIZON, families=families
            ),
            caller=Caller(subject="kafka-test", roles=frozenset()),
            partitioned=True,
        )
        rows = s.exec(
            select(OutboxEvent)
            .where(OutboxEvent.event_type == PARTITION_REQUESTED)
            .order_by(col(OutboxEvent.seq))
        ).all()
        events = [
            CloudEvent.model_validate(r.payload)
            for r in rows
            if r.payload["data"]["params"]["run_id"] == str(run.id)
        ]
        return run.id, events


def _job_state(engine: Engine, run_id: uuid.UUID) -> tuple[str, int, int]:
    with Session(engine) as s:
        run = s.get(ForecastRun, run_id)
        assert run is not None
        job = s.get(Job, run.job_id)
        assert job is not None
        return job.state, job.done_parts, job.total_parts


def _stored(engine: Engine, run_id: uuid.UUID) -> int:
    with Session(engine) as s:
        return int(s.exec(select(func.count()).where(ForecastValue.run_id == run_id)).one())


@pytest.fixture
def start_runner(
    engine: Engine, kafka_settings: KafkaSettings
) -> Iterator[Callable[..., ConsumerRunner]]:
    started: list[tuple[threading.Event, threading.Thread]] = []

    def _start(topic: str, name: str, handler: Callable) -> ConsumerRunner:
        runner = ConsumerRunner(
            engine,
            kafka_settings,
            consumer_name=name,
            topics=[topic],
            handlers={PARTITION_REQUESTED: handler},
        )
        stop = threading.Event()
        thread = threading.Thread(target=runner.run_forever, args=(stop,), daemon=True)
        thread.start()
        started.append((stop, thread))
        return runner

    yield _start
    for stop, thread in started:
        stop.set()
        thread.join(15)


def _send(
    broker: EmbeddedBroker, topic: str, events: list[CloudEvent], partitions: list[int]
) -> None:
    producer = KafkaProducer(bootstrap_servers=broker.bootstrap)
    for event, partition in zip(events, partitions, strict=True):
        key = event.data["partition_key"].encode()
        producer.send(topic, key=key, value=event.to_json(), partition=partition).get(10)
    producer.close()


def test_a_partition_delivered_twice_is_applied_once(
    engine: Engine, broker: EmbeddedBroker, kafka_settings: KafkaSettings, start_runner
) -> None:
    tag = uuid.uuid4().hex[:6]
    run_id, events = _requested_run(engine, [f"K1-{tag}", f"K2-{tag}"])
    assert len(events) == 2
    topic = f"test.forecast.{tag}"
    ensure_topics(kafka_settings, [topic])
    # every partition event twice, as after a crash between the DB commit and the offset commit
    _send(broker, topic, events + events, [0, 0, 0, 0])
    runner = start_runner(topic, f"demand.forecast.{tag}", forecast_partition_handler(1))

    def consumed(outcome: str) -> float:
        labels = {"consumer": runner.consumer_name, "outcome": outcome}
        return REGISTRY.get_sample_value("sop_events_consumed_total", labels) or 0.0

    wait_until(lambda: consumed("applied") + consumed("duplicate") == 4, timeout=90)
    assert (consumed("applied"), consumed("duplicate")) == (2.0, 2.0)
    assert _job_state(engine, run_id) == ("succeeded", 2, 2)
    assert _stored(engine, run_id) == 2 * 2 * HORIZON  # 2 families × 2 products × 3 months


def test_replicas_share_the_families_and_one_finishes_the_run(
    engine: Engine, broker: EmbeddedBroker, kafka_settings: KafkaSettings, start_runner
) -> None:
    tag = uuid.uuid4().hex[:6]
    families = [f"R{i}-{tag}" for i in range(3)]
    run_id, events = _requested_run(engine, families)
    topic = f"test.forecast.{tag}"
    ensure_topics(kafka_settings, [topic])  # three partitions
    handled: dict[str, list[str]] = {"one": [], "two": []}

    def replica(name: str) -> Callable:
        inner = forecast_partition_handler(1)

        def handle(session: Session, event: CloudEvent) -> None:
            handled[name].append(event.data["partition_key"])
            inner(session, event)

        return handle

    group = f"demand.forecast.{tag}"  # one consumer group, two replicas
    one = start_runner(topic, group, replica("one"))
    two = start_runner(topic, group, replica("two"))
    wait_until(lambda: one.assigned.is_set() and two.assigned.is_set(), timeout=60)
    _send(broker, topic, events, [0, 1, 2])  # one family on each Kafka partition
    wait_until(lambda: _job_state(engine, run_id)[0] == "succeeded", timeout=90)
    assert sorted(handled["one"] + handled["two"]) == sorted(families)
    assert handled["one"], handled  # both replicas did some of the work
    assert handled["two"], handled
    assert _stored(engine, run_id) == 3 * 2 * HORIZON
