"""Turn a computed plan into table rows (vectorised) and write them with COPY.

Lines keep only cells where something is made; positions only product-months where
something happens; loads every resource-month (the review needs the idle ones too).
Magnitudes below 1e-6 are written as 0 and utilisation is rounded to 6 decimals, so float
noise never shows as a shortage or as ``utilisation 1.0000000000000002``.

A resource-month is **binding** (and so a bottleneck in the review) when it is used to at
least ``BINDING_SHARE`` (99.9 %) of its regular hours or of its capacity (regular plus the
overtime allowed), or its crew to 99.9 % of what its headcount can give (overtime share
included): the LP fills a line to 100 % only where that line limits the plan.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlmodel import Session

from sop_capacity.ingest import table_of
from sop_capacity.planning import RccpResult
from sop_capacity.planning_input import CapacityModel
from sop_capacity.production_plans import repository
from sop_capacity.production_plans.models import (
    ProductionPlanLine,
    ProductionPlanLoad,
    ProductionPlanMaterial,
    ProductionPlanPosition,
    ProductionPlanUnplannable,
)
from sop_capacity.production_plans.strategies import Outcome
from sop_shared.bulk import copy_rows
from sop_shared.quantities import TOLERANCE, snap

EPS = TOLERANCE
BINDING_SHARE = 0.999
"""Used share of a limit from which a resource-month is binding."""
UTILISATION_DECIMALS = 6
FloatArray = NDArray[np.float64]


@dataclass
class LoadFigures:
    """Per resource-month figures of a plan, also used for its headline totals."""

    capacity: FloatArray  # [R,T] regular + allowed overtime (inf where unlimited)
    binding: NDArray[np.bool_]
    overloaded: NDArray[np.bool_]
    utilisation: FloatArray  # nan where undefined
    crew_hours: FloatArray  # [R,T] on a pool's own resource row, nan elsewhere
    crew_used: FloatArray
    headcount: FloatArray
    hires: FloatArray
    fires: FloatArray


def _near_or_above(value: FloatArray, limit: FloatArray) -> NDArray[np.bool_]:
    """At least ``BINDING_SHARE`` of a finite, positive limit."""
    return np.isfinite(limit) & (limit > 0) & (value >= BINDING_SHARE * limit - TOLERANCE)


def load_figures(model: CapacityModel, outcome: Outcome) -> LoadFigures:
    n_r, n_t = model.available.shape
    capacity = model.capacity_limit()
    used = outcome.hours_used
    binding = _near_or_above(used, capacity) | _near_or_above(used, model.available)
    tol = 1e-6 * np.maximum(np.where(np.isfinite(capacity), capacity, 0.0), 1.0)
    overloaded = np.isfinite(capacity) & (used > capacity + tol)
    avail = model.available
    with np.errstate(divide="ignore", invalid="ignore"):
        utilisation = np.where(
            np.isfinite(avail) & (avail > 0),
            used / avail,
            np.where(np.isfinite(avail) & (used <= EPS), 0.0, np.nan),
        )
    utilisation = np.asarray(np.round(utilisation, UTILISATION_DECIMALS), dtype=np.float64)
    nan = np.full((n_r, n_t), np.nan)
    crew_hours, crew_used = nan.copy(), nan.copy()
    headcount, hires, fires = nan.copy(), nan.copy(), nan.copy()
    code_r = {c: r for r, c in enumerate(model.resource_codes)}
    for q, pool in enumerate(model.pools):
        own = code_r[model.pool_codes[q]]
        hpp = np.broadcast_to(np.asarray(pool.hours_per_person, dtype=float), (n_t,))
        share = pool.max_overtime_share if model.overtime_allowed else 0.0
        crew_hours[own] = outcome.headcount[q] * hpp
        crew_used[own] = used[list(pool.resources)].sum(axis=0)
        headcount[own], hires[own], fires[own] = (
            outcome.headcount[q],
            outcome.hires[q],
            outcome.fires[q],
        )
        crew_limit = crew_hours[own] * (1.0 + share)
        binding[own] |= _near_or_above(crew_used[own], crew_limit)
        overloaded[own] |= crew_used[own] > crew_limit * (1 + 1e-6) + 1e-6
    return LoadFigures(
        capacity, binding, overloaded, utilisation, crew_hours, crew_used, headcount, hires, fires
    )


def _opt(values: FloatArray) -> list[float | None]:
    """Floats with nan and inf as None (NULL)."""
    return [float(v) if np.isfinite(v) else None for v in values.ravel().tolist()]


def line_rows(
    plan_id: uuid.UUID, model: CapacityModel, outcome: Outcome
) -> Iterator[tuple[Any, ...]]:
    x = outcome.production_by_method
    m_idx, t_idx = np.nonzero(x > EPS)
    methods = model.methods
    qty = x[m_idx, t_idx]
    months = np.asarray(model.months, dtype=object)[t_idx]
    columns = zip(
        methods["product"].to_numpy(object)[m_idx].tolist(),
        methods["site"].to_numpy(object)[m_idx].tolist(),
        months.tolist(),
        methods["resource"].to_numpy(object)[m_idx].tolist(),
        qty.tolist(),
        snap(qty * methods["hours_per_unit"].to_numpy(float)[m_idx]).tolist(),
        snap(qty * methods["cost_per_unit"].to_numpy(float)[m_idx]).tolist(),
        strict=True,
    )
    for row in columns:
        yield (plan_id, *row)


LINE_COLUMNS = ["plan_id", *repository.LINE_COLUMNS]
POSITION_COLUMNS = ["plan_id", *repository.POSITION_COLUMNS]
MATERIAL_COLUMNS = ["plan_id", *repository.MATERIAL_COLUMNS]
BINDING_VALUE = 1e-6
"""A material whose shadow price is above this (per unit) limits the plan: the LP's own tie
costs (MATERIAL_TIEBREAK) are below it."""


def binding_materials(model: CapacityModel, outcome: Outcome) -> NDArray[np.bool_]:
    """[K,T] material-site-months that limit the plan (more would make it cheaper)."""
    plan = outcome.materials
    if plan is None or model.materials is None:
        return np.zeros((0, len(model.months)), dtype=bool)
    return np.asarray(plan.material_value > BINDING_VALUE)


def short_of(model: CapacityModel, outcome: Outcome) -> list[str | None]:
    """Per product-site the materials that limit it (material@site, space-separated), for
    a product with a backorder or safety stock not rebuilt; None elsewhere. A material
    limits a product when the product uses it and it is binding in some month up to the
    product's last such month."""
    n_p = len(model.pairs)
    out: list[str | None] = [None] * n_p
    mats = model.materials
    binding = binding_materials(model, outcome)
    if mats is None or not binding.any():
        return out
    late = (outcome.backorder > EPS) | (outcome.shortfall > EPS)  # [P,T]
    if not late.any():
        return out
    last_late = np.where(late.any(axis=1), late.shape[1] - 1 - np.argmax(late[:, ::-1], axis=1), -1)
    first_binding = np.where(binding.any(axis=1), np.argmax(binding, axis=1), binding.shape[1])
    prod = np.asarray(mats.use_product, dtype=np.int64)
    mat = np.asarray(mats.use_material, dtype=np.int64)
    hit = (last_late[prod] >= 0) & (first_binding[mat] <= last_late[prod])
    names = np.asarray(mats.names, dtype=object)
    found: dict[int, list[str]] = {}
    for p, k in zip(prod[hit].tolist(), mat[hit].tolist(), strict=True):
        found.setdefault(p, []).append(str(names[k]))
    for p, codes in found.items():
        out[p] = " ".join(sorted(set(codes)))[:1000]
    return out


