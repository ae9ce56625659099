"""Plan integrity on the demo company, over real HTTP and the real broker (issue 14, 1-3).

The replay of the issue: a what-if scenario is created (computed once, from its own demand,
"computing" until then), base is approved (not while a decision is open), the approved plan
is read in one place and its lines sum to its financial summary, and then a manual production
run under the other scenario: the run of base's supply plan is refused, the run of the
scenario's own makes plans of that scenario only, and nothing about base or the approved
cycle moves.
"""

from __future__ import annotations

import io
import json
from typing import Any

import httpx
import pandas as pd
import pytest

from sop_cycle import demo
from sop_cycle.settings import STEP_NAMES
from sop_shared.auth import create_token
from sop_shared.devstack import DevStack, start_cycle
from sop_shared.settings import AuthSettings
from sop_shared.testing import wait_until

pytestmark = pytest.mark.e2e

MONTH = "2026-11"
WHAT_IF = "what-if"
STEPS = STEP_NAMES[:-1]  # every step before the executive meeting


def _headers(role: str) -> dict[str, str]:
    token = create_token(AuthSettings(), subject=f"e2e-{role}", roles=[role])
    return {"Authorization": f"Bearer {token}"}


def _call(
    stack: DevStack, method: str, service: str, path: str, role: str = "viewer", **kw: Any
) -> httpx.Response:
    url = f"{stack.url(service)}{path if path.startswith('/api/') else '/api/v1' + path}"
    headers = {**_headers(role), **kw.pop("headers", {})}
    return httpx.request(method, url, headers=headers, timeout=120, **kw)


def _get(stack: DevStack, service: str, path: str, **params: Any) -> Any:
    response = _call(stack, "GET", service, path, params=params)
    assert response.status_code == 200, (path, response.text)
    return response.json()


def _items(stack: DevStack, service: str, path: str, **params: Any) -> list[dict[str, Any]]:
    return list(_get(stack, service, path, cycle=MONTH, limit=1000, **params)["items"])


def _steps(stack: DevStack) -> dict[str, str]:
    steps = _get(stack, "cycle", f"/cycles/{MONTH}/steps")
    rows = steps["items"] if isinstance(steps, dict) else steps
    return {s["name"]: s["workflow_status"] for s in rows}


def _complete_steps(stack: DevStack) -> None:
    for step in STEPS:
        if _steps(stack)[step] == "completed":
            continue
        if _steps(stack)[step] in ("not_started", "stale"):
            _call(stack, "POST", "cycle", f"/cycles/{MONTH}/steps/{step}/start", "sop_coordinator")
        done = _call(
            stack, "POST", "cycle", f"/cycles/{MONTH}/steps/{step}/complete", "sop_coordinator"
        )
        assert done.status_code == 200, (step, done.text)


def _what_if_while_computing(stack: DevStack) -> dict[str, Any] | None:
    """The scenario in compare: None while computing (with no numbers), itself once ready."""
    body = _get(stack, "cycle", f"/cycles/{MONTH}/scenarios/compare", codes=WHAT_IF)
    scenario = next(s for s in body["scenarios"] if s["code"] == WHAT_IF)
    if scenario["status"] == "ready":
        return scenario
    assert scenario["status"] == "computing", scenario
    assert set(scenario["kpis"].values()) == {None}, scenario["kpis"]
    return None


def _snapshot(stack: DevStack) -> dict[str, Any]:
    """Everything an approved cycle shows about base."""
    pre_sop = _get(stack, "cycle", f"/cycles/{MONTH}/pre-sop")
    compare = _get(stack, "cycle", f"/cycles/{MONTH}/scenarios/compare", codes="base")
    return {
        "current_plans": _get(stack, "cycle", f"/cycles/{MONTH}")["current_plans"],
        "pre_sop_plans": pre_sop["plans"],
        "pre_sop_kpis": pre_sop["kpis"],
        "compare_base": compare["scenarios"][0]["kpis"],
        "approved_plan": _get(stack, "cycle", f"/cycles/{MONTH}/approved-plan"),
        "base_supply": sorted(
            p["id"] for p in _items(stack, "supply", "/supply-plans", scenario="base")
        ),
        "base_production": sorted(
            p["id"] for p in _items(stack, "capacity", "/production-plans", scenario="base")
        ),
    }


