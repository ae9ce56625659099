"""Over the real broker: a submitted demand plan produces a supply plan and its event without
any manual call, and the same demand event delivered twice produces one supply plan."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from kafka import KafkaConsumer, KafkaProducer
from prometheus_client import REGISTRY

from sop_shared.broker import EmbeddedBroker
from sop_shared.events import new_event
from sop_shared.settings import KafkaSettings
from sop_shared.testing import wait_until

pytestmark = pytest.mark.kafka

MONTHS = ["2027-01", "2027-02", "2027-03"]


@pytest.fixture
def service(start_service: Any, kafka_settings: KafkaSettings) -> Iterator[Any]:
    """The service with its relay, consumers and job poller on the test broker."""
    with start_service(kafka=kafka_settings) as live:
        yield live


def consumed(outcome: str) -> float:
    labels = {"consumer": "supply.plans", "outcome": outcome}
    return REGISTRY.get_sample_value("sop_events_consumed_total", labels) or 0.0


def supply_events(bootstrap: str, plan_id: str) -> list[dict[str, Any]]:
    consumer = KafkaConsumer(
        "sop.supply.v1",
        bootstrap_servers=bootstrap,
        group_id=f"test-{uuid.uuid4().hex}",
        auto_offset_reset="earliest",
        session_timeout_ms=6000,
        heartbeat_interval_ms=1000,
    )
    seen: list[dict[str, Any]] = []

    def arrived() -> list[dict[str, Any]]:
        for records in consumer.poll(timeout_ms=500).values():
            seen.extend(json.loads(r.value) for r in records)
        return [e for e in seen if e["subject"] == plan_id]

    try:
        return wait_until(arrived, timeout=60)
    finally:
        consumer.close()


def test_demand_event_twice_makes_one_supply_plan_and_its_event(
    service: Any, world_factory: Any, broker: EmbeddedBroker
) -> None:
    world = world_factory(service)
    world.products("FG")
    world.site("P")
    world.feed(
        "item-sites",
        [
            {
                "product": world.code("FG"),
                "site": world.code("P"),
                "make_or_buy": "make",
                "lead_time_months": 0,
                "moq": 50,
            }
        ],
    )
    demand_plan = world.demand_plan([("FG", "P", m, 30.0) for m in MONTHS])
    event = new_event(
        source="/sop/demand",
        type="sop.demand.plan.changed.v1",
        subject=demand_plan,
        data={
            "plan_id": demand_plan,
            "cycle": world.cycle,
            "version": 1,
            "status": "submitted",
            "totals": {"quantity": 90.0},
            "lines_url": f"/api/v1/demand-plans/{demand_plan}/lines",
        },
        cycle=world.cycle,
    )
    before = consumed("applied"), consumed("duplicate")
    producer = KafkaProducer(bootstrap_servers=broker.bootstrap)
    for _ in range(2):  # a redelivery: the same record twice
        producer.send("sop.demand.v1", key=world.cycle.encode(), value=event.to_json()).get(10)
    producer.close()

    wait_until(lambda: consumed("applied") + consumed("duplicate") - sum(before) == 2, timeout=90)
    assert (consumed("applied") - before[0], consumed("duplicate") - before[1]) == (1, 1)
    plans = wait_until(lambda: world.get("supply-plans", cycle=world.cycle)["items"], timeout=60)
    assert len(plans) == 1
    plan = plans[0]
    assert (plan["demand_plan_id"], plan["status"]) == (demand_plan, "unconstrained")
    # demand 30 a month, MOQ 50: m0 order 50 (close 20), m1 short 10 -> 50 (close 40), m2 none
    assert world.lines(plan["id"], "FG", "P")["planned_receipts"] == [50, 50, 0]

    [published] = supply_events(broker.bootstrap, plan["id"])
    assert published["type"] == "sop.supply.plan.changed.v1"
    assert published["data"]["upstream_plan_id"] == demand_plan
    assert published["data"]["lines_url"].endswith("/production-requirements")
    assert len(world.get("supply-plans", cycle=world.cycle)["items"]) == 1
