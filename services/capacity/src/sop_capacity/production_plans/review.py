"""The production review (S&OP step 5) and the summary the cycle service pulls.

Everything here is read from the stored plan: its loads (before and after), its positions
(unmet demand, safety stock not rebuilt) and, to explain a backlog, the product's production methods as they are
now: a late product is "unplannable" when the plan found no usable method for it (the
reason stored with the plan), "capacity-bound" when one of its resources (or that
resource's crew) is at its limit in a month up to its last late month, else the plan judged
the backlog cheaper than overtime, an alternate method or building ahead.
"""

from __future__ import annotations

import uuid
from typing import Any

import pandas as pd
from sqlmodel import Session

from sop_capacity.production_plans.models import ProductionPlan
from sop_capacity.production_plans.repository import (
    LoadRepository,
    PositionRepository,
    UnplannableRepository,
)
from sop_capacity.production_plans.schemas import (
    BindingResource,
    Bottleneck,
    CrewChange,
    CrewMonth,
    Overtime,
    OvertimeByResource,
    ProductionPlanRead,
    ProductionPlanSummary,
    ProductionReview,
    SafetyStockGap,
    SafetyStockSummary,
    StrategyFigures,
    UnmetDemand,
    UnmetSummary,
    UtilisationCell,
)
from sop_capacity.production_plans.service import get_plan
from sop_capacity.production_plans.writer import BINDING_SHARE
from sop_capacity.resources.models import ResourceKind
from sop_capacity.resources.repository import ResourceRepository
from sop_capacity.routings.repository import RoutingRepository
from sop_shared.quantities import TOLERANCE

EPS = TOLERANCE


def _loads(session: Session, plan_id: uuid.UUID) -> pd.DataFrame:
    rows = LoadRepository(session).all_loads(plan_id)
    return pd.DataFrame([r.model_dump() for r in rows])


def _utilisation(loads: pd.DataFrame) -> list[UtilisationCell]:
    frame = loads.rename(
        columns={"rccp_load_hours": "before_load_hours", "rccp_utilisation": "before_utilisation"}
    )
    frame = frame.astype(object).where(frame.notna(), None)
    fields = list(UtilisationCell.model_fields)
    return [UtilisationCell.model_validate(r) for r in frame[fields].to_dict("records")]


def _bottlenecks(loads: pd.DataFrame) -> list[Bottleneck]:
    hit = loads[loads["binding"]].copy()
    hit["limit"] = hit["crew_hours"].notna().map({True: "crew", False: "machine"})
    hit = hit.astype(object).where(hit.notna(), None)
    fields = list(Bottleneck.model_fields)
    return [Bottleneck.model_validate(r) for r in hit[fields].to_dict("records")]


def _crew_months(loads: pd.DataFrame) -> pd.DataFrame:
    return loads[loads["headcount"].notna()].rename(columns={"resource": "pool"})


def _headcount(loads: pd.DataFrame) -> list[CrewMonth]:
    crews = _crew_months(loads)
    crews = crews.astype(object).where(crews.notna(), None)
    fields = list(CrewMonth.model_fields)
    return [CrewMonth.model_validate(r) for r in crews[fields].to_dict("records")]


def _workforce(loads: pd.DataFrame) -> list[CrewChange]:
    out = []
    for pool, rows in _crew_months(loads).groupby("pool", sort=True):
        rows = rows.sort_values("month")
        first = rows.iloc[0]
        out.append(
            CrewChange(
                pool=str(pool),
                start_headcount=float(first["headcount"] - first["hires"] + first["fires"]),
                end_headcount=float(rows.iloc[-1]["headcount"]),
                peak_headcount=float(rows["headcount"].max()),
                hires=float(rows["hires"].sum()),
                fires=float(rows["fires"].sum()),
                months=[
                    CrewMonth.model_validate(r)
                    for r in rows.astype(object)
                    .where(rows.notna(), None)[list(CrewMonth.model_fields)]
                    .to_dict("records")
                ],
            )
        )
    return out


def _overtime(loads: pd.DataFrame, plan: ProductionPlan) -> Overtime:
    by_resource = loads.groupby("resource", sort=True)["overtime_hours"].sum()
    by_resource = by_resource[by_resource > EPS]
    return Overtime(
        total_hours=float(loads["overtime_hours"].sum()),
        cost=float(plan.costs.get("overtime", 0.0)),
        by_resource=[
            OvertimeByResource(resource=str(r), hours=float(h)) for r, h in by_resource.items()
        ],
    )


