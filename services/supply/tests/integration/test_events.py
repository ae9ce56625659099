"""What supply does with its peers' events: the handlers through the inbox, the job they queue
and the plan that job writes (the broker itself is exercised in tests/kafka)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import Session

from sop_shared.events import CloudEvent, new_event
from sop_shared.inbox import EventRejected, apply_once
from sop_shared.jobs.models import Job
from sop_shared.outbox.models import OutboxEvent
from sop_shared.testing import wait_until
from sop_supply.plans.events import HANDLERS
from sop_supply.plans.models import DemandPlanRef

MONTHS = ["2027-01", "2027-02", "2027-03", "2027-04"]
CONSUMER = "supply.plans"


def deliver(live: Any, event: CloudEvent) -> bool:
    return apply_once(live.engine, CONSUMER, event, HANDLERS[event.type])


def demand_changed(
    world: Any,
    plan_id: str,
    *,
    status: str = "submitted",
    scenario: str = "base",
    version: int = 1,
) -> CloudEvent:
    """A new event (new id) each call: the same announcement published again, or a new one."""
    data = {
        "plan_id": plan_id,
        "cycle": world.cycle,
        "scenario": scenario,
        "version": version,
        "status": status,
        "lines_url": f"/api/v1/demand-plans/{plan_id}/lines",
    }
    return new_event(
        source="/sop/demand",
        type="sop.demand.plan.changed.v1",
        subject=plan_id,
        data=data,
        cycle=world.cycle,
    )


def capacity_changed(world: Any, production_plan: str, supply_plan: str) -> CloudEvent:
    data = {
        "plan_id": production_plan,
        "cycle": world.cycle,
        "version": 1,
        "status": "constrained",
        "upstream_plan_id": supply_plan,
        "lines_url": f"/api/v1/production-plans/{production_plan}/lines",
    }
    return new_event(
        source="/sop/capacity",
        type="sop.capacity.plan.changed.v1",
        subject=production_plan,
        data=data,
        cycle=world.cycle,
    )


def jobs(live: Any) -> list[Job]:
    with Session(live.engine) as s:
        return list(s.execute(select(Job).order_by(Job.created_at)).scalars())


def settled(live: Any) -> list[Job]:
    """Every job finished (bounded wait); returns them oldest first."""
    return wait_until(
        lambda: (
            (found := jobs(live))
            and all(j.state in ("succeeded", "failed") for j in found)
            and found
        ),
        timeout=60,
    )


def plans(world: Any, **params: Any) -> list[dict[str, Any]]:
    return world.get("supply-plans", cycle=world.cycle, **params)["items"]


def outbox_data(live: Any, plan_id: str) -> list[dict[str, Any]]:
    with Session(live.engine) as s:
        rows = s.execute(select(OutboxEvent)).scalars()
        return [r.payload["data"] for r in rows if r.payload["subject"] == plan_id]


@pytest.fixture
def factory(world: Any) -> Any:
    """FG (made from RM, 1 per) and FG2, both made with no lead time; demand 100 and 50 a month."""
    world.products("FG", "FG2")
    world.site("P")
    world.feed("materials", [{"code": world.code("RM"), "name": "Resin", "unit_cost": 1.0}])
    world.feed("boms", [{"product": world.code("FG"), "material": world.code("RM"), "qty_per": 1}])
    p = world.code("P")
    world.feed(
        "item-sites",
        [
            {"product": world.code(c), "site": p, "make_or_buy": mb, "lead_time_months": 0}
            for c, mb in (("FG", "make"), ("FG2", "make"), ("RM", "buy"))
        ],
    )
    lines = [("FG", "P", m, 100.0) for m in MONTHS] + [("FG2", "P", m, 50.0) for m in MONTHS]
    return world.demand_plan(lines)


class TestDemandPlanChanged:
    def test_a_submitted_plan_queues_one_job_that_writes_the_supply_plan(
        self, world: Any, live: Any, factory: str
    ) -> None:
        event = demand_changed(world, factory)
        assert deliver(live, event) is True
        assert deliver(live, event) is False  # redelivered: the inbox absorbs it
        [job] = settled(live)
        assert (job.kind, job.state, job.params["demand_plan_id"]) == (
            "supply-plan",
            "succeeded",
            factory,
        )
        [plan] = plans(world)
        assert (
            plan["demand_plan_id"],
            plan["demand_plan_version"],
            plan["status"],
            plan["version"],
        ) == (factory, 1, "unconstrained", 1)
        assert live.peers.calls == [
            f"GET /api/v1/demand-plans/{factory}/lines?format=csv&fields=product%2Csite%2Cmonth%2Cquantity%2Cforecast_sigma"
        ]
        [data] = outbox_data(live, plan["id"])
        assert data["upstream_plan_id"] == factory

    def test_the_same_demand_version_under_a_new_event_id_makes_no_new_plan(
        self, world: Any, live: Any, factory: str
    ) -> None:
        # demand republishes version 1 (a replayed outbox: a new event id, same data)
        assert deliver(live, demand_changed(world, factory)) is True
        settled(live)
        assert deliver(live, demand_changed(world, factory)) is True  # not a duplicate id...
        assert len(settled(live)) == 1  # ...but nothing queued: the version has its plan
        [plan] = plans(world)
        assert (plan["version"], plan["demand_plan_version"]) == (1, 1)
        assert len(live.peers.calls) == 1

        # the next demand plan version (demand gives it a new id) is the next supply version
        live.peers.demand["DP-v2"] = live.peers.demand[factory]
        deliver(live, demand_changed(world, "DP-v2", version=2))
        assert len(settled(live)) == 2
        newest, first = plans(world)
        assert (newest["version"], newest["demand_plan_id"], newest["demand_plan_version"]) == (
            2,
            "DP-v2",
            2,
        )
        assert first["id"] == plan["id"]
        deliver(live, demand_changed(world, "DP-v2", version=2))
        assert len(settled(live)) == 2
        assert len(plans(world)) == 2

    def test_a_failed_run_is_retried_when_the_version_is_announced_again(
        self, world: Any, live: Any
    ) -> None:
        # the demand service does not (yet) serve the plan: the run fails, nothing is written
        deliver(live, demand_changed(world, "DP-late"))
        [failed] = settled(live)
        assert failed.state == "failed"
        assert plans(world) == []
        world.products("LATE")
        world.site("P")
        live.peers.demand["DP-late"] = [
            {"product": world.code("LATE"), "site": world.code("P"), "month": m, "quantity": 5}
            for m in MONTHS
        ]
        deliver(live, demand_changed(world, "DP-late"))
        assert [j.state for j in settled(live)] == ["failed", "succeeded"]
        [plan] = plans(world)
        assert (plan["demand_plan_id"], plan["version"]) == ("DP-late", 1)

    def test_an_approved_demand_plan_is_recorded_but_computes_nothing(
        self, world: Any, live: Any, factory: str
    ) -> None:
        deliver(live, demand_changed(world, factory, status="approved"))
        assert jobs(live) == []
        with Session(live.engine) as s:
            assert s.get(DemandPlanRef, factory).status == "approved"


class TestCapacityPlanChanged:
    def test_constrained_production_is_netted_once_and_the_shortage_reported(
        self, world: Any, live: Any, factory: str
    ) -> None:
        deliver(live, demand_changed(world, factory))
        settled(live)
        [base] = plans(world)
        # capacity can make 60, 80, 100, 100 of FG; FG2 is not in its plan (not constrained)
        live.peers.production["PP-1"] = [
            {"product": world.code("FG"), "site": world.code("P"), "month": m, "quantity": q}
            for m, q in zip(MONTHS, [60, 80, 100, 100], strict=True)
        ]
        deliver(live, capacity_changed(world, "PP-1", base["id"]))
        settled(live)
        constrained = plans(world, status="constrained")
        assert len(constrained) == 1
        plan = constrained[0]
        assert (
            plan["version"],
            plan["based_on_production_plan_id"],
            plan["base_supply_plan_id"],
        ) == (2, "PP-1", base["id"])
        # FG: no stock, demand 100: closing 60-100 = -40, -40+80-100 = -60, then -60, -60
        fg = world.lines(plan["id"], "FG", "P")
        assert fg["planned_receipts"] == [60, 80, 100, 100]
        assert fg["shortage"] == [40, 60, 60, 60]
        assert world.lines(plan["id"], "FG2", "P")["planned_receipts"] == [50, 50, 50, 50]
        # materials follow the constrained production
        assert world.lines(plan["id"], "RM", "P")["demand"] == [60, 80, 100, 100]
        assert plan["counts"]["stockout"] == 4
        [data] = outbox_data(live, plan["id"])
        assert (data["status"], data["upstream_plan_id"]) == ("constrained", factory)

        # capacity answering the constrained plan (it should not) starts nothing: no loop
        deliver(live, capacity_changed(world, "PP-2", plan["id"]))
        deliver(live, capacity_changed(world, "PP-3", "not-a-uuid"))
        assert len(settled(live)) == 2

    def test_a_contracted_material_is_bought_as_the_production_plan_bought_it(
        self, world: Any, live: Any, factory: str
    ) -> None:
        """RM has a contract (maximum 150 in March-April) and a safety stock of 20. Capacity
        made FG 60, 80, 100, 50 within it and bought RM 60, 80, 100, 50. Netting would buy
        80 in January (60 used + 20 of safety stock) and go over the contract; the
        constrained plan buys exactly what the production plan bought: no negative stock,
        no contract over-use, and FG's shortage is what the material could not make."""
        rm, p = world.code("RM"), world.code("P")
        world.feed("suppliers", [{"code": world.code("SUP"), "name": "Acme"}])
        world.feed(
            "item-sites",
            [
                {
                    "product": rm,
                    "site": p,
                    "make_or_buy": "buy",
                    "lead_time_months": 0,
                    "ss_policy": "fixed",
                    "ss_value": 20,
                }
            ],
        )
        world.feed(
            "contracts",
            [
                {
                    "code": world.code("C"),
                    "supplier": world.code("SUP"),
                    "material": rm,
                    "period_start": MONTHS[2],
                    "period_end": MONTHS[3],
                    "min_volume": 0,
                    "max_volume": 150,
                    "price": 1.0,
                }
            ],
        )
        deliver(live, demand_changed(world, factory))
        settled(live)
        [base] = plans(world)
        # what capacity reads to plan the material (supply's material-constraints document)
        doc = live.client.get(
            f"/api/v1/supply-plans/{base['id']}/material-constraints", headers=live.headers()
        ).json()
        assert doc["months"] == MONTHS
        assert doc["materials"] == [
            {
                "material": rm,
                "site": p,
                "lead_time_months": 0,
                "opening_stock": 0.0,
                "scheduled_receipts": [0.0] * 4,
            }
        ]
        assert doc["bom"] == [{"product": world.code("FG"), "material": rm, "qty_per": 1.0}]
        assert [(c["material"], c["max_volume"]) for c in doc["contracts"]] == [(rm, 150.0)]
        made = [60, 80, 100, 50]
        live.peers.production["PP-M"] = [
            {"product": world.code("FG"), "site": p, "month": m, "quantity": q}
            for m, q in zip(MONTHS, made, strict=True)
        ]
        live.peers.materials["PP-M"] = [
            {"material": rm, "site": p, "month": m, "purchases": q}
            for m, q in zip(MONTHS, made, strict=True)
        ]
        deliver(live, capacity_changed(world, "PP-M", base["id"]))
        settled(live)
        [plan] = plans(world, status="constrained")
        material = world.lines(plan["id"], "RM", "P")
        assert material["planned_receipts"] == made
        assert material["closing"] == [0, 0, 0, 0]
        assert world.lines(plan["id"], "FG", "P")["shortage"] == [40, 60, 60, 110]
        review = live.client.get(
            f"/api/v1/supply-plans/{plan['id']}/contract-review", headers=live.headers()
        ).json()
        assert [c["excess"] for c in review["items"]] == [0]

    def test_a_product_the_capacity_plan_cannot_make_shows_its_shortage(
        self, world: Any, live: Any, factory: str
    ) -> None:
        """Capacity's positions name FG2 with no production (no usable method there): the
        constrained plan must receive nothing for it, not plan it as usual. FG2: no stock,
        demand 50 a month, so closing -50, -100, -150, -200."""
        deliver(live, demand_changed(world, factory))
        settled(live)
        [base] = plans(world)
        live.peers.production["PP-U"] = [
            {"product": world.code(code), "site": world.code("P"), "month": m, "quantity": q}
            for code, made in (("FG", [100] * 4), ("FG2", [0] * 4))
            for m, q in zip(MONTHS, made, strict=True)
        ]
        deliver(live, capacity_changed(world, "PP-U", base["id"]))
        settled(live)
        [plan] = plans(world, status="constrained")
        fg2 = world.lines(plan["id"], "FG2", "P")
        assert fg2["planned_receipts"] == [0, 0, 0, 0]
        assert fg2["shortage"] == [50, 100, 150, 200]
        assert world.lines(plan["id"], "FG", "P")["shortage"] == [0, 0, 0, 0]
        assert live.peers.calls[-2].startswith("GET /api/v1/production-plans/PP-U/positions?")

    def test_the_constrained_plan_keeps_the_safety_stock_from_demands_sigma(
        self, world: Any, live: Any
    ) -> None:
        # FS, made in the month, statistical without ss_value: σ = demand's 10 (first month)
        # SS = z(95 %) × √(0 + 1) × 10 = 16.45 in both plans, though the constrained run
        # nets the base plan's own demand instead of fetching demand's lines again
        world.products("FS")
        world.site("P")
        world.feed(
            "item-sites",
            [
                {
                    "product": world.code("FS"),
                    "site": world.code("P"),
                    "make_or_buy": "make",
                    "lead_time_months": 0,
                    "ss_policy": "statistical",
                }
            ],
        )
        lines = [("FS", "P", m, 100.0) for m in MONTHS]
        demand = world.demand_plan(lines, sigma={(p, s, m): 10.0 for p, s, m, _ in lines})
        deliver(live, demand_changed(world, demand))
        settled(live)
        [base] = plans(world)
        live.peers.production["PP-S"] = [
            {"product": world.code("FS"), "site": world.code("P"), "month": m, "quantity": 100}
            for m in MONTHS
        ]
        deliver(live, capacity_changed(world, "PP-S", base["id"]))
        settled(live)
        [constrained] = plans(world, status="constrained")
        expected = [1.644854 * 10] * 4
        assert world.lines(base["id"], "FS", "P")["safety_stock"] == pytest.approx(expected)
        fs = world.lines(constrained["id"], "FS", "P")
        assert fs["safety_stock"] == pytest.approx(expected)
        # 100 a month made against 100 a month demanded: the target is never reached
        assert fs["closing"] == [0, 0, 0, 0]
        assert constrained["counts"]["below_safety_stock"] == 4


