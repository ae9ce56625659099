"""Concurrency against the running services: the same bulk upload sent by many clients at once
with one Idempotency-Key is applied exactly once; every other answer is a replay or a 409.

(Checked that it can fail: without the idempotency record's primary key, several loads appear.)
"""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from sop_shared.auth import create_token
from sop_shared.devstack import DevStack
from sop_shared.settings import AuthSettings

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
