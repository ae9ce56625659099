"""A service process killed with SIGKILL (no clean-up at all) in the middle of its work.

* During a bulk import of 100 000 history rows: after the restart the batch is either all
  there or absent, and the ERP's retry with the same Idempotency-Key applies it exactly once.
* During a supply or a production plan job of the event chain: the restarted service
  re-queues the interrupted job (``SOP_JOB_STALE_SECONDS`` after its runner's last
  heartbeat, 3 s in this stack), the chain completes with no manual call, and its plans
  equal the no-fault run's.

Checked that it can fail (through a ``sitecustomize`` on the service processes, the repo
untouched): with the Idempotency-Key ignored (``bulk.replay`` answering None) the second
retry imported the 100 000 rows again instead of replaying the first answer and the test
went red. The recovery takes a job only once its runner's heartbeat is stale, so a replica
never takes another live replica's job (shared/tests/test_jobs.py).
"""

from __future__ import annotations

import io
import json
import os
import signal
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from sop_shared.devstack import Supervisor
from sop_shared.testing import wait_until

pytestmark = pytest.mark.e2e

PRODUCTS, SITES, MONTHS = 50, 20, 100  # 100 000 rows, about 3.5 MB of CSV


def _history_csv(family: str) -> bytes:
    months = [f"{2010 + m // 12}-{m % 12 + 1:02d}" for m in range(MONTHS)]
    lines = ["product,site,month,quantity,revenue"]
    lines += [
        f"{family}-{p},S{s:03d},{month},{p + s},{2 * (p + s)}"
        for p in range(PRODUCTS)
        for s in range(SITES)
        for month in months
    ]
    return ("\n".join(lines) + "\n").encode()


def _rows_of(stack: Any, family: str) -> int:
    return int(
        stack.query(
            "demand",
            "SELECT count(*) FROM sales_history WHERE product LIKE :p",
            p=f"{family}-%",
        )[0][0]
    )


def _loads(stack: Any) -> int:
    page = stack.api("demand", "GET", "/sales-history/loads", "viewer", params={"limit": 1})
    assert page.status_code == 200, page.text
    return int(page.json()["total"])


def _restart(stack: Any, name: str) -> None:
    stack.start_service(name)
    stack.wait_ready([name], timeout=180)


def test_import_killed_mid_request_is_all_or_nothing_and_retry_applies_once(
    fault_stack: Any,
) -> None:
    stack = fault_stack
    family = f"KILL{uuid.uuid4().hex[:4].upper()}"
    products = [
        {"code": f"{family}-{p}", "name": f"{family} {p}", "family": family, "category": "T"}
        for p in range(PRODUCTS)
    ]
    created = stack.api("demand", "POST", "/products/bulk", "integration", json=products)
    assert created.status_code == 200, created.text
    body = _history_csv(family)
    key = f"kill-{uuid.uuid4().hex}"
    headers = {"Content-Type": "text/csv", "Idempotency-Key": key}
    before = _loads(stack)

    sent = threading.Event()
    outcome: dict[str, Any] = {}

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(body), 1 << 16):
            yield body[start : start + (1 << 16)]
        sent.set()  # the whole body is on its way: the server now parses and writes

    def upload() -> None:
        try:
            outcome["response"] = stack.api(
                "demand",
                "POST",
                "/sales-history",
                "integration",
                params={"mode": "merge"},
                content=chunks(),
                headers=headers,
                timeout=120,
            )
        except httpx.HTTPError as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=upload)
    thread.start()
    assert sent.wait(60)
    stack.stop_service("demand", signal.SIGKILL)
    thread.join(60)
    assert "error" in outcome, outcome  # the kill landed while the request was in progress

    _restart(stack, "demand")
    rows, loads = _rows_of(stack, family), _loads(stack)
    assert (rows, loads) in ((0, before), (len(body.splitlines()) - 1, before + 1))

    def retry() -> httpx.Response:  # the ERP resends the same batch with the same key
        return stack.api(
            "demand",
            "POST",
            "/sales-history",
            "integration",
            params={"mode": "merge"},
            content=body,
            headers=headers,
            timeout=120,
        )

    retried = retry()
    assert retried.status_code == 200, retried.text
    again = retry()
    assert again.json() == retried.json()  # replayed, not applied again
    assert _rows_of(stack, family) == PRODUCTS * SITES * MONTHS
    assert _loads(stack) == before + 1


