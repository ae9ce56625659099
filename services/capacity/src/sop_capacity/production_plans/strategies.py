"""The three ways to plan production, each giving the same shape of result and costs.

``optimal`` is the LP. ``chase`` and ``level`` are the textbook aggregate strategies
(planning.heuristics) applied per crew: each labour pool is one aggregate in hours
(its products loaded on their preferred method), and so is each resource outside a pool
(one "worker" = one hour, so hiring costs nothing). Chase makes each month's net
requirement; level makes the horizon's requirement evenly (one crew, constant output,
backorders where the cumulative output falls behind). A product-month goes on the
product's preferred method while that resource has hours (calendar plus allowed overtime),
else on its next usable method, as a planner would move it. Both make what is needed and no
more: people a crew keeps beyond that (its minimum headcount) are paid and idle, as the
LP pays them, and a crew with no work at all is planned too (down to its minimum), so its
wages are in every strategy's cost. The aggregate hours are then shared back to products:
chase in proportion to each month's need, level in proportion to each product's share of
the horizon.

Costs are the LP's, component by component: method cost per unit, regular pay per head,
hiring and firing, overtime, holding on all stock held, backorders (plus the ending
backlog at the product's cheapest unit cost) and safety stock not rebuilt. Heuristics plan
no crew overtime, but hours above a resource's calendar are overtime, at the rate the LP
pays for it (the pool's on a crewed resource), up to the calendar's allowance; anything
beyond that is reported as overload (``overloaded_cells``, ``overload_hours``): textbook
chase and level make the requirement whatever the machines can give, so where they
overload their plan is not feasible and their cost is a lower bound.
Every strategy's positions follow the same soft safety-stock rule
(``CapacityModel.positions``), and in every strategy a product without a usable method
makes nothing: its requirement is backordered (``CapacityModel.unplannable`` says why).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
from numpy.typing import NDArray

from sop_capacity.planning import (
    AggregateProblem,
    CostBreakdown,
    PlanningInfeasibleError,
    PlanningInputError,
    PlanningIssue,
    PlanningSolveError,
    chase,
    check_problem,
    level,
    preferred_methods,
    solve_plan,
)
from sop_capacity.planning_input import CapacityModel
from sop_capacity.production_plans.models import Strategy

FloatArray = NDArray[np.float64]


class PlanRunError(Exception):
    """The plan cannot be computed; the message says why in a planner's words."""


@dataclass
class Outcome:
    """A plan in arrays: [M,T] per method, [P,T] per product-site, [R,T], [Q,T] per pool.

    ``inventory`` is stock built ahead of supply's plan, ``shortfall`` safety stock not
    rebuilt, ``backorder`` demand not yet made (month ends; see ``planning_input``).
    """

    strategy: str
    solve_status: str
    message: str
    production_by_method: FloatArray
    production: FloatArray
    inventory: FloatArray
    backorder: FloatArray
    shortfall: FloatArray
    hours_used: FloatArray
    overtime_hours: FloatArray
    headcount: FloatArray
    hires: FloatArray
    fires: FloatArray
    costs: CostBreakdown
    build_seconds: float = 0.0
    solve_seconds: float = 0.0
    model_size: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    rounding: dict[str, float] = field(default_factory=dict)  # see production_plans.lots
    materials: Any = None  # the LP's PlanResult when it planned materials (optimal only)

    def metrics(self, capacity: FloatArray) -> dict[str, Any]:
        """The figures a planner compares strategies on."""
        limit_ok = np.isfinite(capacity)
        over = self.hours_used > capacity * (1 + 1e-6) + 1e-6
        return {
            "costs": self.costs.as_dict(),
            "total_cost": self.costs.total,
            "production": float(self.production.sum()),
            "backordered_unit_months": float(self.backorder.sum()),
            "ending_backorder": float(self.backorder[:, -1].sum()),
            "safety_stock_shortfall_unit_months": float(self.shortfall.sum()),
            "overtime_hours": float(self.overtime_hours.sum()),
            "hires": float(self.hires.sum()),
            "fires": float(self.fires.sum()),
            "overloaded_cells": int(np.count_nonzero(over & limit_ok)),
            # hours planned beyond what the resources can give: a heuristic plan that
            # overloads is not feasible there, and its cost is then a lower bound
            "overload_hours": float(np.maximum(self.hours_used - capacity, 0.0)[limit_ok].sum()),
            "solve_status": self.solve_status,
            "rounding": self.rounding,
        }


