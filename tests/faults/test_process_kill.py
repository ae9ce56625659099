"""A service process killed with SIGKILL (no clean-up at all) in the middle of its work.

* During a bulk import of 100 000 history rows: after the restart the batch is either all
  there or absent, and the ERP's retry with the same Idempotency-Key applies it exactly once.
* During a supply plan run (a job): after the restart the job ends ``failed`` (interrupted) or
  ``succeeded``, never stuck ``running``; a plan written by it has every line (never half a
  plan), and running it again gives the plan of the uninterrupted chain.

Checked that it can fail (through a ``sitecustomize`` on the service processes, the repo
untouched): with the Idempotency-Key ignored (``bulk.replay`` answering None) the second
retry imported the 100 000 rows again instead of replaying the first answer and the test
went red; with the recovery disabled (``fail_interrupted`` a no-op) the killed job stayed
``running`` and the bounded wait for a final state went red. The recovery fails a job only
once its runner's heartbeat is stale (3 s in this stack, ``SOP_JOB_STALE_SECONDS``), so a
replica never fails another live replica's job (shared/tests/test_jobs.py).
"""

from __future__ import annotations

import os
import signal
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

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


def _job(stack: Any, job_id: str) -> dict[str, Any]:
    return stack.api("supply", "GET", f"/jobs/{job_id}", "viewer").json()


def _plans_of_job(stack: Any, job_id: str) -> list[tuple[Any, int, Any]]:
    """(plan id, lines written, lines announced) of the supply plans written by a job."""
    rows = stack.query(
        "supply",
        "SELECT p.id, (SELECT count(*) FROM supply_plan_line l WHERE l.plan_id = p.id), p.counts "
        "FROM supply_plan p WHERE p.job_id = :j",
        j=uuid.UUID(job_id).hex if stack.database_urls["supply"].startswith("sqlite") else job_id,
    )
    return [(plan_id, int(written), counts) for plan_id, written, counts in rows]


def test_plan_run_killed_mid_job_is_failed_cleanly_and_rerun(
    fault_stack: Any, demo_plan: str
) -> None:
    stack = fault_stack
    body = {"cycle": stack.month, "scenario": "base", "demand_plan_id": demo_plan}
    demand = stack.processes["demand"]
    # Demand paused: the run is certainly mid-job (fetching the demand lines) when killed.
    os.kill(demand.pid, signal.SIGSTOP)
    try:
        queued = stack.api("supply", "POST", "/supply-plans", "supply_planner", json=body)
        assert queued.status_code == 202, queued.text
        job_id = queued.json()["id"]
        wait_until(lambda: _job(stack, job_id)["state"] == "running", timeout=60, interval=0.05)
        stack.stop_service("supply", signal.SIGKILL)
    finally:
        os.kill(demand.pid, signal.SIGCONT)

    _restart(stack, "supply")
    job = wait_until(
        lambda: (j := _job(stack, job_id))["state"] in ("failed", "succeeded") and j,
        timeout=120,
        interval=0.5,
    )
    written = _plans_of_job(stack, job_id)
    if job["state"] == "failed":
        assert "interrupted" in (job["error"] or ""), job
        assert written == []  # nothing of the cut-off run was kept
    for _plan, lines, counts in written:  # a resumed run wrote a whole plan
        announced = counts if isinstance(counts, dict) else __import__("json").loads(counts)
        assert lines == announced["lines"]

    rerun = stack.api("supply", "POST", "/supply-plans", "supply_planner", json=body)
    assert rerun.status_code == 202, rerun.text
    done = wait_until(
        lambda: (j := _job(stack, rerun.json()["id"]))["state"] in ("failed", "succeeded") and j,
        timeout=120,
        interval=0.5,
    )
    assert done["state"] == "succeeded", done
    [(plan_id, lines, _counts)] = _plans_of_job(stack, rerun.json()["id"])
    assert lines == done["result"]["lines"] > 0
