"""An event written with a change in one service reaches the others through the real broker."""

from __future__ import annotations

import uuid

import httpx
import pytest
from kafka import KafkaAdminClient

from sop_shared.auth import create_token
from sop_shared.devstack import SERVICES, DevStack
from sop_shared.settings import AuthSettings, KafkaSettings
from sop_shared.testing import wait_until

pytestmark = pytest.mark.e2e


def _headers(role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {create_token(AuthSettings(), subject='e2e', roles=[role])}"}


def _product_in(stack: DevStack, service: str, code: str) -> dict | None:
    page = httpx.get(
        f"{stack.url(service)}/api/v1/products", params={"limit": 1000}, headers=_headers("viewer")
    )
    page.raise_for_status()
    return next((p for p in page.json()["items"] if p["code"] == code), None)


def test_the_four_topics_are_created_on_start(stack: DevStack) -> None:
    """The broker starts empty (memory only); the services create their topics, with the
    configured partition count, as their consumers start."""
    topics = [f"sop.{name}.v1" for name in SERVICES]
    partitions = int(stack.env.get("SOP_KAFKA_PARTITIONS", KafkaSettings().partitions))
    admin = KafkaAdminClient(bootstrap_servers=stack.bootstrap, client_id="e2e-topics")
    try:
        # list first: describing a topic that does not exist yet could create it
        wait_until(lambda: set(topics) <= set(admin.list_topics()), timeout=60, interval=0.5)
        described = {t["name"]: t for t in admin.describe_topics(topics)}
    finally:
        admin.close()
    assert sorted(described) == sorted(topics)
    for topic in topics:
        assert described[topic]["error_code"] == 0, described[topic]
        assert len(described[topic]["partitions"]) == partitions, (topic, described[topic])


def test_product_change_in_demand_reaches_supply_and_capacity(stack: DevStack) -> None:
    code = f"E2E-{uuid.uuid4().hex[:6]}"
    created = httpx.post(
        f"{stack.url('demand')}/api/v1/products",
        json={"code": code, "name": "Espresso 1kg", "family": "COFFEE", "category": "BEV"},
        headers=_headers("demand_planner"),
    )
    assert created.status_code == 201, created.text
    for service in ("supply", "capacity"):
        copy = wait_until(lambda s=service: _product_in(stack, s, code), timeout=60)
        assert copy["family"] == "COFFEE"
        assert copy["version"] == 1

    changed = httpx.patch(
        f"{stack.url('demand')}/api/v1/products/{code}",
        json={"family": "COFFEE-PREMIUM"},
        headers={**_headers("demand_planner"), "If-Match": '"1"'},
    )
    assert changed.status_code == 200
    for service in ("supply", "capacity"):
        copy = wait_until(
            lambda s=service: (p := _product_in(stack, s, code)) and p["version"] == 2 and p,
            timeout=60,
        )
        assert copy["family"] == "COFFEE-PREMIUM"


def test_every_service_is_ready(stack: DevStack) -> None:
    for service in stack.ports:
        ready = httpx.get(f"{stack.url(service)}/readyz")
        assert ready.status_code == 200
        assert ready.json()["checks"] == {"database": "ok", "broker": "ok"}