def _checked(model: CapacityModel) -> list[str]:
    """Validate once for every strategy: refuse with the engine's words (resource, month)."""
    try:
        issues = check_problem(model.problem())
    except PlanningInputError as exc:
        raise PlanRunError(_issues_text(exc)) from exc
    return _engine_warnings(model, issues)


def _engine_warnings(model: CapacityModel, issues: list[PlanningIssue]) -> list[str]:
    """The engine's warnings, less those on unplannable products (the model's own warning
    says why in master-data terms: which routing, which calendar month)."""
    known = set(model.unplannable["p"].astype(int).tolist())
    return [i.message for i in issues if i.product is None or i.product not in known]


def _issues_text(exc: PlanningInputError) -> str:
    lines = [i.message for i in exc.issues[:10]]
    more = f" (+{len(exc.issues) - 10} more)" if len(exc.issues) > 10 else ""
    return f"{len(exc.issues)} problem(s) with the planning inputs: " + "; ".join(lines) + more


def optimal(
    model: CapacityModel, *, time_limit: float | None = None, threads: int | None = None
) -> Outcome:
    warnings = _checked(model)
    try:
        plan = solve_plan(model.problem(), time_limit=time_limit, threads=threads)
    except PlanningInfeasibleError as exc:
        raise PlanRunError(f"The solver found no plan ({exc.status}). {exc}") from exc
    except PlanningInputError as exc:
        raise PlanRunError(_issues_text(exc)) from exc
    except PlanningSolveError as exc:
        raise PlanRunError(f"The solver stopped without a plan ({exc.status}): {exc}") from exc
    return Outcome(
        strategy=Strategy.optimal,
        solve_status=plan.status,
        message=plan.message,
        production_by_method=plan.production_by_method,
        production=plan.production,
        # The LP's stock is the soft target's part plus the rest: report the rest.
        inventory=np.maximum(plan.inventory - model.cushion, 0.0),
        backorder=plan.backorder,
        shortfall=plan.shortfall,
        hours_used=plan.hours_used,
        overtime_hours=plan.overtime_hours,
        headcount=plan.headcount,
        hires=plan.hires,
        fires=plan.fires,
        costs=plan.costs,
        build_seconds=plan.build_seconds,
        solve_seconds=plan.solve_seconds,
        model_size={
            "variables": plan.n_variables,
            "constraints": plan.n_constraints,
            "nonzeros": plan.n_nonzeros,
            "methods": len(model.methods),
            **({"mip_gap": plan.mip_gap} if plan.mip_gap is not None else {}),
        },
        warnings=warnings
        + [w for w in _engine_warnings(model, plan.warnings) if w not in warnings],
        materials=plan if plan.material_stock is not None else None,
    )


def overtime_rates(model: CapacityModel) -> FloatArray:
    """[R] cost of an overtime hour as the LP charges it: the crew's rate on a crewed
    resource, the resource's own elsewhere."""
    rate = model.resources["overtime_hour_cost"].to_numpy(float).copy()
    for pool in model.pools:
        rate[list(pool.resources)] = pool.overtime_hour_cost
    return rate


def ending_backorder_cost(model: CapacityModel) -> FloatArray:
    """As the LP charges it: the product's cheapest unit cost, crew pay included."""
    rate = np.zeros(len(model.resources))
    for pool in model.pools:
        rate[list(pool.resources)] = pool.regular_hour_cost
    m = model.methods
    unit = (
        m["cost_per_unit"].to_numpy(float)
        + m["hours_per_unit"].to_numpy(float) * rate[m["r"].to_numpy(int)]
    )
    cheapest = np.full(len(model.pairs), np.inf)
    np.minimum.at(cheapest, m["p"].to_numpy(int), unit)
    return np.where(np.isfinite(cheapest), cheapest, 0.0)


