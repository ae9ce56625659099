"""The broker goes down in the middle of the demand → supply → capacity → supply chain.

Planners keep working meanwhile (a new demand version is created and submitted: the outbox
holds its event), and when the broker is back every event arrives, each is applied once
(inbox), and the supply and production plans equal those of the same inputs computed with
no fault at all. How the outage is made (a persistent broker's address going dark) and why
is said in ``conftest.py``.

Checked that it can fail: with the relay marking rows published when the broker is
unreachable instead of sending them (a one-line change in ``OutboxRelay.run_once``), the
event of the version submitted during the outage was gone from the outbox without ever
reaching supply, and the test went red.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest

from sop_shared.testing import wait_until

pytestmark = pytest.mark.e2e


def _broker_down(stack: Any) -> bool:
    ready = httpx.get(stack.url("demand") + "/readyz", timeout=10)
    return ready.status_code == 503 and ready.json()["checks"]["broker"] != "ok"


def _payload(value: Any) -> dict[str, Any]:
    return json.loads(value) if isinstance(value, str) else dict(value)


def test_broker_outage_mid_chain_delays_events_and_loses_none(
    fault_stack: Any, demo_plan: str, chains: Any
) -> None:
    stack = fault_stack
    new_version, outcome, supply_plans, chain = (
        chains.new_version,
        chains.outcome,
        chains.supply_plans,
        chains.chain,
    )
    OVERRIDE, CONSUMED_BY, CONSUMER_SERVICE = (
        chains.OVERRIDE,
        chains.CONSUMED_BY,
        chains.CONSUMER_SERVICE,
    )
    # Reference runs with the broker up: the plain plan (v1) and the overridden one.
    plain = outcome(stack, demo_plan)
    overridden_ref = new_version(stack, demo_plan, OVERRIDE)
    overridden = outcome(stack, overridden_ref)
    assert overridden["supply"] != plain["supply"]  # the override matters downstream

    # The fault: the same override again; the broker goes dark once supply has answered.
    mid_chain = new_version(stack, demo_plan, OVERRIDE)
    wait_until(lambda: supply_plans(stack, mid_chain), timeout=120, interval=0.05)
    stack.proxied.cut()
    wait_until(lambda: _broker_down(stack), timeout=30, interval=0.2)

    # Planners keep working: create and submit another version while the broker is down.
    during = new_version(stack, demo_plan, None)
    pending = [
        _payload(payload)["data"]["plan_id"]
        for (payload,) in stack.query(
            "demand",
            "SELECT payload FROM outbox_event WHERE published_at IS NULL AND event_type = :t",
            t="sop.demand.plan.changed.v1",
        )
    ]
    assert during in pending  # committed with the plan, waiting for the broker

    stack.proxied.restore()
    assert outcome(stack, mid_chain) == overridden
    assert outcome(stack, during) == plain

    # Every event was sent and applied exactly once by each consumer (the inbox's key).
    for producer in CONSUMED_BY:
        wait_until(
            lambda p=producer: (
                stack.query(p, "SELECT count(*) FROM outbox_event WHERE published_at IS NULL")[0][0]
                == 0
            ),
            timeout=60,
        )
    for producer, (event_type, consumers) in CONSUMED_BY.items():
        sent = {
            uuid.UUID(str(i))
            for (i,) in stack.query(
                producer, "SELECT id FROM outbox_event WHERE event_type = :t", t=event_type
            )
        }
        for consumer in consumers:

            def applied(c: str = consumer) -> set[uuid.UUID]:
                rows = stack.query(
                    CONSUMER_SERVICE[c],
                    "SELECT event_id FROM processed_message WHERE consumer = :c",
                    c=c,
                )
                return {uuid.UUID(str(i)) for (i,) in rows}

            wait_until(lambda c=consumer, s=sent: s <= applied(c), timeout=60, interval=0.5)
    # Nothing applied twice in effect: still one plan per upstream version.
    for demand_plan in (demo_plan, overridden_ref, mid_chain, during):
        assert [len(plans) for plans in chain(stack, demand_plan)] == [1, 1]
