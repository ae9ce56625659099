"""Builders for the cycle's tests: plan events as the planning services publish them."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from sop_cycle.consumers.handlers import HANDLERS
from sop_shared.events import CloudEvent, new_event
from sop_shared.events.catalog import PlanChangedData

EVENT_TYPES = {
    "demand": "sop.demand.plan.changed.v1",
    "supply": "sop.supply.plan.changed.v1",
    "production": "sop.capacity.plan.changed.v1",
}
SOURCES = {"demand": "/sop/demand", "supply": "/sop/supply", "production": "/sop/capacity"}


def plan_event(
    kind: str,
    plan_id: str,
    *,
    cycle: str = "2026-12",
    scenario: str = "base",
    version: int = 1,
    status: str | None = None,
    upstream: str | None = None,
    totals: dict[str, float] | None = None,
) -> CloudEvent:
    default_status = {"demand": "submitted", "supply": "unconstrained", "production": "optimal"}
    return new_event(
        source=SOURCES[kind],
        type=EVENT_TYPES[kind],
        subject=plan_id,
        cycle=cycle,
        scenario=scenario,
        version=version,
        data=PlanChangedData(
            plan_id=plan_id,
            cycle=cycle,
            scenario=scenario,
            version=version,
            status=status or default_status[kind],
            upstream_plan_id=upstream,
            totals=totals or {"quantity": 1000.0},
        ),
    )


def deliver(session: Session, event: CloudEvent) -> None:
    """Apply an event the way the consumer does (the inbox is tested in the kafka tier)."""
    HANDLERS[event.type](session, event)
    session.commit()  # like a consumed message: its own unit of work (the test still rolls back)


def full_chain(session: Session, *, cycle: str = "2026-12", tag: str = "1", **kw: Any) -> None:
    """Demand → unconstrained supply → production → constrained supply, by events."""
    deliver(session, plan_event("demand", f"D{tag}", cycle=cycle, **kw))
    deliver(session, plan_event("supply", f"S{tag}", cycle=cycle, upstream=f"D{tag}", **kw))
    deliver(session, plan_event("production", f"P{tag}", cycle=cycle, upstream=f"S{tag}", **kw))
    deliver(
        session,
        plan_event(
            "supply",
            f"S{tag}c",
            cycle=cycle,
            upstream=f"D{tag}",
            status="constrained",
            version=2,
            **kw,
        ),
    )


# --- plan documents in the shapes the peers serve (CONTRACTS.md; checked against the
# demand, supply and capacity services' schemas): a small hand-worked company.
#
# Two families over two months. Family A: 100 then 200 units demanded, 20 unmet in Jan.
# Family B: 50 and 50, all met. See unit/test_analysis.py for the worked numbers.


def demand_summary(scale: float = 1.0, plan_id: str = "D1") -> dict[str, Any]:
    rows = [
        ("A", "2026-12", 100, 1000, 110, 1100),
        ("A", "2027-01", 200, 2000, 190, 1900),
        ("B", "2026-12", 50, 1500, 50, 1500),
        ("B", "2027-01", 50, 1500, 60, 1800),
    ]
    items = [
        {
            "family": f,
            "month": m,
            "quantity": q * scale,
            "revenue": r * scale,
            "baseline": q * scale,
            "budget_quantity": bq,
            "budget_revenue": br,
        }
        for f, m, q, r, bq, br in rows
    ]
    return {
        "plan_id": plan_id,
        "cycle": "2026-12",
        "scenario": "base",
        "version_no": 1,
        "status": "submitted",
        "items": items,
        "totals": {"quantity": 400 * scale, "revenue": 6000 * scale},
    }


def supply_summary(shortage_jan_a: float = 20, plan_id: str = "S1c") -> dict[str, Any]:
    rows = [
        ("A", "2026-12", 100, 100, 0, 40, 240, 30, {}),
        (
            "A",
            "2027-01",
            200,
            200 - shortage_jan_a,
            shortage_jan_a,
            20,
            120,
            30,
            {"stockout": 1, "below_safety_stock": 1} if shortage_jan_a else {},
        ),
        ("B", "2026-12", 50, 50, 0, 10, 200, 5, {}),
        ("B", "2027-01", 50, 50, 0, 10, 200, 5, {"contract_under_use": 1}),
    ]
    return {
        "plan": {"id": plan_id, "cycle": "2026-12", "scenario": "base", "status": "constrained"},
        "rows": [
            {
                "family": f,
                "month": m,
                "demand": d,
                "supply": sup,
                "production": sup,
                "purchases": 0.0,
                "shortage": sh,
                "closing_stock": c,
                "safety_stock": ss,
                "excess": 0.0,
                "inventory_value": v,
                "exceptions": exc,
                "contract_issues": exc.get("contract_under_use", 0),
            }
            for f, m, d, sup, sh, c, v, ss, exc in rows
        ],
    }


def contract_review(plan_id: str = "S1c") -> dict[str, Any]:
    return {
        "plan_id": plan_id,
        "items": [
            {
                "contract": "C-7",
                "supplier": "ACME",
                "material": "RESIN",
                "family": "B",
                "period_start": "2026-12",
                "period_end": "2027-01",
                "min_volume": 1000.0,
                "max_volume": 2000.0,
                "planned_volume": 500.0,
                "shortfall": 500.0,
                "excess": 0.0,
                "status": "under",
            },
            {
                "contract": "C-8",
                "supplier": "ACME",
                "material": "CAPS",
                "family": "A",
                "period_start": "2026-12",
                "period_end": "2027-01",
                "min_volume": 10.0,
                "max_volume": 900.0,
                "planned_volume": 300.0,
                "shortfall": 0.0,
                "excess": 0.0,
                "status": "ok",
            },
        ],
        "shortfall_value": 2500.0,
        "excess_value": 0.0,
    }


def _cell(resource: str, month: str, used: float, available: float = 100) -> dict[str, Any]:
    return {
        "resource": resource,
        "month": month,
        "available_hours": available,
        "capacity_hours": available * 1.2,
        "before_load_hours": used,
        "before_utilisation": used / available,
        "hours_used": used,
        "regular_hours": min(used, available),
        "overtime_hours": max(used - available, 0),
        "utilisation": used / available,
        "binding": used >= available,
        "overloaded": False,
        "unavailable": False,
    }


def capacity_summary(jan_load_l1: float = 110, plan_id: str = "P1") -> dict[str, Any]:
    return {
        "plan_id": plan_id,
        "cycle": "2026-12",
        "scenario": "base",
        "version": 1,
        "strategy": "optimal",
        "status": "optimal",
        "supply_plan_id": "S1",
        "costs": {"production": 5000.0, "overtime": 300.0},
        "utilisation": [
            _cell("L1", "2026-12", 80),
            _cell("L1", "2027-01", jan_load_l1),
            _cell("L2", "2026-12", 50),
            _cell("L2", "2027-01", 60),
        ],
        "bottlenecks": [
            {
                "resource": "L1",
                "month": "2027-01",
                "limit": "machine",
                "hours_used": jan_load_l1,
                "capacity_hours": 120,
                "utilisation": jan_load_l1 / 100,
            }
        ],
        "overtime": {
            "total_hours": max(jan_load_l1 - 100, 0),
            "cost": 300.0,
            "by_resource": [{"resource": "L1", "hours": max(jan_load_l1 - 100, 0)}],
        },
        "headcount": [],
        "unmet_demand": {
            "ending_backorder": 0.0,
            "backordered_unit_months": 20.0,
            "products": 1,
            "items": [
                {
                    "product": "A-1",
                    "site": "S1",
                    "backordered_unit_months": 20.0,
                    "peak_backorder": 20.0,
                    "ending_backorder": 0.0,
                    "months": ["2027-01"],
                    "binding": [{"resource": "L1", "months": ["2027-01"]}],
                    "reason": "L1 at its limit in 2027-01",
                }
            ],
        },
    }