class TestScenarioAndApproval:
    def test_scenario_service_level_overrides_the_targets(self, world: Any, live: Any) -> None:
        world.products("ST")
        world.site("P")
        world.feed(
            "item-sites",
            [
                {
                    "product": world.code("ST"),
                    "site": world.code("P"),
                    "make_or_buy": "buy",
                    "lead_time_months": 1,
                    "ss_policy": "statistical",
                    "ss_value": 100,
                    "service_level": 0.95,
                }
            ],
        )
        demand = world.demand_plan([("ST", "P", m, 200.0) for m in MONTHS])
        deliver(live, demand_changed(world, demand))
        settled(live)
        scenario = new_event(
            source="/sop/cycle",
            type="sop.cycle.scenario.changed.v1",
            subject=f"{world.cycle}/high-service",
            data={
                "cycle": world.cycle,
                "scenario": "high-service",
                "name": "High service",
                "parameters": {"service_level": 0.99},
            },
        )
        deliver(live, scenario)
        settled(live)
        stored = world.get("scenarios", cycle=world.cycle)["items"]
        assert [(s["scenario"], s["service_level"]) for s in stored] == [("high-service", 0.99)]
        # computed once, from the scenario's own demand plan: nothing from base's meanwhile
        assert plans(world, scenario="high-service") == []
        own = world.demand_plan([("ST", "P", m, 200.0) for m in MONTHS])
        deliver(live, demand_changed(world, own, scenario="high-service"))
        settled(live)
        [base] = plans(world, scenario="base")
        [high] = plans(world, scenario="high-service")
        assert (high["demand_plan_id"], high["service_level_override"]) == (own, 0.99)
        assert base["demand_plan_id"] == demand
        # SS = z × σ_d × √(L + 1): 1.6449 × 100 × √2 = 232.6 at 95 %, 2.3263 × 141.42 = 329.0 at 99 %
        assert world.lines(base["id"], "ST", "P")["safety_stock"][0] == pytest.approx(
            232.62, abs=0.01
        )
        assert world.lines(high["id"], "ST", "P")["safety_stock"][0] == pytest.approx(
            328.99, abs=0.01
        )

    def test_approval_freezes_the_named_version(self, world: Any, live: Any, factory: str) -> None:
        deliver(live, demand_changed(world, factory))
        settled(live)
        [plan] = plans(world)
        approved = new_event(
            source="/sop/cycle",
            type="sop.cycle.plan.approved.v1",
            subject=world.cycle,
            data={
                "cycle": world.cycle,
                "approved_by": "ceo",
                "approved_at": datetime.now(UTC).isoformat(),
                "supply_plan_id": plan["id"],
            },
        )
        deliver(live, approved)
        frozen = world.get(f"supply-plans/{plan['id']}")
        assert (frozen["approved"], frozen["approved_by"]) == (True, "ceo")

    def test_status_approved_lists_the_approved_version(
        self, world: Any, live: Any, factory: str
    ) -> None:
        """The one approval vocabulary: ``status=approved`` filters (it answered 422)."""
        deliver(live, demand_changed(world, factory))
        settled(live)
        [plan] = plans(world)
        assert plans(world, status="approved") == []
        deliver(
            live,
            new_event(
                source="/sop/cycle",
                type="sop.cycle.plan.approved.v1",
                subject=world.cycle,
                data={
                    "cycle": world.cycle,
                    "approved_by": "ceo",
                    "approved_at": datetime.now(UTC).isoformat(),
                    "supply_plan_id": plan["id"],
                },
            ),
        )
        assert [p["id"] for p in plans(world, status="approved")] == [plan["id"]]
        assert [p["id"] for p in plans(world, status="unconstrained")] == [plan["id"]]