def material_rows(
    plan_id: uuid.UUID, model: CapacityModel, outcome: Outcome
) -> Iterator[tuple[Any, ...]]:
    plan, mats = outcome.materials, model.materials
    if plan is None or mats is None:
        return
    n_k, n_t = plan.material_stock.shape
    k_idx, t_idx = np.divmod(np.arange(n_k * n_t), n_t)
    closing = plan.material_stock
    opening = np.concatenate([np.asarray(mats.opening, float)[:, None], closing[:, :-1]], axis=1)
    columns = zip(
        model.material_rows["material"].to_numpy(object)[k_idx].tolist(),
        model.material_rows["site"].to_numpy(object)[k_idx].tolist(),
        np.asarray(model.months, dtype=object)[t_idx].tolist(),
        opening.ravel().tolist(),
        np.asarray(mats.receipts, float).ravel().tolist(),
        plan.material_purchases.ravel().tolist(),
        plan.material_use.ravel().tolist(),
        closing.ravel().tolist(),
        plan.material_value.ravel().tolist(),
        binding_materials(model, outcome).ravel().tolist(),
        strict=True,
    )
    for row in columns:
        yield (plan_id, *row)


LOAD_COLUMNS = [
    "plan_id",
    "resource",
    "month",
    "available_hours",
    "capacity_hours",
    "rccp_load_hours",
    "rccp_utilisation",
    "hours_used",
    "regular_hours",
    "overtime_hours",
    "utilisation",
    "binding",
    "overloaded",
    "unavailable",
    "crew_hours",
    "crew_hours_used",
    "headcount",
    "hires",
    "fires",
]


