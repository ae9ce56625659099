"""Rough-cut capacity: the supply plan's requirements loaded on each product's preferred method.

Cheap and explainable on purpose: it answers "is the supply plan roughly doable?" before any
optimisation, and it is the "before" picture of the production review.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sqlmodel import Session

from sop_capacity.planning import PlanningInputError, RccpResult, rough_cut
from sop_capacity.planning_input import CapacityModel, CostRates, build_model, load_master_data
from sop_capacity.production_plans.writer import UTILISATION_DECIMALS
from sop_capacity.rccp.schemas import (
    Contributor,
    CrewLoad,
    LoadCell,
    OverloadRead,
    RoughCutRead,
    Unassigned,
)
from sop_capacity.supply import SupplyGateway
from sop_shared.problems import FieldError, Unprocessable

FloatPair = tuple[np.ndarray, np.ndarray]


@dataclass(frozen=True)
class Thresholds:
    overload: float = 1.0
    idle: float = 0.5
    top: int = 3


def planning_problem(exc: PlanningInputError) -> Unprocessable:
    """The engine's input issues as a problem document (which resource, which month)."""
    return Unprocessable(
        str(exc),
        code="planning-input",
        errors=[FieldError(field="plan", message=i.message) for i in exc.issues[:100]],
    )


def _finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def analyse(model: CapacityModel, thresholds: Thresholds) -> tuple[RccpResult, FloatPair]:
    """Run rough-cut on the model; also return crew load and hours per pool x month."""
    try:
        result = rough_cut(
            model.requirement,
            model.method_list(),
            model.available,
            overload_threshold=thresholds.overload,
            idle_threshold=thresholds.idle,
            top_n=thresholds.top,
        )
    except PlanningInputError as exc:
        raise planning_problem(exc) from exc
    n_t = len(model.months)
    crew_load = np.zeros((len(model.pools), n_t))
    crew_hours = np.zeros((len(model.pools), n_t))
    for q, pool in enumerate(model.pools):
        crew_load[q] = result.load[list(pool.resources)].sum(axis=0)
        crew_hours[q] = pool.headcount0 * np.broadcast_to(pool.hours_per_person, (n_t,))
    return result, (crew_load, crew_hours)


def report(
    model: CapacityModel,
    result: RccpResult,
    crews: FloatPair,
    *,
    supply_plan_id: str,
    thresholds: Thresholds,
) -> RoughCutRead:
    codes, months = model.resource_codes, model.months
    pairs = model.pairs
    finite_avail = np.isfinite(result.available)
    utilisation = np.round(result.utilisation, UTILISATION_DECIMALS)  # no 1.0000000000000002
    cells = [
        LoadCell(
            resource=codes[r],
            month=months[t],
            available_hours=_finite(result.available[r, t]),
            load_hours=float(result.load[r, t]),
            utilisation=_finite(utilisation[r, t]) if finite_avail[r, t] else None,
            overloaded=bool(result.overloaded[r, t]),
            idle=bool(result.idle[r, t] and finite_avail[r, t]),
            unavailable=bool(model.unavailable[r, t]),
        )
        for r in range(len(codes))
        for t in range(len(months))
    ]
    crew_load, crew_hours = crews
    with np.errstate(divide="ignore", invalid="ignore"):
        crew_util = np.where(
            crew_hours > 0, crew_load / crew_hours, np.where(crew_load > 0, np.inf, 0)
        )
    crew_rows = [
        CrewLoad(
            pool=model.pool_codes[q],
            month=months[t],
            crew_hours=float(crew_hours[q, t]),
            load_hours=float(crew_load[q, t]),
            utilisation=_finite(crew_util[q, t]),
            overloaded=bool(crew_util[q, t] > thresholds.overload),
        )
        for q in range(len(model.pools))
        for t in range(len(months))
    ]
    overloads = [
        OverloadRead(
            resource=codes[o.resource],
            month=months[o.month],
            load_hours=o.load,
            available_hours=o.available,
            utilisation=_finite(o.utilisation),
            products=[
                Contributor(
                    product=pairs.at[c.product, "product"],
                    site=pairs.at[c.product, "site"],
                    hours=c.hours,
                    share=c.share,
                )
                for c in o.top_products
            ],
        )
        for o in result.overloads
    ]
    unassigned = [
        Unassigned(
            product=pairs.at[p, "product"],
            site=pairs.at[p, "site"],
            quantity=float(model.requirement[p].sum()),
        )
        for p in result.unassigned_products
    ]
    return RoughCutRead(
        supply_plan_id=supply_plan_id,
        months=months,
        cells=cells,
        crews=crew_rows,
        overloads=overloads,
        unassigned=unassigned,
        warnings=model.warnings,
    )


def rough_cut_for_supply_plan(
    session: Session,
    supply: SupplyGateway,
    *,
    supply_plan_id: str,
    cycle: str | None,
    scenario: str | None,
    thresholds: Thresholds,
) -> RoughCutRead:
    """Fetch requirements first (no transaction is open yet), then read master data."""
    requirements = supply.production_requirements(supply_plan_id)
    if requirements.empty:
        raise Unprocessable(
            f"Supply plan {supply_plan_id} has no production requirements.",
            code="no-requirements",
        )
    master = load_master_data(
        session,
        products=requirements["product"].unique().tolist(),
        first_month=requirements["month"].min(),
        last_month=requirements["month"].max(),
        cycle=cycle,
        scenario=scenario,
    )
    model = build_model(requirements, master, rates=CostRates())
    result, crews = analyse(model, thresholds)
    return report(model, result, crews, supply_plan_id=supply_plan_id, thresholds=thresholds)
