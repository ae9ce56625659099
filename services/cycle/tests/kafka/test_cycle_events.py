"""The cycle through a real broker: plan events it consumes (each applied once) and the
events it publishes (step changes, scenarios, approval) through its outbox relay."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from kafka import KafkaConsumer, KafkaProducer
from prometheus_client import REGISTRY
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from sop_cycle.consumers.handlers import plan_consumer
from sop_cycle.cycles import service as cycles
from sop_cycle.cycles.models import StepTransition
from sop_cycle.cycles.schemas import CycleCreate
from sop_cycle.cycles.watch import check_overdue
from sop_cycle.cycles.workflow import Action
from sop_cycle.plans.models import PlanRecord
from sop_cycle.scenarios import service as scenarios
from sop_cycle.scenarios.schemas import ScenarioCreate, ScenarioParameters
from sop_cycle.settings import STEP_NAMES, CycleSettings
from sop_shared.auth import Caller, Role
from sop_shared.broker import EmbeddedBroker
from sop_shared.db import transaction
from sop_shared.events.catalog import StepNoticeData
from sop_shared.inbox import ConsumerRunner
from sop_shared.kafka import ensure_topics
from sop_shared.outbox import OutboxRelay
from sop_shared.outbox.models import OutboxEvent
from sop_shared.settings import KafkaSettings
from sop_shared.testing import wait_until

from ..builders import plan_event

pytestmark = pytest.mark.kafka
COORDINATOR = Caller(subject="carla", roles=frozenset({Role.sop_coordinator}))


def _month() -> str:
    """A month of its own per test (the broker-tier database is shared and committed)."""
    n = uuid.uuid4().int % 600  # 1980-2029: inside the accepted window (sop_shared.types)
    return f"{1980 + n // 12:04d}-{n % 12 + 1:02d}"


def _open(engine: Engine, month: str) -> None:
    with transaction(engine) as s:
        cycles.open_cycle(
            s, data=CycleCreate(month=month), actor=COORDINATOR, settings=CycleSettings()
        )


@pytest.fixture
def consumer(committed_engine: Engine, kafka_settings: KafkaSettings) -> Iterator[Any]:
    runners: list[tuple[ConsumerRunner, threading.Event, threading.Thread]] = []

    def start(topics: list[str]) -> ConsumerRunner:
        spec = plan_consumer(topics)
        runner = ConsumerRunner(
            committed_engine,
            kafka_settings,
            consumer_name=f"cycle-test.{uuid.uuid4().hex[:8]}",
            topics=spec.topics,
            handlers=spec.handlers,
        )
        stop = threading.Event()
        thread = threading.Thread(target=runner.run_forever, args=(stop,), daemon=True)
        thread.start()
        runners.append((runner, stop, thread))
        return runner

    yield start
    for _, stop, thread in runners:
        stop.set()
        thread.join(15)


def _count(runner: ConsumerRunner, outcome: str) -> float:
    labels = {"consumer": runner.consumer_name, "outcome": outcome}
    return REGISTRY.get_sample_value("sop_events_consumed_total", labels) or 0.0


def test_a_plan_event_delivered_twice_is_applied_once(
    committed_engine: Engine, broker: EmbeddedBroker, kafka_settings: KafkaSettings, consumer: Any
) -> None:
    month = _month()
    _open(committed_engine, month)
    topic = f"test.demand.{uuid.uuid4().hex[:8]}"
    ensure_topics(kafka_settings, [topic])
    event = plan_event("demand", f"D-{month}", cycle=month)
    producer = KafkaProducer(bootstrap_servers=broker.bootstrap)
    for _ in range(2):  # a redelivery: the very same record twice
        producer.send(topic, key=month.encode(), value=event.to_json()).get(10)
    producer.close()
    runner = consumer([topic])
    wait_until(lambda: _count(runner, "applied") + _count(runner, "duplicate") == 2, timeout=60)
    assert (_count(runner, "applied"), _count(runner, "duplicate")) == (1.0, 1.0)
    with Session(committed_engine) as s:
        records = s.exec(select(PlanRecord).where(PlanRecord.cycle == month)).all()
        assert [(r.plan_id, r.status) for r in records] == [(f"D-{month}", "submitted")]
        cycle = cycles.get_cycle(s, month=month)
        trail = s.exec(select(StepTransition).where(StepTransition.cycle_id == cycle.id)).all()
        assert [(t.step, t.action, t.to_status, t.event_id) for t in trail] == [
            ("demand_review", "advance", "ready", event.id)
        ]


def test_the_chain_of_plan_events_moves_the_steps(
    committed_engine: Engine, broker: EmbeddedBroker, kafka_settings: KafkaSettings, consumer: Any
) -> None:
    month = _month()
    _open(committed_engine, month)
    topics = {k: f"test.{k}.{uuid.uuid4().hex[:8]}" for k in ("demand", "supply", "capacity")}
    ensure_topics(kafka_settings, list(topics.values()))
    runner = consumer(list(topics.values()))
    producer = KafkaProducer(bootstrap_servers=broker.bootstrap)
    d, s = f"D1-{month}", f"S1-{month}"  # plan ids are unique across cycles
    chain = [
        ("demand", plan_event("demand", d, cycle=month)),
        ("supply", plan_event("supply", s, cycle=month, upstream=d)),
        ("capacity", plan_event("production", f"P1-{month}", cycle=month, upstream=s)),
        (
            "supply",
            plan_event(
                "supply", f"S1c-{month}", cycle=month, upstream=d, version=2, status="constrained"
            ),
        ),
    ]
    for domain, event in chain:
        producer.send(topics[domain], key=month.encode(), value=event.to_json()).get(10)
        # the next event follows once this one is in (one cycle's events stay in order)
        wait_until(lambda n=event.id: _applied(committed_engine, n), timeout=60)
    producer.close()
    with Session(committed_engine) as s:
        steps = {
            st.name: st.status for st in cycles.load_steps(s, cycles.get_cycle(s, month=month))
        }
    assert steps["demand_review"] == steps["supply_review"] == steps["production_review"] == "ready"
    assert steps["pre_sop"] == "ready"
    assert _count(runner, "applied") == 4


def _applied(engine: Engine, event_id: str) -> bool:
    with Session(engine) as s:
        return s.exec(select(PlanRecord).where(PlanRecord.event_id == event_id)).first() is not None


def _read(
    bootstrap: str, topic: str, wanted: set[str], timeout: float = 30
) -> dict[str, dict[str, Any]]:
    reader = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"test-{uuid.uuid4().hex}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        session_timeout_ms=6000,
        heartbeat_interval_ms=1000,
    )
    seen: dict[str, dict[str, Any]] = {}

    def poll() -> bool:
        for records in reader.poll(timeout_ms=500).values():
            for r in records:
                body = json.loads(r.value)
                if body["id"] in wanted:
                    seen[body["id"]] = body
        return wanted <= set(seen)

    try:
        wait_until(poll, timeout=timeout)
    finally:
        reader.close()
    return seen


def test_scenario_and_step_events_reach_the_cycle_topic(
    committed_engine: Engine, broker: EmbeddedBroker, kafka_settings: KafkaSettings
) -> None:
    month = _month()
    _open(committed_engine, month)
    with transaction(committed_engine) as s:
        scenarios.create_scenario(
            s,
            month=month,
            data=ScenarioCreate(
                code="downside",
                name="Downside",
                parameters=ScenarioParameters(demand_change_pct={"A": -15}, overtime_allowed=True),
            ),
            actor=COORDINATOR,
        )
        cycles.transition(
            s,
            month=month,
            step="product_review",
            action=Action.start,
            actor=COORDINATOR,
            reason="NPI review",
            if_match=None,
            today=date(2026, 12, 1),
        )
    with Session(committed_engine) as s:
        rows = s.exec(
            select(OutboxEvent).where(col(OutboxEvent.key) == month).order_by(col(OutboxEvent.seq))
        ).all()
        wanted = {str(r.id) for r in rows}
    relay = OutboxRelay(committed_engine, kafka_settings, service="cycle-test")
    while relay.run_once():
        pass
    seen = _read(broker.bootstrap, "sop.cycle.v1", wanted)
    types = sorted(e["type"] for e in seen.values())
    assert types == ["sop.cycle.scenario.changed.v1", "sop.cycle.step.changed.v1"]
    scenario = next(e for e in seen.values() if e["type"].endswith("scenario.changed.v1"))
    assert scenario["data"]["parameters"]["demand_change_pct"] == {"A": -15.0}
    assert scenario["sopscenario"] == "downside"


def test_step_notices_reach_the_cycle_topic_for_a_notification_sender(
    committed_engine: Engine, broker: EmbeddedBroker, kafka_settings: KafkaSettings
) -> None:
    month = _month()
    _open(committed_engine, month)
    year, number = int(month[:4]), int(month[5:])
    # the watcher's round on the first day after the month: all seven steps are late
    after = date(year + number // 12, number % 12 + 1, 1)
    announced = check_overdue(committed_engine, today=after)
    # (other tests' cycles of the shared database may be announced in the same round)
    assert [step for m, step in announced if m == month] == list(STEP_NAMES)
    with Session(committed_engine) as s:
        rows = s.exec(
            select(OutboxEvent).where(
                col(OutboxEvent.key) == month,
                col(OutboxEvent.event_type) == "sop.cycle.step.overdue.v1",
            )
        ).all()
        wanted = {str(r.id) for r in rows}
    assert len(wanted) == 7
    relay = OutboxRelay(committed_engine, kafka_settings, service="cycle-test")
    while relay.run_once():
        pass
    seen = _read(broker.bootstrap, "sop.cycle.v1", wanted)
    notices = sorted(
        (StepNoticeData.model_validate(e["data"]) for e in seen.values()),
        key=lambda n: STEP_NAMES.index(n.step),
    )
    assert [(n.step, n.notice, n.owner_role) for n in notices][:2] == [
        ("data_gathering", "overdue", "sop_coordinator"),
        ("product_review", "overdue", "demand_planner"),
    ]
    assert all(n.link == f"/api/v1/cycles/{month}/steps/{n.step}" for n in notices)
    assert {e["sopcycle"] for e in seen.values()} == {month}


def test_an_event_mixing_scenarios_is_dead_lettered_with_the_reason(
    committed_engine: Engine, broker: EmbeddedBroker, kafka_settings: KafkaSettings, consumer: Any
) -> None:
    """A what-if production plan computed from base's supply plan: refused at once (no
    retries), sent to ``<topic>.dlq`` with the reason, and the partition moves on."""
    month = _month()
    _open(committed_engine, month)
    topic = f"test.capacity.{uuid.uuid4().hex[:8]}"
    ensure_topics(kafka_settings, [topic, f"{topic}.dlq"])
    runner = consumer([topic])
    producer = KafkaProducer(bootstrap_servers=broker.bootstrap)
    d, sp, p = (f"{kind}-{month}" for kind in ("D1", "S1", "P1"))  # plan ids are unique
    chain = [
        plan_event("demand", d, cycle=month),
        plan_event("supply", sp, cycle=month, upstream=d),
        plan_event("production", f"PW-{month}", cycle=month, scenario="what-if", upstream=sp),
        plan_event("production", p, cycle=month, upstream=sp),
    ]
    for event in chain:
        producer.send(topic, key=month.encode(), value=event.to_json()).get(10)
    producer.close()
    wait_until(lambda: _applied(committed_engine, chain[-1].id), timeout=60)
    assert _count(runner, "dead_lettered") == 1
    with Session(committed_engine) as s:
        records = s.exec(select(PlanRecord).where(PlanRecord.cycle == month)).all()
    assert sorted(r.plan_id for r in records) == [d, p, sp]
    dlq = KafkaConsumer(
        f"{topic}.dlq",
        bootstrap_servers=broker.bootstrap,
        group_id=f"dlq-{uuid.uuid4().hex}",
        auto_offset_reset="earliest",
        session_timeout_ms=6000,
        heartbeat_interval_ms=1000,
    )
    got: list[Any] = []
    wait_until(
        lambda: got.extend(r for rs in dlq.poll(500).values() for r in rs) or got, timeout=30
    )
    dlq.close()
    assert json.loads(got[0].value)["id"] == chain[2].id
    reason = dict(got[0].headers)["error"].decode()
    assert "lineage mixes scenarios" in reason
    assert f"upstream supply plan {sp}: cycle {month} scenario base" in reason