class TestScenarioIsolation:
    def test_a_production_plan_of_another_scenario_is_refused(
        self, world: Any, live: Any, factory: str
    ) -> None:
        """A what-if production plan answering base's supply plan (the manual run of the
        issue) would make supply publish a constrained plan labelled base: refused for good
        (the consumer dead-letters it with this reason), nothing queued."""
        deliver(live, demand_changed(world, factory))
        settled(live)
        [base] = plans(world, scenario="base")
        event = capacity_changed(world, "PP-W", base["id"])
        event.data["scenario"] = event.sopscenario = "what-if"
        with pytest.raises(EventRejected, match="lineage mixes scenarios") as refused:
            deliver(live, event)
        assert "scenario what-if" in str(refused.value)
        assert "scenario base" in str(refused.value)
        assert len(jobs(live)) == 1
        assert [p["id"] for p in plans(world)] == [base["id"]]

    def test_a_manual_run_of_another_scenarios_demand_plan_is_refused(
        self, world: Any, live: Any, factory: str
    ) -> None:
        deliver(live, demand_changed(world, factory))
        settled(live)
        response = live.client.post(
            "/api/v1/supply-plans",
            json={"demand_plan_id": factory, "cycle": world.cycle, "scenario": "what-if"},
            headers=live.headers("supply_planner"),
        )
        assert response.status_code == 422, response.text
        assert response.json()["code"] == "scenario-mismatch"
        assert len(jobs(live)) == 1