def _months_text(months: list[str]) -> str:
    return ", ".join(months[:6]) + (f" (+{len(months) - 6} more)" if len(months) > 6 else "")


def _unmet(session: Session, plan: ProductionPlan, loads: pd.DataFrame, limit: int) -> UnmetSummary:
    late = pd.DataFrame(
        [
            {"product": r.product, "site": r.site, "month": r.month, "backorder": r.backorder}
            for r in PositionRepository(session).backordered(plan.id)
        ],
        columns=["product", "site", "month", "backorder"],
    )
    late = late[late["backorder"] > EPS]
    if late.empty:
        return UnmetSummary(ending_backorder=0.0, backordered_unit_months=0.0, products=0, items=[])
    late = late.sort_values("month")
    ending = late[late["month"] == plan.last_month].set_index(["product", "site"])["backorder"]
    per = late.groupby(["product", "site"]).agg(
        backordered_unit_months=("backorder", "sum"),
        peak_backorder=("backorder", "max"),
        months=("month", list),
        last_month=("month", "max"),
    )
    per["ending_backorder"] = ending.reindex(per.index).fillna(0.0)
    per = per.sort_values(
        ["ending_backorder", "backordered_unit_months"], ascending=False
    ).reset_index()
    top = per.head(limit)
    binding = _binding_by_product(session, top, loads)
    unplannable = UnplannableRepository(session).reasons(plan.id)
    items = []
    for row in top.itertuples(index=False):
        hits = binding.get((row.product, row.site), [])
        cannot = unplannable.get((row.product, row.site))
        if cannot is not None:
            hits = []
            reason = f"cannot be made, planned as backorder only: {cannot}"
        elif hits:
            reason = "capacity: " + "; ".join(
                f"{b.resource} at its limit in {_months_text(b.months)}" for b in hits
            )
        else:
            reason = (
                "cost: no resource of this product is at its limit; making it on time "
                "(overtime, an alternate method or building ahead) would cost more than "
                "the backorder"
            )
        items.append(
            UnmetDemand(
                product=row.product,
                site=row.site,
                backordered_unit_months=float(row.backordered_unit_months),
                peak_backorder=float(row.peak_backorder),
                ending_backorder=float(row.ending_backorder),
                months=list(row.months),
                binding=hits,
                unplannable=cannot is not None,
                reason=reason,
            )
        )
    return UnmetSummary(
        ending_backorder=float(per["ending_backorder"].sum()),
        backordered_unit_months=float(per["backordered_unit_months"].sum()),
        products=len(per),
        items=items,
    )


def _safety_stock(session: Session, plan: ProductionPlan, limit: int) -> SafetyStockSummary:
    """Products whose safety-stock top-up gave way, largest gap at the end first."""
    short = pd.DataFrame(
        [
            {
                "product": r.product,
                "site": r.site,
                "month": r.month,
                "gap": r.safety_stock_shortfall,
            }
            for r in PositionRepository(session).short_of_safety_stock(plan.id)
        ],
        columns=["product", "site", "month", "gap"],
    )
    short = short[short["gap"] > EPS].sort_values("month")
    cost = float(plan.costs.get("shortfall", 0.0))
    if short.empty:
        return SafetyStockSummary(shortfall_unit_months=0.0, cost=cost, products=0, items=[])
    ending = short[short["month"] == plan.last_month].set_index(["product", "site"])["gap"]
    per = short.groupby(["product", "site"]).agg(
        shortfall_unit_months=("gap", "sum"), peak_shortfall=("gap", "max"), months=("month", list)
    )
    per["ending_shortfall"] = ending.reindex(per.index).fillna(0.0)
    per = per.sort_values(
        ["ending_shortfall", "shortfall_unit_months"], ascending=False
    ).reset_index()
    fields = list(SafetyStockGap.model_fields)
    return SafetyStockSummary(
        shortfall_unit_months=float(per["shortfall_unit_months"].sum()),
        cost=cost,
        products=len(per),
        items=[
            SafetyStockGap.model_validate(r) for r in per.head(limit)[fields].to_dict("records")
        ],
    )


