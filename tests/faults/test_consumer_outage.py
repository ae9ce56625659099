"""A consumer's database down for 60 s while plan events arrive: the consumer pauses, commits
nothing and dead-letters nothing, and applies every event once when the database is back.
And a bad event is a dead letter with its reason, seen in readiness, metrics and the CLI.

The outage is real: the cycle service reaches PostgreSQL through a TCP proxy the test cuts
(``FaultStack.cut_database``); the chain demand → supply → capacity → supply runs meanwhile,
so the cycle's ``plans`` consumer meets the outage with its events waiting.

Checked that it can fail (a ``sitecustomize`` on the service processes, the repo untouched):
with the former runner's rule (no outage class: retry five times, then dead-letter and
commit the offset) the consumer dead-lettered the chain's events instead of pausing and the
test went red.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from typing import Any

import httpx
import pytest
from kafka import KafkaProducer

from sop_shared.events import new_event
from sop_shared.testing import postgres_admin_url, wait_until

pytestmark = pytest.mark.e2e

OUTAGE_SECONDS = 60.0
PLAN_EVENTS = (
    ("demand", "sop.demand.plan.changed.v1"),
    ("supply", "sop.supply.plan.changed.v1"),
    ("capacity", "sop.capacity.plan.changed.v1"),
)


def _metric(stack: Any, of: str, name: str, **labels: str) -> float:
    """A sample of service ``of``'s /metrics (needs no database)."""
    text = httpx.get(stack.url(of) + "/metrics", timeout=10).text
    want = ",".join(f'{k}="{v}"' for k, v in labels.items())
    for line in text.splitlines():
        if line.startswith(f"{name}{{{want}}} "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def _dead_letters(stack: Any, service: str) -> int:
    return int(stack.query(service, "SELECT count(*) FROM dead_letter")[0][0])


def _events_since(stack: Any, marks: dict[str, int]) -> set[str]:
    """Ids of the plan events the producers wrote after their outbox row ``marks[producer]``."""
    return {
        str(uuid.UUID(str(i)))
        for producer, event_type in PLAN_EVENTS
        for (i,) in stack.query(
            producer,
            "SELECT id FROM outbox_event WHERE event_type = :t AND seq > :s",
            t=event_type,
            s=marks[producer],
        )
    }


def _applied(stack: Any, consumer: str) -> list[str]:
    return [
        str(uuid.UUID(str(i)))
        for (i,) in stack.query(
            "cycle", "SELECT event_id FROM processed_message WHERE consumer = :c", c=consumer
        )
    ]


def test_consumer_database_down_60s_nothing_dead_lettered_all_applied_once(
    fault_stack: Any, demo_plan: str, chains: Any
) -> None:
    if postgres_admin_url() is None:
        pytest.skip("needs PostgreSQL (SOP_TEST_DATABASE_URL): the outage cuts its TCP path")
    stack = fault_stack
    chains.outcome(stack, demo_plan)  # the earlier chain has settled
    wait_until(lambda: _metric(stack, "cycle", "sop_consumer_paused", consumer="cycle.plans") == 0)
    marks = {
        p: int(stack.query(p, "SELECT coalesce(max(seq), 0) FROM outbox_event")[0][0])
        for p, _ in PLAN_EVENTS
    }
    dead_before = _dead_letters(stack, "cycle")

    stack.cut_database("cycle")
    cut_at = time.monotonic()
    try:
        version = chains.new_version(stack, demo_plan, chains.OVERRIDE)
        chains.outcome(stack, version)  # supply and capacity answer while the cycle's DB is down
        wait_until(
            lambda: _metric(stack, "cycle", "sop_consumer_paused", consumer="cycle.plans") == 1,
            timeout=30,
        )  # the cycle's consumer met the outage with events to apply, and paused

        def held() -> bool:  # meanwhile: nothing dead-lettered, readiness says why
            dead = _metric(
                stack,
                "cycle",
                "sop_events_consumed_total",
                consumer="cycle.plans",
                outcome="dead_lettered",
            )
            assert dead == 0
            ready = httpx.get(stack.url("cycle") + "/readyz", timeout=10)
            assert ready.status_code == 503
            assert ready.json()["checks"]["database"].startswith("unavailable")
            return time.monotonic() - cut_at >= OUTAGE_SECONDS

        wait_until(held, timeout=OUTAGE_SECONDS + 30, interval=2)
    finally:
        stack.restore_database("cycle")

    chain_events = _events_since(stack, marks)
    assert len(chain_events) >= 4, chain_events  # demand, supply, capacity, constrained supply

    wait_until(lambda: chain_events <= set(_applied(stack, "cycle.plans")), timeout=90)
    applied = _applied(stack, "cycle.plans")
    assert len(applied) == len(set(applied))  # each event applied once
    assert _dead_letters(stack, "cycle") == dead_before  # nothing dead-lettered
    assert _metric(stack, "cycle", "sop_consumer_paused", consumer="cycle.plans") == 0
    month = stack.api("cycle", "GET", f"/cycles/{stack.month}", "viewer").json()
    assert month["current_plans"]["demand"]["plan_id"] == version  # the cycle saw the chain


def test_a_bad_event_is_a_dead_letter_with_its_reason_listed_and_replayed_by_the_cli(
    fault_stack: Any,
) -> None:
    """A plan event whose data fails validation: the cycle dead-letters it (reason
    ``validation``) and moves on; readiness warns, the metric counts it, ``sop dead-letters
    list`` shows it and ``replay`` reports that it still fails (nothing fixed it)."""
    stack = fault_stack
    before = _dead_letters(stack, "cycle")
    envelope = new_event(
        source="/sop/supply",
        type="sop.supply.plan.changed.v1",
        subject="no-plan",
        data={"plan_id": "x", "cycle": stack.month, "version": 1, "status": "unconstrained"},
    ).model_dump(mode="json", exclude_none=True)
    del envelope["data"]["plan_id"]  # what a broken producer might send
    producer = KafkaProducer(bootstrap_servers=stack.bootstrap)
    producer.send(
        "sop.supply.v1", key=stack.month.encode(), value=json.dumps(envelope).encode()
    ).get(30)
    producer.close()
    wait_until(lambda: _dead_letters(stack, "cycle") > before, timeout=60, interval=0.5)

    ready = httpx.get(stack.url("cycle") + "/readyz", timeout=10)
    assert ready.status_code == 200, ready.text  # a warning, not an outage
    assert "dead-lettered" in ready.json()["warnings"]["dead_letters"]
    assert _metric(stack, "cycle", "sop_dead_letters", service="cycle") >= 1

    env = {**os.environ}
    cli = [sys.executable, "-m", "sop_shared.cli", "dead-letters"]
    where = ["--service", "cycle", "--url", stack.url("cycle")]
    listed = subprocess.run(
        [*cli, "list", *where], capture_output=True, text=True, env=env, check=False
    )
    assert listed.returncode == 0, listed.stderr
    [line] = [
        line
        for line in listed.stdout.splitlines()
        if "cycle.plans" in line and "validation" in line
    ]
    letter_id = line.split()[0]
    replayed = subprocess.run(
        [*cli, "replay", *where, "--id", letter_id],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert replayed.returncode == 1, replayed.stdout  # still invalid: it stays a dead letter
    assert f"{letter_id}  failed" in replayed.stdout
    assert _dead_letters(stack, "cycle") > before