def _lines(stack: DevStack, service: str, part: dict[str, Any]) -> pd.DataFrame:
    """Every line of an approved plan through both links: CSV and JSON lines agree."""
    csv = _call(stack, "GET", service, part["lines_csv"], "integration")
    assert csv.status_code == 200, csv.text
    jsonl = _call(stack, "GET", service, part["lines_jsonl"], "integration")
    assert jsonl.status_code == 200, jsonl.text
    frame = pd.read_csv(io.StringIO(csv.text))
    rows = [json.loads(line) for line in jsonl.text.splitlines() if line]
    assert len(rows) == len(frame) > 0
    return frame


def _chase_run(stack: DevStack, supply_plan_id: str) -> httpx.Response:
    """The issue's manual run: a chase plan under the other scenario."""
    body = {"supply_plan_id": supply_plan_id, "cycle": MONTH, "scenario": WHAT_IF}
    return _call(
        stack,
        "POST",
        "capacity",
        "/production-plans",
        "capacity_planner",
        json={**body, "strategy": "chase"},
    )


@pytest.fixture(scope="module")
def stack(fresh_stack: DevStack) -> DevStack:
    return fresh_stack


@pytest.mark.timeout(1800)
def test_scenarios_never_mix_and_the_approved_plan_never_moves(stack: DevStack) -> None:
    urls = {name: stack.url(name) for name in stack.ports}
    summary = demo.load(
        urls, create_token(AuthSettings(), subject="e2e", roles=["admin"]), month=MONTH
    )
    assert "skipped" not in summary, summary
    demand_plan = start_cycle(
        stack, create_token(AuthSettings(), subject="e2e", roles=["demand_planner"]), MONTH
    )
    wait_until(lambda: _steps(stack)["pre_sop"] == "ready", timeout=600, interval=2)

    # --- a scenario: computed once, from its own demand, "computing" until then -------------
    created = _call(
        stack,
        "POST",
        "cycle",
        f"/cycles/{MONTH}/scenarios",
        "sop_coordinator",
        json={"code": WHAT_IF, "name": "What if"},
    )
    assert created.status_code == 201, created.text
    assert _what_if_while_computing(stack) is None  # nothing of it exists yet
    ready = wait_until(lambda: _what_if_while_computing(stack), timeout=600, interval=2)
    [own_demand] = _items(stack, "demand", "/demand-plans", scenario=WHAT_IF)
    assert own_demand["id"] != demand_plan
    assert ready["plans"]["demand"]["plan_id"] == own_demand["id"]
    supply = _items(stack, "supply", "/supply-plans", scenario=WHAT_IF)
    [unconstrained] = [p for p in supply if p["status"] == "unconstrained"]
    assert unconstrained["demand_plan_id"] == own_demand["id"]  # not base's demand plan
    [production] = _items(stack, "capacity", "/production-plans", scenario=WHAT_IF)
    assert production["supply_plan_id"] == unconstrained["id"]
    assert {p["demand_plan_id"] for p in supply} == {own_demand["id"]}

    # --- approval: not with an open decision; then base is approved -------------------------
    _complete_steps(stack)
    decision = _call(
        stack,
        "POST",
        "cycle",
        f"/cycles/{MONTH}/decisions",
        "executive",
        json={"topic": "Overtime on the bottleneck", "options": ["yes", "no"]},
    ).json()
    refused = _call(stack, "POST", "cycle", f"/cycles/{MONTH}/approve", "executive")
    assert refused.status_code == 409
    assert refused.json()["code"] == "decision-open"
    assert f"decision {decision['id']}" in refused.json()["detail"]
    chosen = _call(
        stack,
        "PATCH",
        "cycle",
        f"/cycles/{MONTH}/decisions/{decision['id']}",
        "executive",
        json={"chosen_option": "yes"},
    )
    assert chosen.status_code == 200, chosen.text
    approved = _call(
        stack, "POST", "cycle", f"/cycles/{MONTH}/approve", "executive", json={"scenario": "base"}
    )
    assert approved.status_code == 200, approved.text

    # --- the approved plan in one place: every link answers, the lines sum to the money ----
    plan = _get(stack, "cycle", f"/cycles/{MONTH}/approved-plan")
    assert (plan["scenario"], plan["approved_by"]) == ("base", "e2e-executive")
    parts = plan["plans"]
    assert set(parts) == {"demand", "supply", "production"}
    for part in parts.values():
        header = _call(stack, "GET", part["service"], part["plan"], "integration")
        assert header.status_code == 200, header.text
        assert header.json()["id"] == part["plan_id"]
    money = plan["financial"]
    demand_lines = _lines(stack, "demand", parts["demand"])
    supply_lines = _lines(stack, "supply", parts["supply"])
    production_lines = _lines(stack, "capacity", parts["production"])
    by_month = supply_lines.groupby("month")["inventory_value"].sum()
    sums = {
        "demand_quantity": demand_lines["quantity"].sum(),
        "planned_revenue": demand_lines["revenue"].sum(),
        "production_quantity": production_lines["quantity"].sum(),
        "production_cost": production_lines["cost"].sum(),
        "ending_inventory_value": by_month.iloc[-1],
        "average_inventory_value": by_month.mean(),
    }
    for name, total in sums.items():
        assert money[name] == pytest.approx(float(total), rel=1e-6, abs=1e-3), name

    # --- one approval vocabulary: status=approved filters the three lists --------------------
    def approved_ids() -> dict[str, list[str]] | None:
        found = {
            kind: [p["id"] for p in _items(stack, service, path, status="approved")]
            for kind, service, path in (
                ("demand", "demand", "/demand-plans"),
                ("supply", "supply", "/supply-plans"),
                ("production", "capacity", "/production-plans"),
            )
        }
        return found if all(found.values()) else None

    ids = wait_until(approved_ids, timeout=120, interval=1)
    assert ids == {kind: [parts[kind]["plan_id"]] for kind in ("demand", "supply", "production")}

    # --- after approval: a manual production run under the other scenario --------------------
    before = _snapshot(stack)
    base_unconstrained = next(
        p
        for p in _items(stack, "supply", "/supply-plans", scenario="base")
        if p["status"] == "unconstrained" and p["demand_plan_id"] == parts["demand"]["plan_id"]
    )
    mixed = _chase_run(stack, base_unconstrained["id"])
    assert mixed.status_code == 422, mixed.text
    assert mixed.json()["code"] == "scenario-mismatch"

    run = _chase_run(stack, unconstrained["id"])
    assert run.status_code == 202, run.text

    def finished() -> dict[str, Any] | None:
        job = _call(stack, "GET", "capacity", run.headers["Location"]).json()
        return job if job["state"] in ("succeeded", "failed") else None

    job = wait_until(finished, timeout=600, interval=2)
    assert job["state"] == "succeeded", job
    chase = _get(stack, "capacity", f"/production-plans/{job['result']['production_plan_id']}")
    assert (chase["scenario"], chase["strategy"]) == (WHAT_IF, "chase")

    def answer() -> dict[str, Any] | None:  # supply's constrained recompute of the chase plan
        return next(
            (
                p
                for p in _items(stack, "supply", "/supply-plans")
                if str(p.get("based_on_production_plan_id")) == chase["id"]
            ),
            None,
        )

    constrained = wait_until(answer, timeout=600, interval=2)
    assert (constrained["scenario"], constrained["status"]) == (WHAT_IF, "constrained")
    # the cycle heard both, under the other scenario
    wait_until(
        lambda: (
            constrained["id"]
            in {p["plan_id"] for p in _items(stack, "cycle", f"/cycles/{MONTH}/plans")}
        ),
        timeout=120,
        interval=1,
    )
    heard = {
        p["plan_id"]: p["scenario"]
        for p in _get(stack, "cycle", f"/cycles/{MONTH}/plans", limit=1000)["items"]
    }
    assert heard[chase["id"]] == heard[constrained["id"]] == WHAT_IF
    # ...and nothing about base or the approved cycle changed
    assert _snapshot(stack) == before
    # the scenario was still computed once from its own demand: one unconstrained plan
    again = [
        p
        for p in _items(stack, "supply", "/supply-plans", scenario=WHAT_IF)
        if p["status"] == "unconstrained"
    ]
    assert [p["id"] for p in again] == [unconstrained["id"]]
