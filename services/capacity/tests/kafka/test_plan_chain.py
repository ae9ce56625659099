"""The chain over the real broker: a supply event produces a production plan and its event,
with no manual call; a duplicate is applied once; constrained plans and approvals behave.

The service's own workers run as in production (its consumers' handlers, the job poller and
the outbox relay), wired to topics and consumer groups of this test's own (STYLE §9) so no
other test's records reach them; only supply's REST answer is faked. The plan's event goes
to the contract topic ``sop.capacity.v1`` (the topic is the event's), read back with a group
of its own and picked out by plan id. (The production wiring, each consumer on its domain's
topic, is asserted in integration/test_event_handlers.py.)
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from builders import monthly, seed_live
from fastapi.testclient import TestClient
from kafka import KafkaConsumer, KafkaProducer
from prometheus_client import REGISTRY
from sqlmodel import Session, col, select

from sop_capacity.consumers.handlers import consumers
from sop_capacity.main import create_app
from sop_capacity.production_plans.models import ProductionPlan
from sop_capacity.settings import CapacitySettings
from sop_shared.app import Workers
from sop_shared.broker import EmbeddedBroker
from sop_shared.events import new_event
from sop_shared.inbox import ConsumerRunner
from sop_shared.jobs import Job
from sop_shared.kafka import ensure_topics
from sop_shared.migrations import upgrade
from sop_shared.outbox import OutboxRelay
from sop_shared.outbox.models import OutboxEvent
from sop_shared.settings import KafkaSettings
from sop_shared.testing import create_database, drop_database, wait_until

pytestmark = pytest.mark.kafka


class Running:
    def __init__(self, app: Any, client: TestClient, topics: dict[str, str], names: dict[str, str]):
        self.app, self.client, self.engine = app, client, app.state.engine
        self.topics = topics  # purpose -> this test's topic
        self.names = names  # purpose -> this test's consumer name (and group)

    def plans(self) -> list[ProductionPlan]:
        with Session(self.engine) as session:
            return list(session.exec(select(ProductionPlan)).all())


@pytest.fixture
def running(
    service_dir: Path, tmp_path: Path, kafka_settings: KafkaSettings, fake_supply: Any
) -> Iterator[Running]:
    url = create_database("capacity_chain", tmp_path)
    upgrade(service_dir, url)
    tag = uuid.uuid4().hex[:8]
    topics = {"supply-plans": f"test.supply.{tag}", "cycle": f"test.cycle.{tag}"}
    names = {purpose: f"capacity-test.{purpose}.{tag}" for purpose in topics}
    ensure_topics(kafka_settings, [*topics.values(), "sop.capacity.v1"])
    settings = CapacitySettings(
        database_url=url, migrate_on_start=False, run_workers=False, kafka=kafka_settings
    )
    app = create_app(settings, supply_transport=fake_supply.transport())
    workers = Workers()
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            engine = app.state.engine
            for spec in consumers():
                if spec.purpose not in topics:
                    continue
                runner = ConsumerRunner(
                    engine,
                    kafka_settings,
                    consumer_name=names[spec.purpose],
                    topics=[topics[spec.purpose]],
                    handlers=spec.handlers,
                )
                workers.consumers.append(runner)
                workers.start(runner.consumer_name, runner.run_forever)
            relay = OutboxRelay(engine, kafka_settings, service="capacity")
            workers.start("capacity-relay", relay.run_forever)
            workers.start("capacity-jobs", app.state.jobs.poll_forever)
            wait_until(lambda: all(c.assigned.is_set() for c in workers.consumers), timeout=60)
            try:
                yield Running(app, client, topics, names)
            finally:
                workers.shutdown()
    finally:
        drop_database(url)


def consumed(consumer: str, outcome: str) -> float:
    labels = {"consumer": consumer, "outcome": outcome}
    return REGISTRY.get_sample_value("sop_events_consumed_total", labels) or 0.0


def test_supply_event_twice_gives_one_plan_and_its_event(
    running: Running, broker: EmbeddedBroker, token: Any, fake_supply: Any
) -> None:
    # One line of 100 h a month; 120 units of 1 h in February: 20 are built in January.
    seed_live(
        running,
        token,
        products={"X": (40.0, 10.0)},
        resources=[{"code": "LINE-1", "name": "Line 1", "site": "PA"}],
        calendars=[
            {"resource": "LINE-1", "month": m, "working_days": 12.5} for m in ("2027-01", "2027-02")
        ],
        routings=[{"product": "X", "resource": "LINE-1", "hours_per_unit": 1, "cost_per_unit": 1}],
    )
    supply_plan = f"SP-{uuid.uuid4().hex[:8]}"
    fake_supply.plans[supply_plan] = monthly("X", [50, 120])
    event = new_event(
        source="/sop/supply",
        type="sop.supply.plan.changed.v1",
        subject=supply_plan,
        cycle="2027-01",
        scenario="base",
        data={
            "plan_id": supply_plan,
            "cycle": "2027-01",
            "scenario": "base",
            "version": 1,
            "status": "unconstrained",
        },
    )
    consumer = running.names["supply-plans"]
    producer = KafkaProducer(bootstrap_servers=broker.bootstrap)
    for _ in range(2):  # a redelivery: the same record twice
        producer.send(running.topics["supply-plans"], key=b"2027-01", value=event.to_json()).get(10)

    [plan] = wait_until(running.plans, timeout=90)
    wait_until(lambda: consumed(consumer, "duplicate") == 1, timeout=30)
    assert consumed(consumer, "applied") == 1
    assert plan.supply_plan_id == supply_plan
    assert plan.trigger == "event"
    assert plan.strategy == "optimal"
    assert plan.totals["production"] == pytest.approx(170.0)

    # The plan's event leaves through the outbox and the relay.
    def published() -> list[OutboxEvent]:
        with Session(running.engine) as session:
            rows = session.exec(
                select(OutboxEvent).where(col(OutboxEvent.published_at).is_not(None))
            ).all()
            return list(rows)

    [row] = wait_until(published, timeout=30)
    reader = KafkaConsumer(
        "sop.capacity.v1",
        bootstrap_servers=broker.bootstrap,
        group_id=f"test-{uuid.uuid4().hex}",
        auto_offset_reset="earliest",
        session_timeout_ms=6000,
        heartbeat_interval_ms=1000,
    )
    seen: list[dict[str, Any]] = []

    def capacity_event() -> dict[str, Any] | None:
        for records in reader.poll(500).values():
            seen.extend(json.loads(r.value) for r in records)
        return next((e for e in seen if e["data"]["plan_id"] == str(plan.id)), None)

    out = wait_until(capacity_event, timeout=30)
    reader.close()
    assert out["type"] == "sop.capacity.plan.changed.v1"
    assert out["data"]["upstream_plan_id"] == supply_plan
    assert out["id"] == str(row.id)

    # Supply's constrained answer is ignored (loop guard); the approval freezes the plan.
    constrained = new_event(
        source="/sop/supply",
        type="sop.supply.plan.changed.v1",
        subject=f"{supply_plan}-c",
        data={
            "plan_id": f"{supply_plan}-c",
            "cycle": "2027-01",
            "version": 2,
            "status": "constrained",
            "upstream_plan_id": str(plan.id),
        },
    )
    producer.send(running.topics["supply-plans"], key=b"2027-01", value=constrained.to_json()).get(
        10
    )
    approved = new_event(
        source="/sop/cycle",
        type="sop.cycle.plan.approved.v1",
        subject="2027-01",
        data={
            "cycle": "2027-01",
            "approved_by": "exec",
            "approved_at": "2027-01-25T09:00:00+00:00",
            "production_plan_id": str(plan.id),
        },
    )
    producer.send(running.topics["cycle"], key=b"2027-01", value=approved.to_json()).get(10)
    producer.close()
    wait_until(lambda: consumed(consumer, "applied") == 2, timeout=30)
    wait_until(lambda: consumed(running.names["cycle"], "applied") == 1, timeout=30)
    wait_until(lambda: running.plans()[0].status == "frozen", timeout=30)
    assert len(running.plans()) == 1
    with Session(running.engine) as session:
        assert len(session.exec(select(Job)).all()) == 1