def _payload(value: Any) -> dict[str, Any]:
    return json.loads(value) if isinstance(value, str) else dict(value)


def _published(stack: Any, service: str, event_type: str, **match: str) -> dict[str, Any] | None:
    """The data of a published ``event_type`` of ``service`` whose fields equal ``match``."""
    rows = stack.query(
        service,
        "SELECT payload FROM outbox_event WHERE event_type = :t AND published_at IS NOT NULL",
        t=event_type,
    )
    for (payload,) in rows:
        data = _payload(payload)["data"]
        if all(data.get(k) == v for k, v in match.items()):
            return dict(data)
    return None


def _running_job(stack: Any, service: str, kind: str, **match: str) -> dict[str, Any] | None:
    rows = stack.query(
        service, "SELECT id, state, params, attempts FROM job WHERE kind = :k", k=kind
    )
    for job_id, state, params, attempts in rows:
        if state == "running" and all(_payload(params).get(k) == v for k, v in match.items()):
            return {"id": str(job_id), "attempts": attempts}
    return None


def _kill_mid_job_and_restart(
    stack: Any, victim: str, upstream: str, find_job: Any
) -> dict[str, Any]:
    """``upstream`` paused (so ``victim``'s job is certainly mid-way, fetching from it), then
    ``victim`` SIGKILLed while its job runs and restarted the way ``make run`` restarts a
    dead service (``Supervisor``); returns the killed job."""
    paused = stack.processes[upstream]
    os.kill(paused.pid, signal.SIGSTOP)
    try:
        job = wait_until(find_job, timeout=90, interval=0.05)
        killed = stack.processes[victim]
        killed.kill()  # SIGKILL: no clean-up at all
        killed.wait(30)
    finally:
        os.kill(paused.pid, signal.SIGCONT)
    out = io.StringIO()
    supervisor = Supervisor(stack, out)
    assert supervisor.check() == [victim]
    assert f"{victim} died (exit code -9); restarting it" in out.getvalue()
    stack.wait_ready([victim], timeout=180)
    return dict(job)


def _attempts(stack: Any, service: str, job_id: str) -> tuple[str, int]:
    [(state, attempts)] = stack.query(
        service,
        "SELECT state, attempts FROM job WHERE id = :j",
        j=uuid.UUID(job_id).hex if stack.database_urls[service].startswith("sqlite") else job_id,
    )
    return state, int(attempts)


def test_supply_killed_mid_plan_job_the_chain_completes_by_itself(
    fault_stack: Any, demo_plan: str, chains: Any
) -> None:
    """Checked that it can fail: with the former recovery (fail the interrupted job) the job
    ended ``failed`` and the wait for the chain's constrained plan went red."""
    stack = fault_stack
    plain = chains.outcome(stack, demo_plan)  # the no-fault run of the same demand
    version = chains.new_version(stack, demo_plan, None)
    # Once demand has sent the event, pause demand: supply's job then hangs fetching its lines.
    wait_until(
        lambda: _published(stack, "demand", "sop.demand.plan.changed.v1", plan_id=version),
        timeout=60,
        interval=0.02,
    )
    job = _kill_mid_job_and_restart(
        stack,
        "supply",
        "demand",
        lambda: _running_job(stack, "supply", "supply-plan", demand_plan_id=version),
    )
    assert chains.outcome(stack, version) == plain  # no manual call: the job was re-run
    assert _attempts(stack, "supply", job["id"]) == ("succeeded", 2)


def test_capacity_killed_mid_plan_job_the_chain_completes_by_itself(
    fault_stack: Any, demo_plan: str, chains: Any
) -> None:
    stack = fault_stack
    plain = chains.outcome(stack, demo_plan)
    version = chains.new_version(stack, demo_plan, None)
    # Once supply has sent its plan, pause supply: capacity's job hangs fetching requirements.
    supply_plan = wait_until(
        lambda: _published(
            stack,
            "supply",
            "sop.supply.plan.changed.v1",
            upstream_plan_id=version,
            status="unconstrained",
        ),
        timeout=120,
        interval=0.02,
    )
    job = _kill_mid_job_and_restart(
        stack,
        "capacity",
        "supply",
        lambda: _running_job(
            stack, "capacity", "production-plan", supply_plan_id=supply_plan["plan_id"]
        ),
    )
    assert chains.outcome(stack, version) == plain
    assert _attempts(stack, "capacity", job["id"]) == ("succeeded", 2)