def heuristic(model: CapacityModel, strategy: Strategy) -> Outcome:
    """Chase or level per crew, shared back to products on their preferred method."""
    warnings = _checked(model)
    run = chase if strategy == Strategy.chase else partial(level, no_backorders=False)
    methods = model.method_list()
    n_p, n_t = model.requirement.shape
    n_r, n_q = len(model.resources), len(model.pools)
    # Each product on its preferred usable method; one without any makes nothing (backorder).
    pref = preferred_methods(methods, n_p, allowed=model.usable_methods())
    has = pref >= 0
    m_res = model.methods["r"].to_numpy(int)
    m_hours = model.methods["hours_per_unit"].to_numpy(float)
    m_cost = model.methods["cost_per_unit"].to_numpy(float)
    res_p = np.full(n_p, -1, dtype=np.int64)
    res_p[has] = m_res[pref[has]]
    hpu_p = np.zeros(n_p)
    hpu_p[has] = m_hours[pref[has]]
    pool_of_r = model.resources["pool"].to_numpy(int)
    # Group: a pool q (0..Q-1) or Q + r for a resource outside any pool; -1 = needs no hours.
    group = np.where(
        has & (hpu_p > 0), np.where(pool_of_r[res_p] >= 0, pool_of_r[res_p], n_q + res_p), -1
    )
    need_h = model.requirement * hpu_p[:, None]  # [P,T]
    n_g = n_q + n_r
    demand_h = np.zeros((n_g, n_t))
    grouped = group >= 0
    np.add.at(demand_h, group[grouped], need_h[grouped])

    prod_h = np.zeros((n_g, n_t))
    headcount, hires, fires = np.zeros((n_q, n_t)), np.zeros((n_q, n_t)), np.zeros((n_q, n_t))
    labour = hiring = firing = 0.0
    # Every crew is planned (one without work goes down to its minimum and is paid for it);
    # a resource outside any pool only where it has work.
    working = demand_h.sum(axis=1) > 0
    working[:n_q] = True
    for g in np.flatnonzero(working):
        plan = run(_aggregate(model, int(g), demand_h[g]))
        prod_h[g] = plan.production
        if g < n_q:
            headcount[g], hires[g], fires[g] = plan.workforce, plan.hires, plan.fires
            labour += plan.costs.labour
            hiring += plan.costs.hiring
            firing += plan.costs.firing

    production = _share_back(strategy, model.requirement, need_h, group, prod_h, hpu_p)
    production[~has] = 0.0
    x = _on_methods(model, production, pref)
    hours_used = np.zeros((n_r, n_t))
    np.add.at(hours_used, m_res, x * m_hours[:, None])
    overtime = np.zeros((n_r, n_t))
    if model.overtime_allowed:
        with np.errstate(invalid="ignore"):  # inf - inf on a crewed resource with no calendar
            extra = np.nan_to_num(np.maximum(hours_used - model.available, 0.0), nan=0.0)
        overtime = np.minimum(extra, model.overtime_max)

    pos = model.positions(production)
    ot_cost = overtime_rates(model)
    costs = CostBreakdown(
        production=float((m_cost[:, None] * x).sum()),
        overtime=float((ot_cost[:, None] * overtime).sum()),
        holding=float((model.holding_cost[:, None] * pos.stock).sum()),
        backorder=float(
            (model.backorder_cost[:, None] * pos.backorder).sum()
            + (ending_backorder_cost(model) * pos.backorder[:, -1]).sum()
        ),
        shortfall=float((model.shortfall_cost[:, None] * pos.shortfall).sum()),
        labour=labour,
        hiring=hiring,
        firing=firing,
    )
    return Outcome(
        strategy=strategy,
        solve_status="heuristic",
        message=f"{strategy} strategy per crew (textbook aggregate plan)",
        production_by_method=x,
        production=production,
        inventory=pos.ahead,
        backorder=pos.backorder,
        shortfall=pos.shortfall,
        hours_used=hours_used,
        overtime_hours=overtime,
        headcount=headcount,
        hires=hires,
        fires=fires,
        costs=costs,
        warnings=warnings,
    )


