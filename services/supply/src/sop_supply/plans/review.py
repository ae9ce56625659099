"""Supply review views of a plan: the family × month summary and supply LE vs budget."""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import Any

from sqlalchemy import case, func, select
from sqlmodel import Session, col

from sop_shared.readmodels.products import ProductRef
from sop_supply.masterdata.models import Material, SupplyBudget
from sop_supply.plans import service
from sop_supply.plans.compute import CONTRACT_EXCEPTIONS, month_range
from sop_supply.plans.models import SupplyPlanException, SupplyPlanLine
from sop_supply.plans.schemas import SupplyPlanRead

L = SupplyPlanLine
MEASURES = (
    "demand",
    "supply",
    "production",
    "purchases",
    "shortage",
    "closing_stock",
    "safety_stock",
    "excess",
    "inventory_value",
)


def summary(session: Session, plan_id: uuid.UUID) -> dict[str, Any]:
    """Family × month totals of the plan, its exceptions and its contract issues (cycle's view)."""
    plan = service.get_plan(session, plan_id)
    receipts = col(L.planned_receipts)
    query = (
        select(
            col(L.family),
            col(L.month),
            func.sum(col(L.demand)),
            func.sum(col(L.scheduled) + receipts),
            func.sum(case((col(L.make_or_buy) == "make", receipts), else_=0.0)),
            func.sum(case((col(L.make_or_buy) == "buy", receipts), else_=0.0)),
            func.sum(col(L.shortage)),
            func.sum(col(L.closing)),
            func.sum(col(L.safety_stock)),
            func.sum(col(L.excess)),
            func.sum(col(L.inventory_value)),
        )
        .where(col(L.plan_id) == plan_id)
        .group_by(col(L.family), col(L.month))
    )
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for family, month, *values in session.execute(query):
        rows[(family, month)] = {
            "family": family,
            "month": month,
            **{name: float(v or 0.0) for name, v in zip(MEASURES, values, strict=True)},
            "exceptions": {},
            "contract_issues": 0,
        }
    E = SupplyPlanException
    counts = (
        select(col(E.family), col(E.month), col(E.kind), func.count())
        .where(col(E.plan_id) == plan_id)
        .group_by(col(E.family), col(E.month), col(E.kind))
    )
    for family, month, kind, n in session.execute(counts):
        row = rows.setdefault(
            (family, month),
            {
                "family": family,
                "month": month,
                **dict.fromkeys(MEASURES, 0.0),
                "exceptions": {},
                "contract_issues": 0,
            },
        )
        row["exceptions"][kind] = int(n)
        if kind in CONTRACT_EXCEPTIONS:
            row["contract_issues"] += int(n)
    return {
        "plan": SupplyPlanRead.model_validate(plan),
        "rows": [rows[k] for k in sorted(rows)],
    }


def _families_of(session: Session, codes: set[str]) -> dict[str, str]:
    if not codes:
        return {}
    products = session.execute(
        select(col(ProductRef.code), col(ProductRef.family)).where(col(ProductRef.code).in_(codes))
    )
    materials = session.execute(
        select(col(Material.code), col(Material.family)).where(col(Material.code).in_(codes))
    )
    return {row[0]: row[1] for row in [*products, *materials]}


BUDGET_RULE = (
    "Family level: a family's budget in a month is its family budget row when there is one, "
    "else the sum of the product budget rows of its products (never both: an ERP sending a "
    "family row and its product rows is not double counted); keys are every family planned "
    "or budgeted. Product level: every item planned (products and materials) and every item "
    "with a budget row in the plan's months; budget and variance are null where the item has "
    "no budget row in the month (family rows are not split down to products). Compared like "
    "for like: a variance exists only in a key × month that has a budget; `budget_coverage` "
    "is the share of all keys × the plan's months that have one, `budget_months` the months "
    "with any budget."
)


def budget_comparison(
    session: Session, plan_id: uuid.UUID, *, level: str, limit: int, offset: int
) -> dict[str, Any]:
    """Supply latest estimate (scheduled + planned receipts, at unit cost) against the supply
    budget over the plan's months, with the projected inventory value (``BUDGET_RULE``)."""
    plan = service.get_plan(session, plan_id)
    months = month_range(plan.horizon_start, plan.horizon_end)
    budget_rows = list(
        session.execute(select(SupplyBudget).where(col(SupplyBudget.month).in_(months))).scalars()
    )
    products = {(r.code, r.month): (r.volume, r.value) for r in budget_rows if r.level == "product"}
    budget: dict[tuple[str, str], tuple[float, float]]
    if level == "family":
        families = {
            (r.code, r.month): (r.volume, r.value) for r in budget_rows if r.level == "family"
        }
        family_of = _families_of(session, {code for code, _ in products})
        rolled: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0.0])
        for (code, month), (volume, value) in products.items():
            family = family_of.get(code)
            if family is not None and (family, month) not in families:
                rolled[(family, month)][0] += volume
                rolled[(family, month)][1] += value
        budget = {**{k: (v[0], v[1]) for k, v in rolled.items()}, **families}
        key_column = col(L.family)
    else:
        budget = products
        key_column = col(L.product)
    planned_keys = set(
        session.execute(select(key_column).where(col(L.plan_id) == plan_id).distinct()).scalars()
    )
    keys = sorted(planned_keys | {k for k, _ in budget})
    page_keys = keys[offset : offset + limit]
    supply = col(L.scheduled) + col(L.planned_receipts)
    query = (
        select(
            key_column,
            col(L.month),
            func.sum(supply),
            func.sum(supply * col(L.unit_cost)),
            func.sum(col(L.inventory_value)),
        )
        .where(col(L.plan_id) == plan_id, key_column.in_(page_keys))
        .group_by(key_column, col(L.month))
    )
    le = {
        (k, m): (float(v), float(val), float(inv)) for k, m, v, val, inv in session.execute(query)
    }
    out = []
    for key in page_keys:
        for month in months:
            volume, value, inventory = le.get((key, month), (0.0, 0.0, 0.0))
            planned = budget.get((key, month))
            out.append(
                {
                    "key": key,
                    "month": month,
                    "le_volume": volume,
                    "le_value": value,
                    "budget_volume": planned[0] if planned else None,
                    "budget_value": planned[1] if planned else None,
                    "variance_volume": volume - planned[0] if planned else None,
                    "variance_value": value - planned[1] if planned else None,
                    "inventory_value": inventory,
                }
            )
    budgeted = {(k, m) for k, m in budget if m in months}
    return {
        "plan_id": plan_id,
        "level": level,
        "budget_coverage": len(budgeted) / (len(keys) * len(months)) if keys and months else 0.0,
        "budget_months": sorted({m for _, m in budgeted}),
        "rows": out,
        "total": len(keys),
        "limit": limit,
        "offset": offset,
    }
