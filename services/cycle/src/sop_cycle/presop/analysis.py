"""The pre-S&OP arithmetic: demand reconciled with constrained supply, capacity use,
inventory against targets, the financial projection against budget, and the issues an
executive meeting must decide. Pure functions over DataFrames, vectorised (no loop per cell).

Definitions (per family × month, then summed):
    unmet      = supply's shortage (else max(demand − supply, 0))
    fill rate  = 1 − Σunmet / Σdemand
    revenue    = planned revenue × (demand − unmet) / demand   (what constrained supply can sell)
    COGS       = supply's COGS, else fulfilled quantity × unit cost, where unit cost is the
                 family's inventory value / closing stock over the horizon
    margin     = revenue − COGS
    inventory days = average inventory value / (COGS per day), a day being 1/30.4 month
    utilisation = Σload hours / Σavailable hours
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sop_cycle.presop.sources import Sources

DAYS_PER_MONTH = 30.4


@dataclass(frozen=True)
class Thresholds:
    fill_rate_target: float = 0.98
    utilisation_limit: float = 1.0
    budget_tolerance: float = 0.05


def _col(frame: pd.DataFrame, name: str) -> pd.Series:
    return frame[name] if name in frame else pd.Series(np.nan, index=frame.index)


def _ratio(num: pd.Series | float, den: pd.Series | float, default: float) -> Any:
    """num / den with ``default`` where the denominator is zero or missing."""
    num_a = np.asarray(num, dtype="float64")
    den_a = np.asarray(den, dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(np.isfinite(den_a) & (den_a != 0), num_a / den_a, default)
    return out if out.ndim else float(out)


def reconcile(sources: Sources) -> pd.DataFrame:
    """Demand vs constrained supply by family × month, with the money of each cell."""
    demand = sources.demand.drop(columns=["actual_quantity"], errors="ignore")
    supply = sources.supply.rename(columns={"demand": "supply_demand"})
    m = demand.merge(supply, on=["family", "month"], how="outer")
    # Families the demand plan does not sell (purchased materials in the supply plan) carry
    # dependent demand: their stock counts, their "demand" is no customer's.
    sold = (
        m["family"].isin(demand["family"]) if not demand.empty else pd.Series(True, index=m.index)
    )
    qty = m["quantity"].where(m["quantity"].notna(), m["supply_demand"])
    qty = qty.where(sold, 0.0).fillna(0.0)
    from_supply = (qty - m["supply"]).clip(lower=0)
    # supply reports the backlog at month end: this month's demand left unserved is at most
    # the month's demand (min(demand, backlog), FIFO), so a carried backlog counts once
    unmet = m["shortage"].where(m["shortage"].notna(), from_supply).fillna(0.0).clip(upper=qty)
    out = pd.DataFrame({"family": m["family"], "month": m["month"], "demand": qty})
    out["supply"] = m["supply"].where(m["supply"].notna(), qty - unmet).where(sold, 0.0)
    out["unmet"] = unmet
    out["fill_rate"] = _ratio(qty - unmet, qty, 1.0)
    out["planned_revenue"] = m["revenue"].fillna(0.0)
    out["revenue"] = out["planned_revenue"] * out["fill_rate"]
    out["budget_quantity"] = m["budget_quantity"]
    out["budget_revenue"] = m["budget_revenue"]
    out["closing_stock"] = m["closing_stock"]
    out["safety_stock"] = m["safety_stock"]
    out["inventory_value"] = m["inventory_value"]
    # unit cost per family from the projected stock's valuation
    valued = m[m["closing_stock"].fillna(0) > 0]
    unit_cost = (
        valued.groupby("family")["inventory_value"].sum()
        / valued.groupby("family")["closing_stock"].sum()
    )
    estimated = (qty - unmet) * m["family"].map(unit_cost).fillna(0.0)
    out["cogs"] = m["cogs"].where(m["cogs"].notna(), estimated)
    out["gross_margin"] = out["revenue"] - out["cogs"]
    return out.sort_values(["family", "month"], ignore_index=True)


def utilisation(sources: Sources, limit: float) -> pd.DataFrame:
    """Load vs available hours per resource × month, whichever two of three were given."""
    u = sources.utilisation.copy()
    load, avail, ratio = u["load_hours"], u["available_hours"], u["utilisation"]
    u["load_hours"] = load.where(load.notna(), ratio * avail)
    u["utilisation"] = ratio.where(
        ratio.notna(), pd.Series(_ratio(load, avail, 0.0), index=u.index)
    )
    u["overloaded"] = u["utilisation"] > limit + 1e-6  # a binding resource at 100 % is not over
    return u.sort_values(["resource", "month"], ignore_index=True)


def by_month(recon: pd.DataFrame, util: pd.DataFrame) -> pd.DataFrame:
    """Company totals per month (the charts of the review pack draw these)."""
    measures = [
        "demand",
        "supply",
        "unmet",
        "planned_revenue",
        "revenue",
        "cogs",
        "gross_margin",
        "budget_quantity",
        "budget_revenue",
        "closing_stock",
        "safety_stock",
        "inventory_value",
    ]
    months = recon.groupby("month", sort=True)[measures].sum(min_count=1).reset_index()
    months["fill_rate"] = _ratio(months["demand"] - months["unmet"], months["demand"], 1.0)
    if not util.empty:
        hours = util.groupby("month")[["load_hours", "available_hours"]].sum(min_count=1)
        hours["utilisation"] = _ratio(hours["load_hours"], hours["available_hours"], np.nan)
        months = months.merge(hours.reset_index(), on="month", how="outer").sort_values("month")
    else:
        months["load_hours"] = months["available_hours"] = months["utilisation"] = np.nan
    return months.reset_index(drop=True)


def _sum(series: pd.Series) -> float | None:
    return float(series.sum()) if series.notna().any() else None


def kpis(recon: pd.DataFrame, util: pd.DataFrame, months: pd.DataFrame) -> dict[str, float | None]:
    """The scenario's headline numbers (compared side by side, snapshotted per cycle)."""
    demand, unmet = float(recon["demand"].sum()), float(recon["unmet"].sum())
    revenue, cogs = float(recon["revenue"].sum()), float(recon["cogs"].sum())
    value_by_month = months["inventory_value"].dropna() if not months.empty else pd.Series()
    inventory_value = float(value_by_month.mean()) if not value_by_month.empty else None
    n_months = max(int(recon["month"].nunique()), 1)
    daily_cogs = cogs / (n_months * DAYS_PER_MONTH)
    load = _sum(util["load_hours"]) if not util.empty else None
    avail = _sum(util["available_hours"]) if not util.empty else None
    # like for like (CONTRACTS.md): only the family × month cells that have a budget
    budget_revenue = _sum(recon["budget_revenue"])
    budget_quantity = _sum(recon["budget_quantity"])
    compared_revenue = float(recon.loc[recon["budget_revenue"].notna(), "revenue"].sum())
    compared_demand = float(recon.loc[recon["budget_quantity"].notna(), "demand"].sum())
    cells = len(recon)
    return {
        "demand_quantity": demand,
        "supply_quantity": float(recon["supply"].sum()),
        "unmet_demand": unmet,
        "fill_rate": float(_ratio(demand - unmet, demand, 1.0)),
        "planned_revenue": float(recon["planned_revenue"].sum()),
        "revenue": revenue,
        "cogs": cogs,
        "gross_margin": revenue - cogs,
        "margin_pct": float(_ratio(revenue - cogs, revenue, 0.0)) if revenue else None,
        "inventory_value": inventory_value,
        "inventory_value_end": float(value_by_month.iloc[-1]) if not value_by_month.empty else None,
        "inventory_days": (inventory_value / daily_cogs)
        if inventory_value is not None and daily_cogs > 0
        else None,
        "utilisation": (load / avail) if load is not None and avail else None,
        "peak_utilisation": float(util["utilisation"].max()) if not util.empty else None,
        "budget_revenue": budget_revenue,
        "revenue_vs_budget": (compared_revenue / budget_revenue - 1) if budget_revenue else None,
        "budget_quantity": budget_quantity,
        "quantity_vs_budget": (compared_demand / budget_quantity - 1) if budget_quantity else None,
        "budget_coverage": float(recon["budget_revenue"].notna().sum() / cells) if cells else None,
    }


