"""Concurrency against the running services: the same bulk upload sent by many clients at once
with one Idempotency-Key is applied exactly once (every other answer is a replay or a 409),
and many planners editing one demand plan with If-Match lose no update.

(Checked that it can fail: without the idempotency record's primary key, several loads appear;
for the planners see the test's docstring.)
"""

from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from sop_shared.auth import create_token
from sop_shared.devstack import DevStack
from sop_shared.settings import AuthSettings
from sop_shared.testing import wait_until

pytestmark = pytest.mark.e2e


def _headers() -> dict[str, str]:
    token = create_token(AuthSettings(), subject="erp", roles=["integration"])
    return {"Authorization": f"Bearer {token}"}


def test_concurrent_uploads_with_one_key_apply_once(stack: DevStack) -> None:
    code = f"CC-{uuid.uuid4().hex[:6]}"
    created = httpx.post(
        f"{stack.url('demand')}/api/v1/products",
        json={"code": code, "name": code, "family": "CONC", "category": "TEST"},
        headers=_headers(),
    )
    assert created.status_code == 201, created.text
    body = "product,site,month,quantity,revenue\n" + "".join(
        f"{code},DC-CONC,2025-{m:02d},{10 * m},{100 * m}\n" for m in range(1, 13)
    )
    key = f"conc-{uuid.uuid4().hex}"
    before = httpx.get(
        f"{stack.url('demand')}/api/v1/sales-history/loads",
        params={"limit": 1000},
        headers=_headers(),
    ).json()["total"]

    def upload(_: int) -> httpx.Response:
        return httpx.post(
            f"{stack.url('demand')}/api/v1/sales-history",
            content=body,
            headers={**_headers(), "Content-Type": "text/csv", "Idempotency-Key": key},
            timeout=120,
        )

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(upload, range(8)))
    statuses = sorted(r.status_code for r in answers)
    assert all(s in (200, 201, 409) for s in statuses), [
        (r.status_code, r.text[:200]) for r in answers
    ]
    assert any(s in (200, 201) for s in statuses)
    after = httpx.get(
        f"{stack.url('demand')}/api/v1/sales-history/loads",
        params={"limit": 1000},
        headers=_headers(),
    ).json()["total"]
    assert after - before == 1
    retry = upload(0)  # a later retry replays the first answer
    assert retry.status_code in (200, 201)
    assert (
        httpx.get(
            f"{stack.url('demand')}/api/v1/sales-history/loads",
            params={"limit": 1000},
            headers=_headers(),
        ).json()["total"]
        == after
    )


# --- many planners editing one demand plan ---------------------------------------------------

PLANNERS = 20
CYCLE = "2031-01"  # a cycle of its own on the shared stack (history 2029-01 .. 2030-12)


def _planner() -> dict[str, str]:
    token = create_token(AuthSettings(), subject="planner", roles=["demand_planner"])
    return {"Authorization": f"Bearer {token}"}


def _draft_plan(stack: DevStack) -> tuple[str, list[str]]:
    """Two products of a family of their own, two years of history, a forecast run for
    ``CYCLE`` and a draft demand plan from it; returns (plan id, product codes)."""
    demand = f"{stack.url('demand')}/api/v1"
    family = f"EDIT{uuid.uuid4().hex[:6].upper()}"
    codes = [f"{family}-{i}" for i in (1, 2)]
    for code in codes:
        created = httpx.post(
            f"{demand}/products",
            json={"code": code, "name": code, "family": family, "category": "TEST"},
            headers=_headers(),
        )
        assert created.status_code == 201, created.text
    rows = "".join(
        f"{code},DC-EDIT,{year}-{m:02d},{100 + 10 * m},{200 + 20 * m}\n"
        for code in codes
        for year in (2029, 2030)
        for m in range(1, 13)
    )
    history = httpx.post(
        f"{demand}/sales-history",
        params={"mode": "merge"},  # leaves the other tests' rows of these months alone
        content="product,site,month,quantity,revenue\n" + rows,
        headers={**_headers(), "Content-Type": "text/csv"},
        timeout=60,
    )
    assert history.status_code == 200, history.text
    run = httpx.post(
        f"{demand}/forecast-runs",
        json={"cycle": CYCLE, "families": [family], "horizon": 12},
        headers=_planner(),
        timeout=60,
    )
    assert run.status_code == 202, run.text
    job_url = stack.url("demand") + run.headers["Location"]
    wait_until(
        lambda: httpx.get(job_url, headers=_planner()).json()["state"] in ("succeeded", "failed"),
        timeout=180,
        interval=0.3,
    )
    assert httpx.get(job_url, headers=_planner()).json()["state"] == "succeeded"
    plan = httpx.post(
        f"{demand}/demand-plans",
        json={"cycle": CYCLE, "forecast_run_id": run.json()["id"]},
        headers=_planner(),
        timeout=60,
    )
    assert plan.status_code == 201, plan.text
    assert plan.headers["ETag"] == '"1"'
    return plan.json()["id"], codes