def _on_methods(
    model: CapacityModel, production: FloatArray, pref: NDArray[np.int64]
) -> FloatArray:
    """[M,T] production on methods: each product-month on its preferred method while that
    resource has hours left (calendar plus allowed overtime, products in index order), the
    product-months beyond that on its next usable method, as a planner would move them."""
    n_p, n_t = production.shape
    m = model.methods
    x = np.zeros((len(m), n_t))
    has = np.flatnonzero(pref >= 0)
    x[pref[has]] = production[has]
    # Each product's next usable method after the preferred one (-1: none).
    usable = model.usable_methods()
    usable[pref[has]] = False
    second = preferred_methods(model.method_list(), n_p, allowed=usable)
    movable = has[second[has] >= 0]
    if movable.size == 0:
        return x
    m_res = m["r"].to_numpy(int)
    m_hours = m["hours_per_unit"].to_numpy(float)
    res = m_res[pref[movable]]
    order = np.lexsort((movable, res))
    p_sorted, r_sorted = movable[order], res[order]
    hours = m_hours[pref[p_sorted], None] * production[p_sorted]  # [Pm,T]
    # Hours already on each resource from products that cannot move.
    fixed = np.zeros(model.available.shape)
    np.add.at(fixed, m_res, x * m_hours[:, None])
    np.add.at(fixed, r_sorted, -hours)
    cum = np.cumsum(hours, axis=0)
    start = np.ones(p_sorted.size, dtype=bool)
    start[1:] = r_sorted[1:] != r_sorted[:-1]
    before = np.maximum.accumulate(np.where(start[:, None], cum - hours, 0.0), axis=0)
    room = model.capacity_limit()[r_sorted] - fixed[r_sorted]
    over = (cum - before > room * (1 + 1e-9) + 1e-9) & (hours > 0)
    rows, months = np.nonzero(over)
    p_over = p_sorted[rows]
    x[pref[p_over], months] = 0.0
    x[second[p_over], months] = production[p_over, months]
    return x


def _aggregate(model: CapacityModel, g: int, demand_hours: FloatArray) -> AggregateProblem:
    n_q = len(model.pools)
    if g >= n_q:  # a resource outside any pool: one "worker" is one hour, changes are free
        return AggregateProblem(
            demand=demand_hours, units_per_worker=1.0, initial_workforce=0.0, make_to_need=True
        )
    pool = model.pools[g]
    hpp = np.broadcast_to(np.asarray(pool.hours_per_person, dtype=float), demand_hours.shape)
    return AggregateProblem(
        demand=demand_hours,
        units_per_worker=hpp,
        initial_workforce=pool.headcount0,
        hire_cost=pool.hire_cost,
        fire_cost=pool.fire_cost,
        wage_per_worker=pool.regular_hour_cost * hpp,  # paid per head, as the LP charges it
        min_workforce=pool.min_headcount,
        make_to_need=True,
        max_workforce=pool.max_headcount if math.isfinite(pool.max_headcount) else math.inf,
    )


def _share_back(
    strategy: Strategy,
    requirement: FloatArray,
    need_h: FloatArray,
    group: NDArray[np.int64],
    prod_h: FloatArray,
    hpu: FloatArray,
) -> FloatArray:
    """Aggregate hours per group and month back to units per product."""
    production = requirement.copy()  # products needing no hours are made as required
    grouped = group >= 0
    if not grouped.any():
        return production
    g = group[grouped]
    need = need_h[grouped]
    total = need.sum(axis=1, keepdims=True)  # [Pg,1] horizon hours per product
    if strategy == Strategy.chase:
        weight = need.copy()
        group_need = np.zeros((prod_h.shape[0], need.shape[1]))
        np.add.at(group_need, g, need)
        empty = group_need[g] <= 0  # months with output but no need: horizon shares
        weight[empty] = np.broadcast_to(total, need.shape)[empty]
    else:
        weight = np.broadcast_to(total, need.shape).copy()
    weight_sum = np.zeros_like(prod_h)
    np.add.at(weight_sum, g, weight)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(weight_sum[g] > 0, weight / weight_sum[g], 0.0)
    production[grouped] = prod_h[g] * share / hpu[grouped][:, None]
    return production


def run_strategy(
    model: CapacityModel,
    strategy: Strategy,
    *,
    time_limit: float | None = None,
    threads: int | None = None,
) -> Outcome:
    if strategy == Strategy.optimal:
        return optimal(model, time_limit=time_limit, threads=threads)
    return heuristic(model, strategy)