def _binding_by_product(
    session: Session, late: pd.DataFrame, loads: pd.DataFrame
) -> dict[tuple[str, str], list[BindingResource]]:
    """Resources (and crews) of each late product that are full or switched off in a month
    up to its last late month."""
    if late.empty:
        return {}
    resources = pd.DataFrame(
        [
            {"resource": r.code, "resource_site": r.site, "kind": r.kind, "pool": r.labour_pool}
            for r in ResourceRepository(session).all()
        ],
        columns=["resource", "resource_site", "kind", "pool"],
    )
    routings = pd.DataFrame(
        [
            {"product": r.product, "resource": r.resource}
            for r in RoutingRepository(session).for_products(late["product"].unique().tolist())
        ],
        columns=["product", "resource"],
    )
    methods = late[["product", "site", "last_month"]].merge(routings, on="product")
    methods = methods.merge(resources, on="resource")
    methods = methods[
        (methods["resource_site"] == methods["site"]) | (methods["kind"] == ResourceKind.copacker)
    ]
    # A method is limited by its resource and by the crew of that resource's pool.
    limits = pd.concat(
        [
            methods[["product", "site", "last_month", "resource"]],
            methods.loc[methods["pool"].notna(), ["product", "site", "last_month", "pool"]].rename(
                columns={"pool": "resource"}
            ),
        ]
    ).drop_duplicates()
    # At its limit: a binding crew, or a resource with no hours left even on overtime (one
    # whose regular hours are full but whose overtime was judged too dear is binding, and a
    # bottleneck, but the backlog behind it is the plan's choice: "cost").
    no_more = loads["crew_hours"].notna() | loads["capacity_hours"].isna()
    no_more |= loads["hours_used"] >= BINDING_SHARE * loads["capacity_hours"] - TOLERANCE
    full = loads.loc[(loads["binding"] & no_more) | loads["unavailable"], ["resource", "month"]]
    hits = limits.merge(full, on="resource")
    hits = hits[hits["month"] <= hits["last_month"]].sort_values(["resource", "month"])
    out: dict[tuple[str, str], list[BindingResource]] = {}
    for (product, site, resource), rows in hits.groupby(["product", "site", "resource"], sort=True):
        out.setdefault((str(product), str(site)), []).append(
            BindingResource(resource=str(resource), months=rows["month"].tolist())
        )
    return out


def _comparison(plan: ProductionPlan) -> list[StrategyFigures]:
    order = {"optimal": 0, "chase": 1, "level": 2}
    out = []
    for strategy, figures in sorted(plan.comparison.items(), key=lambda kv: order.get(kv[0], 9)):
        data: dict[str, Any] = {"strategy": strategy, **figures}
        out.append(StrategyFigures.model_validate(data))
    return out


def summary(session: Session, *, plan_id: uuid.UUID, unmet_limit: int) -> ProductionPlanSummary:
    plan = get_plan(session, plan_id=plan_id)
    loads = _loads(session, plan.id)
    return ProductionPlanSummary(
        plan_id=plan.id,
        cycle=plan.cycle,
        scenario=plan.scenario,
        version=plan.version,
        strategy=plan.strategy,
        status=plan.status,
        supply_plan_id=plan.supply_plan_id,
        costs=plan.costs,
        utilisation=_utilisation(loads),
        bottlenecks=_bottlenecks(loads),
        overtime=_overtime(loads, plan),
        headcount=_headcount(loads),
        unmet_demand=_unmet(session, plan, loads, unmet_limit),
        safety_stock=_safety_stock(session, plan, unmet_limit),
    )


def review(session: Session, *, plan_id: uuid.UUID, unmet_limit: int) -> ProductionReview:
    plan = get_plan(session, plan_id=plan_id)
    loads = _loads(session, plan.id)
    return ProductionReview(
        plan=ProductionPlanRead.model_validate(plan),
        comparison=_comparison(plan),
        utilisation=_utilisation(loads),
        bottlenecks=_bottlenecks(loads),
        workforce=_workforce(loads),
        overtime=_overtime(loads, plan),
        unmet_demand=_unmet(session, plan, loads, unmet_limit),
        safety_stock=_safety_stock(session, plan, unmet_limit),
    )
