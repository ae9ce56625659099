"""The plan summaries of CONTRACTS.md, normalised into tidy DataFrames.

The summaries are the peers' documents; this module is the one place that knows their
shape. It accepts the table under any key (``rows``, ``items``, ``by_family_month``...) as
a list of objects carrying the grain columns, and a few spellings of each measure, so a
field renamed upstream degrades to a missing column (and a warning), not to a 500.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

DEMAND_COLUMNS: dict[str, Sequence[str]] = {
    "quantity": ("quantity", "plan_quantity", "demand_quantity", "demand", "qty"),
    "revenue": ("revenue", "plan_revenue", "demand_revenue", "value"),
    "budget_quantity": ("budget_quantity", "budget_qty"),
    "budget_revenue": ("budget_revenue", "budget_value"),
    "actual_quantity": ("actual_quantity", "actual_qty", "actuals", "history_quantity"),
}
SUPPLY_COLUMNS: dict[str, Sequence[str]] = {
    "demand": ("demand", "demand_quantity", "gross_demand"),
    "supply": ("supply", "constrained_supply", "planned_supply", "receipts", "production"),
    "shortage": ("shortage", "shortages", "unmet", "unmet_demand"),
    "closing_stock": ("closing_stock", "closing", "projected_inventory", "closing_inventory"),
    "inventory_value": ("inventory_value", "closing_value", "stock_value"),
    "safety_stock": ("safety_stock", "target_stock", "inventory_target", "target"),
    "cogs": ("cogs", "cost_of_goods", "cost_of_goods_sold"),
}
CAPACITY_COLUMNS: dict[str, Sequence[str]] = {
    "load_hours": (
        "load_hours",
        "hours_used",
        "used_hours",
        "load",
        "required_hours",
        "planned_hours",
    ),
    "available_hours": ("available_hours", "capacity_hours", "available", "capacity"),
    "utilisation": ("utilisation", "utilization", "utilisation_after", "utilization_after"),
    "overtime_hours": ("overtime_hours", "overtime"),
}


@dataclass
class Sources:
    """Everything the pre-S&OP view and the KPIs are computed from, for one scenario."""

    demand: pd.DataFrame = field(default_factory=lambda: empty(("family", "month"), DEMAND_COLUMNS))
    supply: pd.DataFrame = field(default_factory=lambda: empty(("family", "month"), SUPPLY_COLUMNS))
    utilisation: pd.DataFrame = field(
        default_factory=lambda: empty(("resource", "month"), CAPACITY_COLUMNS)
    )
    bottlenecks: list[dict[str, Any]] = field(default_factory=list)
    contract_issues: list[dict[str, Any]] = field(default_factory=list)
    exceptions: dict[str, Any] = field(default_factory=dict)
    capacity_costs: dict[str, float] = field(default_factory=dict)
    overtime: dict[str, float] = field(default_factory=dict)
    #: Capacity's account of demand it cannot make: totals and the products behind them.
    unmet: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def empty(grain: Iterable[str], measures: Mapping[str, Sequence[str]]) -> pd.DataFrame:
    columns = [*grain, *measures]
    frame = pd.DataFrame({c: pd.Series(dtype="float64") for c in columns})
    for g in grain:
        frame[g] = frame[g].astype("object")
    return frame


def _has(row: Mapping[str, Any], grain: Sequence[str]) -> bool:
    return all(g in row for g in grain)


def find_rows(body: Any, grain: Sequence[str], prefer: Sequence[str] = ()) -> list[dict[str, Any]]:
    """The first list of objects carrying every ``grain`` key, looking in ``prefer`` first,
    then in any top-level value, then one level down."""
    if isinstance(body, list):
        return [r for r in body if isinstance(r, dict) and _has(r, grain)]
    if not isinstance(body, dict):
        return []
    candidates = [body[k] for k in prefer if k in body] + list(body.values())
    for value in candidates:
        if (
            isinstance(value, list)
            and value
            and isinstance(value[0], dict)
            and _has(value[0], grain)
        ):
            return [r for r in value if isinstance(r, dict)]
    for value in body.values():
        if isinstance(value, dict):
            rows = find_rows(value, grain, prefer)
            if rows:
                return rows
    return []


def tidy(
    rows: list[dict[str, Any]], grain: Sequence[str], measures: Mapping[str, Sequence[str]]
) -> pd.DataFrame:
    """Rows → a frame with the grain and every measure (NaN when the peer gave none),
    summed over duplicate grain keys."""
    if not rows:
        return empty(grain, measures)
    raw = pd.DataFrame.from_records(rows)
    out = pd.DataFrame({g: raw[g].astype(str) for g in grain})
    for name, aliases in measures.items():
        found = next((a for a in aliases if a in raw.columns), None)
        out[name] = pd.to_numeric(raw[found], errors="coerce") if found else np.nan
    present = [m for m in measures if out[m].notna().any()]
    grouped = out.groupby(list(grain), as_index=False, sort=True)[present].sum(min_count=1)
    for m in measures:
        if m not in grouped:
            grouped[m] = np.nan
    return grouped[[*grain, *measures]]


def _records(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, list):
        return [v if isinstance(v, dict) else {"detail": str(v)} for v in value]
    if isinstance(value, dict):
        return [
            {"key": k, **(v if isinstance(v, dict) else {"value": v})} for k, v in value.items()
        ]
    return []


def normalise_demand(body: dict[str, Any]) -> pd.DataFrame:
    rows = find_rows(body, ("family", "month"), ("rows", "items", "by_family_month", "lines"))
    return tidy(rows, ("family", "month"), DEMAND_COLUMNS)


def normalise_supply(body: dict[str, Any], sources: Sources) -> None:
    rows = find_rows(body, ("family", "month"), ("rows", "items", "by_family_month", "lines"))
    sources.supply = tidy(rows, ("family", "month"), SUPPLY_COLUMNS)
    contracts = body.get("contract_issues", body.get("contracts", []))
    if isinstance(contracts, (list, dict)) and contracts and not sources.contract_issues:
        sources.contract_issues = _records(contracts)
    exceptions = body.get("exceptions", {})
    counts: dict[str, int] = {}
    if isinstance(exceptions, list):
        for item in exceptions:
            kind = (
                item.get("type", item.get("kind", "exception"))
                if isinstance(item, dict)
                else "exception"
            )
            counts[str(kind)] = counts.get(str(kind), 0) + 1
    elif isinstance(exceptions, dict):
        counts = {str(k): int(v) for k, v in exceptions.items() if isinstance(v, (int, float))}
    for row in rows:  # per family × month counts (the supply service's summary rows)
        for kind, n in (row.get("exceptions") or {}).items():
            if isinstance(n, (int, float)):
                counts[str(kind)] = counts.get(str(kind), 0) + int(n)
    sources.exceptions = counts


def normalise_contract_review(body: dict[str, Any], sources: Sources) -> None:
    """The supply plan's contract review: contracts off their committed volume are issues."""
    items = find_rows(body, ("contract",), ("items", "rows"))
    issues = [i for i in items if str(i.get("status", "")).lower() in ("under", "over")]
    for item in issues:
        gap = item.get("shortfall") if item.get("status") == "under" else item.get("excess")
        item.setdefault("gap", gap)
        item.setdefault(
            "detail",
            f"{item.get('status')} its committed volume on {item.get('material', '?')} "
            f"({item.get('period_start', '?')}..{item.get('period_end', '?')}): "
            f"planned {item.get('planned_volume', '?')}, min {item.get('min_volume', '?')}, "
            f"max {item.get('max_volume', '?')}",
        )
    sources.contract_issues = issues


