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

#: A planner's change that moves supply and capacity: +40 % beverages in the second month
#: (the bottling lines of PLANT-N are the bottleneck) and +30 % snacks in the third.
OVERRIDE = [
    {"level": "family", "node": "BEV", "month": "2027-03", "change_pct": 40},
    {"level": "family", "node": "SNK", "month": "2027-04", "change_pct": 30},
]
CONSUMED_BY = {  # producer: (event type, consumers that apply it)
    "demand": ("sop.demand.plan.changed.v1", ("supply.plans", "cycle.plans")),
    "supply": ("sop.supply.plan.changed.v1", ("capacity.supply-plans", "cycle.plans")),
    "capacity": ("sop.capacity.plan.changed.v1", ("supply.plans", "cycle.plans")),
}
CONSUMER_SERVICE = {
    "supply.plans": "supply",
    "capacity.supply-plans": "capacity",
    "cycle.plans": "cycle",
}


def new_version(stack: Any, based_on: str, override: list[dict[str, Any]] | None) -> str:
    """A new demand version copied from ``based_on``, optionally overridden, then submitted."""
    created = stack.api(
        "demand",
        "POST",
        "/demand-plans",
        "demand_planner",
        json={"cycle": stack.month, "scenario": "base", "based_on": based_on},
    )
    assert created.status_code == 201, created.text
    plan_id, etag = created.json()["id"], created.headers["ETag"]
    if override:
        changed = stack.api(
            "demand",
            "POST",
            f"/demand-plans/{plan_id}/overrides",
            "demand_planner",
            json={"reason": "fault test", "items": override},
            headers={"If-Match": etag},
        )
        assert changed.status_code == 200, changed.text
        etag = changed.headers["ETag"]
    submitted = stack.api(
        "demand",
        "POST",
        f"/demand-plans/{plan_id}/submit",
        "demand_planner",
        headers={"If-Match": etag},
    )
    assert submitted.status_code == 200, submitted.text
    return str(plan_id)


def supply_plans(stack: Any, demand_plan: str) -> list[dict[str, Any]]:
    page = stack.api(
        "supply", "GET", "/supply-plans", "viewer", params={"cycle": stack.month, "limit": 1000}
    )
    assert page.status_code == 200, page.text
    return [p for p in page.json()["items"] if p["demand_plan_id"] == demand_plan]


def jsonl(stack: Any, service: str, path: str) -> list[dict[str, Any]]:
    response = stack.api(service, "GET", path, "viewer", params={"format": "jsonl"})
    assert response.status_code == 200, response.text
    rows = [json.loads(line) for line in response.text.splitlines() if line.strip()]
    return sorted(
        ({k: round(v, 6) if isinstance(v, float) else v for k, v in r.items()} for r in rows),
        key=lambda r: json.dumps(r, sort_keys=True),
    )


def chain(stack: Any, demand_plan: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The supply plans the events made for ``demand_plan``: (unconstrained, constrained).

    Runs a planner starts by hand (another test does) are ``created_by`` their caller, so
    only the event-made ones count here."""
    plans = supply_plans(stack, demand_plan)
    unconstrained = [
        p for p in plans if p["status"] == "unconstrained" and p["created_by"].startswith("event:")
    ]
    ids = {p["id"] for p in unconstrained}
    constrained = [
        p for p in plans if p["status"] == "constrained" and p["base_supply_plan_id"] in ids
    ]
    return unconstrained, constrained


def outcome(stack: Any, demand_plan: str) -> dict[str, Any]:
    """The settled chain of ``demand_plan``: its supply plan, production plan and the
    constrained recompute, as lines (ids and timestamps left out)."""
    unconstrained, constrained = wait_until(
        lambda: (c := chain(stack, demand_plan))[1] and c, timeout=180, interval=0.5
    )
    assert len(unconstrained) == 1, unconstrained  # one demand event → one supply plan
    assert len(constrained) == 1, constrained  # one capacity event → one recompute
    production = stack.api(
        "capacity",
        "GET",
        "/production-plans",
        "viewer",
        params={"supply_plan_id": unconstrained[0]["id"]},
    ).json()["items"]
    assert len(production) == 1, production  # one supply event → one production plan
    assert constrained[0]["based_on_production_plan_id"] == str(production[0]["id"])
    return {
        "supply": jsonl(stack, "supply", f"/supply-plans/{unconstrained[0]['id']}/lines"),
        "production": jsonl(stack, "capacity", f"/production-plans/{production[0]['id']}/lines"),
        "constrained": jsonl(stack, "supply", f"/supply-plans/{constrained[0]['id']}/lines"),
        "totals": [unconstrained[0]["totals"], constrained[0]["totals"]],
    }


def _broker_down(stack: Any) -> bool:
    ready = httpx.get(stack.url("demand") + "/readyz", timeout=10)
    return ready.status_code == 503 and ready.json()["checks"]["broker"] != "ok"


def _payload(value: Any) -> dict[str, Any]:
    return json.loads(value) if isinstance(value, str) else dict(value)


def test_broker_outage_mid_chain_delays_events_and_loses_none(
    fault_stack: Any, demo_plan: str
) -> None:
    stack = fault_stack
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
