"""Textbook aggregate-planning strategies for one product family and one crew.

Chase and level are what planners compare the LP against in the S&OP meeting ("why not just
hire to demand?"), so they return the same cost breakdown as the LP.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from sop_capacity.planning.lp import CostBreakdown, PlanningInputError, PlanningIssue

FloatArray = NDArray[np.float64]
_EPS = 1e-9


@dataclass(frozen=True)
class AggregateProblem:
    """One family, one crew. Costs: hire/fire per worker, holding/backorder per unit-month
    on the month-end position, wage per worker-month (regular time), unit_cost per unit made.

    ``units_per_worker`` is output per worker per month and ``wage_per_worker`` a worker's
    regular pay for the month (each a scalar or [T]: months with fewer working days give
    less output and, for people paid by the day, less pay).
    ``integer_workers`` rounds headcount up to whole people, as Nahmias does, so the crew
    never makes less than the month needs.
    ``make_to_need`` caps output at what is needed (chase: the month's net requirement;
    level: the horizon's requirement spread evenly): people the plan keeps beyond that (a
    headcount floor, whole people) are paid but idle, as in the LP, instead of making stock
    nobody asked for. Without it they work at full rate (the textbook examples).
    """

    demand: Sequence[float] | FloatArray
    units_per_worker: float | Sequence[float] | FloatArray
    initial_workforce: float
    initial_inventory: float = 0.0
    hire_cost: float = 0.0
    fire_cost: float = 0.0
    holding_cost: float = 0.0
    backorder_cost: float = 0.0
    wage_per_worker: float | Sequence[float] | FloatArray = 0.0
    unit_cost: float = 0.0
    min_workforce: float = 0.0
    max_workforce: float = math.inf
    integer_workers: bool = False
    make_to_need: bool = False


@dataclass(frozen=True)
class AggregatePlan:
    """Month-by-month plan; inventory/backorder are month-end positions."""

    strategy: str
    production: FloatArray
    workforce: FloatArray
    hires: FloatArray
    fires: FloatArray
    inventory: FloatArray
    backorder: FloatArray
    costs: CostBreakdown


def _inputs(problem: AggregateProblem) -> tuple[FloatArray, FloatArray, FloatArray]:
    demand = np.asarray(problem.demand, dtype=np.float64)
    issues: list[PlanningIssue] = []
    if demand.ndim != 1 or demand.size == 0:
        issues.append(PlanningIssue(None, None, "demand must be a non-empty [T] sequence"))
        raise PlanningInputError(issues)
    per_month = {}
    for name in ("units_per_worker", "wage_per_worker"):
        try:
            per_month[name] = np.array(
                np.broadcast_to(getattr(problem, name), demand.shape), dtype=np.float64
            )
        except ValueError:
            raise PlanningInputError(
                [PlanningIssue(None, None, f"{name} must be a scalar or match demand")]
            ) from None
    k, wage = per_month["units_per_worker"], per_month["wage_per_worker"]
    for t in np.flatnonzero(~np.isfinite(demand) | (demand < 0)):
        issues.append(PlanningIssue(None, int(t), f"demand in month {t} must be >= 0"))
    for t in np.flatnonzero(~np.isfinite(k) | (k <= 0)):
        issues.append(PlanningIssue(None, int(t), f"units_per_worker in month {t} must be > 0"))
    for t in np.flatnonzero(~np.isfinite(wage) | (wage < 0)):
        issues.append(PlanningIssue(None, int(t), f"wage_per_worker in month {t} must be >= 0"))
    scalars = {
        "initial_workforce": problem.initial_workforce,
        "initial_inventory": problem.initial_inventory,
        "hire_cost": problem.hire_cost,
        "fire_cost": problem.fire_cost,
        "holding_cost": problem.holding_cost,
        "backorder_cost": problem.backorder_cost,
        "unit_cost": problem.unit_cost,
        "min_workforce": problem.min_workforce,
    }
    for name, value in scalars.items():
        if not (math.isfinite(value) and value >= 0):
            issues.append(PlanningIssue(None, None, f"{name} must be finite and >= 0"))
    if not problem.max_workforce >= problem.min_workforce:
        issues.append(PlanningIssue(None, None, "max_workforce must be >= min_workforce"))
    if issues:
        raise PlanningInputError(issues)
    return demand, k, wage


def _headcount(problem: AggregateProblem, workers: float) -> float:
    if problem.integer_workers:
        workers = math.ceil(workers - _EPS)
    return float(min(max(workers, problem.min_workforce), problem.max_workforce))


def _finish(
    strategy: str,
    problem: AggregateProblem,
    demand: FloatArray,
    wage: FloatArray,
    workforce: FloatArray,
    production: FloatArray,
) -> AggregatePlan:
    """Derive hires/fires and month-end positions, then cost the plan."""
    change = np.diff(workforce, prepend=problem.initial_workforce)
    hires, fires = np.maximum(change, 0.0), np.maximum(-change, 0.0)
    position = problem.initial_inventory + np.cumsum(production - demand)
    inventory, backorder = np.maximum(position, 0.0), np.maximum(-position, 0.0)
    costs = CostBreakdown(
        production=problem.unit_cost * float(production.sum()),
        holding=problem.holding_cost * float(inventory.sum()),
        backorder=problem.backorder_cost * float(backorder.sum()),
        labour=float((wage * workforce).sum()),
        hiring=problem.hire_cost * float(hires.sum()),
        firing=problem.fire_cost * float(fires.sum()),
    )
    return AggregatePlan(strategy, production, workforce, hires, fires, inventory, backorder, costs)


def chase(problem: AggregateProblem) -> AggregatePlan:
    """Hire and fire so each month's output meets that month's net requirement.

    Net requirement = demand + backlog - stock on hand, so opening stock is used up first.
    Workers produce at full rate, so rounding up to whole people (or a headcount floor) can
    leave stock, which the next month nets off, unless ``make_to_need`` (then they make the
    net requirement and the rest of their time is idle); a headcount ceiling leaves backlog.
    """
    demand, k, wage = _inputs(problem)
    n_t = demand.size
    workforce, production = np.zeros(n_t), np.zeros(n_t)
    position = problem.initial_inventory
    for t in range(n_t):
        net = max(demand[t] - position, 0.0)
        workforce[t] = _headcount(problem, net / k[t])
        production[t] = workforce[t] * k[t]
        if problem.make_to_need:
            production[t] = min(production[t], net)
        position += production[t] - demand[t]
    return _finish("chase", problem, demand, wage, workforce, production)


def level(problem: AggregateProblem, *, no_backorders: bool = True) -> AggregatePlan:
    """Keep one headcount all horizon; inventory absorbs the gap between output and demand.

    The base crew makes the total net requirement over the horizon (total / T per month when
    output per worker is constant). With ``no_backorders`` the crew is raised to the smallest
    level that never runs short (max over t of cumulative net need / cumulative output per
    worker), so the plan ends without backorders unless ``max_workforce`` prevents it.
    With ``make_to_need`` the crew's output stays at that rate when a headcount floor or
    whole people give it more people than the rate needs (they are paid, and idle).
    """
    demand, k, wage = _inputs(problem)
    cum_need = np.cumsum(demand) - problem.initial_inventory
    cum_k = np.cumsum(k)
    workers = max(float(cum_need[-1] / cum_k[-1]), 0.0)
    if no_backorders:
        workers = max(workers, float(np.max(cum_need / cum_k)))
    crew = _headcount(problem, workers)
    workforce = np.full(demand.size, crew)
    working = min(crew, workers) if problem.make_to_need else crew
    return _finish("level", problem, demand, wage, workforce, working * k)