def _months(series: pd.Series) -> list[str]:
    return sorted(str(m) for m in series.unique())


def issues_and_proposals(
    recon: pd.DataFrame,
    util: pd.DataFrame,
    sources: Sources,
    figures: dict[str, float | None],
    thresholds: Thresholds,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Open issues for the executive meeting, each with a proposed decision and options."""
    issues: list[dict[str, Any]] = []
    short = recon[recon["fill_rate"] < thresholds.fill_rate_target]
    if not short.empty:
        per_family = short.groupby("family").agg(
            unmet=("unmet", "sum"),
            demand=("demand", "sum"),
            revenue_at_risk=("planned_revenue", "sum"),
            fill=("revenue", "sum"),
        )
        per_family["revenue_at_risk"] -= per_family["fill"]
        months = short.groupby("family")["month"].apply(_months)
        for family, row in per_family.sort_values("unmet", ascending=False).iterrows():
            rate = float(_ratio(row["demand"] - row["unmet"], row["demand"], 1.0))
            issues.append(
                {
                    "id": f"shortage:{family}",
                    "type": "shortage",
                    "subject": str(family),
                    "severity": "high" if rate < thresholds.fill_rate_target - 0.08 else "medium",
                    "months": months[family],
                    "value": float(row["unmet"]),
                    "detail": f"{row['unmet']:.0f} units unmet (fill rate {rate:.1%}), "
                    f"revenue at risk {row['revenue_at_risk']:.0f}",
                }
            )
    if not util.empty:
        over = util[util["overloaded"]]
        if not over.empty:
            peaks = over.groupby("resource")["utilisation"].max().sort_values(ascending=False)
            months = over.groupby("resource")["month"].apply(_months)
            for resource, peak in peaks.items():
                issues.append(
                    {
                        "id": f"bottleneck:{resource}",
                        "type": "bottleneck",
                        "subject": str(resource),
                        "severity": "high"
                        if peak > thresholds.utilisation_limit + 0.1
                        else "medium",
                        "months": months[resource],
                        "value": float(peak),
                        "detail": f"load up to {peak:.0%} of available hours",
                    }
                )
    flagged = {i["subject"] for i in issues if i["type"] == "bottleneck"}
    reported: dict[str, dict[str, Any]] = {}
    for item in sources.bottlenecks:  # capacity's binding resource-months, one per resource
        resource = str(item.get("resource", item.get("key", "?")))
        if resource in flagged:
            continue
        entry = reported.setdefault(resource, {"months": set(), "peak": 0.0, "limit": None})
        months = item.get("months") or ([item["month"]] if "month" in item else [])
        entry["months"].update(str(m) for m in months)
        entry["peak"] = max(entry["peak"], float(item.get("utilisation") or 0.0))
        entry["limit"] = entry["limit"] or item.get("limit")
    for resource, entry in reported.items():
        months = sorted(entry["months"])
        issues.append(
            {
                "id": f"bottleneck:{resource}",
                "type": "bottleneck",
                "subject": resource,
                "severity": "medium",
                "months": months,
                "value": entry["peak"],
                "detail": f"at its {entry['limit'] or 'capacity'} limit in {len(months)} month(s)",
            }
        )
    gap_units = recon["safety_stock"] - recon["closing_stock"]
    # below target by more than rounding: at least 1 unit and 1 % of the target
    below = recon[gap_units > np.maximum(1.0, 0.01 * recon["safety_stock"].fillna(0))]
    if not below.empty:
        gap = (below["safety_stock"] - below["closing_stock"]).groupby(below["family"]).sum()
        months = below.groupby("family")["month"].apply(_months)
        for family, value in gap.items():
            issues.append(
                {
                    "id": f"inventory:{family}",
                    "type": "inventory_below_target",
                    "subject": str(family),
                    "severity": "medium",
                    "months": months[family],
                    "value": float(value),
                    "detail": f"projected stock {value:.0f} units below target in total",
                }
            )
    for n, item in enumerate(sources.contract_issues):
        subject = str(item.get("contract", item.get("contract_id", item.get("key", n))))
        issues.append(
            {
                "id": f"contract:{subject}",
                "type": "contract",
                "subject": subject,
                "severity": "medium",
                "months": [str(m) for m in item.get("months", [])]
                or ([str(item["month"])] if "month" in item else []),
                "value": float(item.get("gap", item.get("quantity", item.get("value", 0))) or 0),
                "detail": str(
                    item.get("detail", item.get("type", item.get("issue", "contract issue")))
                ),
            }
        )
    gap = figures.get("revenue_vs_budget")
    if gap is not None and abs(gap) > thresholds.budget_tolerance:
        issues.append(
            {
                "id": "budget:revenue",
                "type": "budget_gap",
                "subject": "revenue",
                "severity": "high" if gap < -2 * thresholds.budget_tolerance else "medium",
                "months": [],
                "value": float(gap),
                "detail": f"projected revenue {gap:+.1%} against budget",
            }
        )
    return issues, [propose(issue) for issue in issues]


OPTIONS = {
    "shortage": (
        "Unmet demand of {subject}",
        [
            "Approve overtime or extra shifts",
            "Allocate to priority customers",
            "Accept the lower service level",
        ],
        "executive",
    ),
    "bottleneck": (
        "Overload of {subject}",
        [
            "Approve overtime on {subject}",
            "Move volume to an alternate line or co-packer",
            "Pre-build stock in earlier months",
            "Accept the unmet demand",
        ],
        "capacity_planner",
    ),
    "inventory_below_target": (
        "Stock of {subject} below target",
        ["Expedite supply", "Accept lower safety stock for these months"],
        "supply_planner",
    ),
    "contract": (
        "Supplier contract {subject} off its committed volume",
        ["Renegotiate the committed volume", "Re-source the material", "Accept the penalty"],
        "supply_planner",
    ),
    "budget_gap": (
        "Revenue against budget",
        [
            "Accept the latest estimate",
            "Launch demand-shaping actions (price, promotion)",
            "Revise the budget",
        ],
        "executive",
    ),
}


def propose(issue: dict[str, Any]) -> dict[str, Any]:
    topic, options, owner = OPTIONS[issue["type"]]
    subject = issue["subject"]
    return {
        "issue_id": issue["id"],
        "topic": topic.format(subject=subject),
        "options": [o.format(subject=subject) for o in options],
        "suggested_owner_role": owner,
    }