def position_rows(
    plan_id: uuid.UUID, model: CapacityModel, outcome: Outcome
) -> Iterator[tuple[Any, ...]]:
    req, prod = snap(model.requirement), snap(outcome.production)
    inv, bo, short = snap(outcome.inventory), snap(outcome.backorder), snap(outcome.shortfall)
    safety = snap(model.safety_stock)
    keep = (req > EPS) | (prod > EPS) | (inv > EPS) | (bo > EPS) | (short > EPS)
    p_idx, t_idx = np.nonzero(keep)
    reasons = np.asarray(short_of(model, outcome), dtype=object)
    short_cell = (bo[p_idx, t_idx] > EPS) | (short[p_idx, t_idx] > EPS)
    reason = np.where(short_cell, reasons[p_idx], None)
    columns = zip(
        model.pairs["product"].to_numpy(object)[p_idx].tolist(),
        model.pairs["site"].to_numpy(object)[p_idx].tolist(),
        np.asarray(model.months, dtype=object)[t_idx].tolist(),
        req[p_idx, t_idx].tolist(),
        prod[p_idx, t_idx].tolist(),
        inv[p_idx, t_idx].tolist(),
        bo[p_idx, t_idx].tolist(),
        safety[p_idx, t_idx].tolist(),
        short[p_idx, t_idx].tolist(),
        reason.tolist(),
        strict=True,
    )
    for row in columns:
        yield (plan_id, *row)


UNPLANNABLE_COLUMNS = ["plan_id", "product", "site", "requirement", "reason"]


def unplannable_rows(plan_id: uuid.UUID, model: CapacityModel) -> Iterator[tuple[Any, ...]]:
    u = model.unplannable
    columns = zip(
        u["product"].tolist(),
        u["site"].tolist(),
        u["requirement"].astype(float).tolist(),
        [str(r)[:1000] for r in u["reason"].tolist()],
        strict=True,
    )
    for row in columns:
        yield (plan_id, *row)


def load_rows(
    plan_id: uuid.UUID,
    model: CapacityModel,
    outcome: Outcome,
    before: RccpResult,
    figures: LoadFigures,
) -> Iterator[tuple[Any, ...]]:
    n_r, n_t = model.available.shape
    r_idx, t_idx = np.divmod(np.arange(n_r * n_t), n_t)
    rccp_util = np.where(
        np.isfinite(model.available),
        np.round(before.utilisation, UTILISATION_DECIMALS),
        np.nan,
    )
    used, overtime = snap(outcome.hours_used), snap(outcome.overtime_hours)
    regular = snap(np.maximum(used - overtime, 0.0))
    columns = zip(
        np.asarray(model.resource_codes, dtype=object)[r_idx].tolist(),
        np.asarray(model.months, dtype=object)[t_idx].tolist(),
        _opt(model.available),
        _opt(figures.capacity),
        snap(before.load).ravel().tolist(),
        _opt(rccp_util),
        used.ravel().tolist(),
        regular.ravel().tolist(),
        overtime.ravel().tolist(),
        _opt(figures.utilisation),
        figures.binding.ravel().tolist(),
        figures.overloaded.ravel().tolist(),
        model.unavailable.ravel().tolist(),
        _opt(figures.crew_hours),
        _opt(figures.crew_used),
        _opt(figures.headcount),
        _opt(figures.hires),
        _opt(figures.fires),
        strict=True,
    )
    for row in columns:
        yield (plan_id, *row)


def write_detail(
    session: Session,
    plan_id: uuid.UUID,
    model: CapacityModel,
    outcome: Outcome,
    before: RccpResult,
    figures: LoadFigures,
) -> dict[str, int]:
    """COPY the plan's rows in the session's transaction; returns the row counts."""
    return {
        "lines": copy_rows(
            session, table_of(ProductionPlanLine), LINE_COLUMNS, line_rows(plan_id, model, outcome)
        ),
        "positions": copy_rows(
            session,
            table_of(ProductionPlanPosition),
            POSITION_COLUMNS,
            position_rows(plan_id, model, outcome),
        ),
        "loads": copy_rows(
            session,
            table_of(ProductionPlanLoad),
            LOAD_COLUMNS,
            load_rows(plan_id, model, outcome, before, figures),
        ),
        "materials": copy_rows(
            session,
            table_of(ProductionPlanMaterial),
            MATERIAL_COLUMNS,
            material_rows(plan_id, model, outcome),
        ),
        "unplannable": copy_rows(
            session,
            table_of(ProductionPlanUnplannable),
            UNPLANNABLE_COLUMNS,
            unplannable_rows(plan_id, model),
        ),
    }
