"""Materials constrain the plan the cycle compares and approves (issue 13, item 1).

On the demo company, a scenario with +15 % beverage demand asks for more bottles than the
PET and cap stock and open orders can give within their purchase lead time. The production
plan makes only what the materials allow (on the demo the beverages' stock absorbs it: the
materials hold back the safety-stock rebuild, which the positions name), supply's
constrained plan holds no negative material stock, and ``/scenarios/compare`` reports the
fill rate and revenue of what the plan can make: the same figures computed here from the
constrained plan's lines.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from typing import Any

import httpx
import pytest

from sop_cycle import demo
from sop_shared.auth import create_token
from sop_shared.devstack import DevStack, start_cycle
from sop_shared.settings import AuthSettings
from sop_shared.testing import wait_until

pytestmark = pytest.mark.e2e

MONTH = "2026-11"
SCENARIO = "bev15"


def _auth(role: str) -> dict[str, str]:
    token = create_token(AuthSettings(), subject=f"e2e-{role}", roles=[role])
    return {"Authorization": f"Bearer {token}"}


def _get(stack: DevStack, service: str, path: str, **params: Any) -> Any:
    response = httpx.get(
        f"{stack.url(service)}/api/v1{path}", params=params, headers=_auth("viewer"), timeout=60
    )
    assert response.status_code == 200, response.text
    return response.json()


def _csv(stack: DevStack, service: str, path: str) -> list[dict[str, str]]:
    response = httpx.get(
        f"{stack.url(service)}/api/v1{path}",
        params={"format": "csv"},
        headers=_auth("viewer"),
        timeout=120,
    )
    assert response.status_code == 200, response.text
    return list(csv.DictReader(io.StringIO(response.text)))


def _compared(stack: DevStack) -> dict[str, Any] | None:
    """The scenario's comparison row once its constrained supply plan is in."""
    rows = _get(stack, "cycle", f"/cycles/{MONTH}/scenarios/compare")["scenarios"]
    mine = next((r for r in rows if r["code"] == SCENARIO), None)
    if mine is None or not mine["ready"]:
        return None
    supply = mine["plans"].get("supply")
    return mine if supply and supply["status"] == "constrained" else None


@pytest.fixture(scope="module")
def stack(fresh_stack: DevStack) -> DevStack:
    return fresh_stack


@pytest.mark.timeout(1200)
def test_the_scenario_compares_what_the_materials_let_the_plan_make(stack: DevStack) -> None:
    urls = {name: stack.url(name) for name in stack.ports}
    admin = create_token(AuthSettings(), subject="e2e", roles=["admin"])
    assert "skipped" not in demo.load(urls, admin, month=MONTH)
    start_cycle(stack, create_token(AuthSettings(), subject="e2e", roles=["demand_planner"]), MONTH)
    created = httpx.post(
        f"{stack.url('cycle')}/api/v1/cycles/{MONTH}/scenarios",
        json={
            "code": SCENARIO,
            "name": "Beverages +15 %",
            "parameters": {"demand_change_pct": {"BEV": 15}},
        },
        headers=_auth("sop_coordinator"),
        timeout=60,
    )
    assert created.status_code == 201, created.text
    row = wait_until(lambda: _compared(stack), timeout=900, interval=2)

    supply_id = row["plans"]["supply"]["plan_id"]
    production_id = row["plans"]["production"]["plan_id"]
    lines = _csv(stack, "supply", f"/supply-plans/{supply_id}/lines")
    materials = [r for r in lines if r["kind"] == "material"]
    assert materials, "the demo's bottles use purchased materials"
    # No negative projected stock of any material in the constrained plan.
    assert min(float(r["closing"]) for r in materials) >= -1e-6

    # The production plan made only what the materials allow, and they did bind.
    bought = _csv(stack, "capacity", f"/production-plans/{production_id}/materials")
    assert bought
    assert min(float(r["closing"]) for r in bought) >= -1e-6
    # (a boolean in CSV is "true" from SQLite and "t" from PostgreSQL's COPY)
    binding = {r["material"] for r in bought if r["binding"].lower() in {"true", "t", "1"}}
    assert binding & {"MAT-CAP", "MAT-PET"}
    positions = _csv(stack, "capacity", f"/production-plans/{production_id}/positions")
    limited = [p for p in positions if p["short_of"]]
    assert limited, positions[:5]
    assert all("MAT-" in p["short_of"] for p in limited)

    # Fill rate and revenue: the pre-S&OP arithmetic on the constrained plan's shortages
    # (family x month: unmet = min(backlog at month end, the month's demand)).
    demand: dict[tuple[str, str], float] = defaultdict(float)
    short: dict[tuple[str, str], float] = defaultdict(float)
    for r in lines:
        if r["kind"] != "product":
            continue
        key = (r["family"], r["month"])
        demand[key] += float(r["demand"]) - float(r["dependent_demand"])
        short[key] += float(r["shortage"])
    unmet = sum(min(short[k], demand[k]) for k in demand)
    total = sum(demand.values())
    kpis = row["kpis"]
    assert kpis["fill_rate"] == pytest.approx(1 - unmet / total, rel=1e-6)
    assert kpis["unmet_demand"] == pytest.approx(unmet, rel=1e-6, abs=1e-6)
    pre_sop = _get(stack, "cycle", f"/cycles/{MONTH}/pre-sop", scenario=SCENARIO)
    assert pre_sop["kpis"]["revenue"] == pytest.approx(kpis["revenue"], rel=1e-9)
    assert pre_sop["kpis"]["fill_rate"] == pytest.approx(kpis["fill_rate"], rel=1e-9)
