"""Executable quantities: a strategy's plan rounded to the ERP's lots after optimisation.

The LP and the heuristics plan in continuous units (``110.37302872212422``); the ERP
receives production orders. Every strategy's plan goes through ``executable`` before it is
compared, stored or sent, so the lines, the positions, the loads and the costs all describe
the plan the ERP will run.

Rule (``sop_shared.quantities``, the one supply applies to its planned receipts): each
production line (product-site x resource) is rounded month by month to the product-site's
lot: at least supply's minimum order (``moq``), a whole number of its lot multiple (whole
units without one), ordering in each month what brings the line's cumulative quantity up to
at least the plan's. A larger lot made early is netted off later months, so a line is never
later than the plan and over the horizon exceeds it by less than one lot (plus the
minimum). A product that uses a purchased material the LP planned is rounded the other
way (its cumulative orders never above the plan's), so rounding never uses material that
is not there. Magnitudes below 1e-6 (solver noise) are zero in every figure.

Effect, reported in ``Outcome.rounding`` (and the plan's ``totals.rounding``):
``units_added`` and ``hours_added`` over the horizon, ``cost_added`` (method cost, overtime
the extra hours need within the calendar's allowance, holding, backorder and safety-stock
shortfall, each priced as the LP prices it) and ``overloaded_cells_added``: resource-months
the extra hours push beyond the calendar plus its overtime allowance, which the loads then
flag as overloaded. Headcount, hires and fires are the strategy's.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from sop_capacity.planning import CostBreakdown
from sop_capacity.planning_input import CapacityModel, Positions
from sop_capacity.production_plans.models import Strategy
from sop_capacity.production_plans.strategies import (
    FloatArray,
    Outcome,
    ending_backorder_cost,
    overtime_rates,
    run_strategy,
)
from sop_shared.quantities import round_plan, snap


def _hours(model: CapacityModel, x: FloatArray) -> FloatArray:
    m = model.methods
    hours = np.zeros(model.available.shape)
    np.add.at(hours, m["r"].to_numpy(int), x * m["hours_per_unit"].to_numpy(float)[:, None])
    return hours


def _overloaded(model: CapacityModel, hours: FloatArray) -> np.ndarray:
    cap = model.capacity_limit()
    return np.isfinite(cap) & (hours > cap * (1 + 1e-6) + 1e-6)


def _position_costs(model: CapacityModel, pos: Positions) -> dict[str, float]:
    """Holding, backorder and shortfall cost of ``model.positions(...)``, as the LP prices them."""
    return {
        "holding": float((model.holding_cost[:, None] * pos.stock).sum()),
        "backorder": float(
            (model.backorder_cost[:, None] * pos.backorder).sum()
            + (ending_backorder_cost(model) * pos.backorder[:, -1]).sum()
        ),
        "shortfall": float((model.shortfall_cost[:, None] * pos.shortfall).sum()),
    }


def executable(model: CapacityModel, outcome: Outcome) -> Outcome:
    """The plan with every line rounded to lots and noise removed; costs and hours follow."""
    m = model.methods
    m_p = m["p"].to_numpy(int)
    x_old = snap(outcome.production_by_method)
    # A product that uses a purchased material the LP planned is rounded down: a lot above
    # the plan would use material that is not there (stock, open orders, contract maximum).
    uses_material = np.zeros(len(model.pairs), dtype=bool)
    if model.materials is not None:
        uses_material[np.asarray(model.materials.use_product, dtype=int)] = True
    x = round_plan(x_old, model.lot_minimum[m_p], model.lot_multiple[m_p], down=uses_material[m_p])
    production = np.zeros_like(outcome.production)
    np.add.at(production, m_p, x)
    hours = snap(_hours(model, x))

    # Extra hours above the calendar are overtime, within the allowance, as the LP pays it.
    overtime = outcome.overtime_hours
    if model.overtime_allowed:
        with np.errstate(invalid="ignore"):  # inf - inf: a crewed resource without calendar
            above = np.nan_to_num(np.maximum(hours - model.available, 0.0), nan=0.0)
        overtime = np.maximum(overtime, np.minimum(above, model.overtime_max))
    overtime = snap(overtime)

    pos = model.positions(production)
    before = _position_costs(model, model.positions(outcome.production))
    after = _position_costs(model, pos)
    costs = outcome.costs
    rounded = CostBreakdown(
        production=costs.production
        + float((m["cost_per_unit"].to_numpy(float)[:, None] * (x - x_old)).sum()),
        overtime=costs.overtime
        + float((overtime_rates(model)[:, None] * (overtime - outcome.overtime_hours)).sum()),
        holding=costs.holding + after["holding"] - before["holding"],
        backorder=costs.backorder + after["backorder"] - before["backorder"],
        shortfall=costs.shortfall + after["shortfall"] - before["shortfall"],
        labour=costs.labour,
        hiring=costs.hiring,
        firing=costs.firing,
    )
    return replace(
        outcome,
        production_by_method=x,
        production=snap(production),
        inventory=snap(pos.ahead),
        backorder=snap(pos.backorder),
        shortfall=snap(pos.shortfall),
        hours_used=hours,
        overtime_hours=overtime,
        headcount=snap(outcome.headcount),
        hires=snap(outcome.hires),
        fires=snap(outcome.fires),
        costs=CostBreakdown(**{k: float(snap(v)) for k, v in rounded.__dict__.items()}),
        rounding={
            "units_added": float(x.sum() - x_old.sum()),
            "hours_added": float(hours.sum() - _hours(model, x_old).sum()),
            "cost_added": rounded.total - costs.total,
            "overloaded_cells_added": int(
                (_overloaded(model, hours) & ~_overloaded(model, outcome.hours_used)).sum()
            ),
        },
    )


def run_executable(
    model: CapacityModel,
    strategy: Strategy,
    *,
    time_limit: float | None = None,
    threads: int | None = None,
) -> Outcome:
    """Plan with ``strategy``, then round the plan to lots (see the module docstring)."""
    return executable(model, run_strategy(model, strategy, time_limit=time_limit, threads=threads))