def normalise_capacity(body: dict[str, Any], sources: Sources) -> None:
    rows = find_rows(
        body.get("utilisation", body.get("utilization", body)),
        ("resource", "month"),
        ("rows", "items", "by_resource_month"),
    ) or find_rows(body, ("resource", "month"), ("utilisation", "utilization", "rows", "items"))
    util = tidy(rows, ("resource", "month"), CAPACITY_COLUMNS)
    # utilisation given in percent (e.g. 87.5) is brought back to a ratio
    if util["utilisation"].notna().any() and util["utilisation"].max() > 5:
        util["utilisation"] = util["utilisation"] / 100.0
    sources.utilisation = util
    sources.bottlenecks = _records(body.get("bottlenecks", []))
    unmet = body.get("unmet_demand", body.get("unmet"))
    if isinstance(unmet, (int, float)):
        sources.unmet = {"ending_backorder": float(unmet)}
    elif isinstance(unmet, dict):
        sources.unmet = {
            **{k: v for k, v in unmet.items() if isinstance(v, (int, float))},
            "items": [i for i in unmet.get("items", []) if isinstance(i, dict)][:50],
        }
    costs = body.get("cost_breakdown", body.get("costs", {}))
    if isinstance(costs, dict):
        sources.capacity_costs = {
            str(k): float(v) for k, v in costs.items() if isinstance(v, (int, float))
        }
    overtime = body.get("overtime")
    if isinstance(overtime, dict):
        sources.overtime = {
            str(k): float(v) for k, v in overtime.items() if isinstance(v, (int, float))
        }
    elif isinstance(overtime, (int, float)):
        sources.overtime = {"total_hours": float(overtime)}


def build_sources(summaries: Mapping[str, dict[str, Any] | str]) -> Sources:
    """kind → summary body (or the error met fetching it) → ``Sources``."""
    sources = Sources()
    for kind, body in summaries.items():
        if isinstance(body, str) and kind == "contracts":
            continue  # optional detail: the supply summary still counts contract issues
        if isinstance(body, str):
            sources.warnings.append(f"{kind} summary unavailable: {body}")
            continue
        if kind == "demand":
            sources.demand = normalise_demand(body)
        elif kind == "supply":
            normalise_supply(body, sources)
        elif kind == "production":
            normalise_capacity(body, sources)
        elif kind == "contracts":
            normalise_contract_review(body, sources)
    if "demand" in summaries and not isinstance(summaries["demand"], str) and sources.demand.empty:
        sources.warnings.append("demand summary has no family × month rows")
    if "supply" in summaries and not isinstance(summaries["supply"], str) and sources.supply.empty:
        sources.warnings.append("supply summary has no family × month rows")
    return sources


def actuals_from_estimate(body: dict[str, Any] | str) -> pd.DataFrame:
    """Family × month actual quantities from the demand plan's latest estimate (the rows
    whose ``source`` is ``actual``): what forecast accuracy is measured against."""
    if isinstance(body, str):
        return pd.DataFrame({"family": [], "month": [], "quantity": []})
    rows = [
        r
        for r in find_rows(body, ("family", "month"), ("items", "rows"))
        if str(r.get("source", "actual")) == "actual"
    ]
    frame = tidy(rows, ("family", "month"), {"quantity": ("quantity", "actual_quantity")})
    return frame[frame["quantity"].notna()]