def test_planners_racing_on_one_plan_lose_no_update(stack: DevStack) -> None:
    """20 planners each set one cell (product × month) of the same draft, each with the
    ETag of their latest read, retrying on 412 a few times. Every answer is 200 or 412;
    the successful edits carry the ETags 2, 3, ... with no gap and no repeat, and the plan
    holds exactly their values.

    (Checked that it can fail: on PostgreSQL without the row lock in ``apply_overrides``
    two edits read the same version, both pass the If-Match check and both answer ETag
    "n+1" — a repeat, i.e. a lost update of the version — and the test goes red.)
    """
    plan_id, codes = _draft_plan(stack)
    url = f"{stack.url('demand')}/api/v1/demand-plans/{plan_id}"
    months = [f"2031-{m:02d}" for m in range(1, 11)]
    cells = [(codes[i % 2], months[i // 2], 5000.0 + i) for i in range(PLANNERS)]

    def edit(i: int) -> list[tuple[int, str | None]]:
        product, month, quantity = cells[i]
        answers: list[tuple[int, str | None]] = []
        with httpx.Client(headers=_planner(), timeout=120) as client:
            for _ in range(6):
                etag = client.get(url).headers["ETag"]
                changed = client.post(
                    f"{url}/overrides",
                    json={
                        "reason": f"planner {i}",
                        "items": [
                            {
                                "level": "product",
                                "node": product,
                                "month": month,
                                "quantity": quantity,
                            }
                        ],
                    },
                    headers={"If-Match": etag},
                )
                answers.append((changed.status_code, changed.headers.get("ETag")))
                if changed.status_code != 412:
                    break
        return answers

    with ThreadPoolExecutor(max_workers=PLANNERS) as pool:
        results = list(pool.map(edit, range(PLANNERS)))

    statuses = [s for answers in results for s, _ in answers]
    assert set(statuses) <= {200, 412}, statuses
    won = [i for i, answers in enumerate(results) if answers[-1][0] == 200]
    etags = sorted(int(answers[-1][1].strip('"')) for answers in results if answers[-1][0] == 200)
    assert won, statuses
    assert etags == list(range(2, 2 + len(won)))  # no gap, no repeat
    plan = httpx.get(url, headers=_planner()).json()
    assert plan["version"] == 1 + len(won)

    lines = httpx.get(
        f"{url}/lines", params={"format": "jsonl"}, headers=_planner(), timeout=60
    ).text.splitlines()
    totals: dict[tuple[str, str], float] = {}
    for line in lines:
        row = json.loads(line)
        key = (row["product"], row["month"])
        totals[key] = totals.get(key, 0.0) + row["quantity"]
    for i, (product, month, quantity) in enumerate(cells):
        if i in won:
            assert totals[(product, month)] == pytest.approx(quantity), (i, product, month)
        else:
            assert totals[(product, month)] != pytest.approx(quantity), (i, product, month)
    audit = httpx.get(f"{url}/overrides", params={"limit": 100}, headers=_planner()).json()
    assert sorted(o["plan_version"] for o in audit["items"]) == etags
