"""Rough-cut capacity planning: load each product on its preferred method and compare.

RCCP answers "is the supply plan roughly doable?" before any optimisation, so it must be
cheap, explainable and name the products behind each overload.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from sop_capacity.planning.lp import Method, PlanningInputError, PlanningIssue

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]


@dataclass(frozen=True)
class Contributor:
    """A product's share of an overloaded resource-month."""

    product: int
    hours: float
    share: float


@dataclass(frozen=True)
class Overload:
    """One overloaded resource-month and the products that load it most."""

    resource: int
    month: int
    load: float
    available: float
    utilisation: float
    top_products: list[Contributor]


@dataclass(frozen=True)
class RccpResult:
    """[R,T] arrays plus the overload list (sorted by resource, then month).

    ``utilisation`` is load / available, ``inf`` where load meets zero capacity and 0 where
    both are zero. ``idle`` is only flagged where capacity exists. ``preferred_method`` gives
    each product's method index (-1 without one); ``unassigned_products`` have requirement but
    no method, so their load appears nowhere.
    """

    load: FloatArray
    available: FloatArray
    utilisation: FloatArray
    overloaded: BoolArray
    idle: BoolArray
    preferred_method: IntArray
    overloads: list[Overload] = field(default_factory=list)
    unassigned_products: list[int] = field(default_factory=list)


def preferred_methods(
    methods: Sequence[Method], n_products: int, *, allowed: BoolArray | None = None
) -> IntArray:
    """Lowest priority number wins; ties go to the cheaper, then the earlier method.

    Only methods flagged in ``allowed`` (default: all) compete; -1 where a product has none.
    """
    pref = np.full(n_products, -1, dtype=np.int64)
    if not methods:
        return pref
    prod = np.array([m.product for m in methods], dtype=np.int64)
    prio = np.array([m.priority for m in methods], dtype=np.float64)
    cost = np.array([m.cost_per_unit for m in methods], dtype=np.float64)
    idx = np.arange(len(methods)) if allowed is None else np.flatnonzero(allowed)
    if idx.size == 0:
        return pref
    order = idx[np.lexsort((idx, cost[idx], prio[idx], prod[idx]))]
    _, first = np.unique(prod[order], return_index=True)
    chosen = order[first]
    pref[prod[chosen]] = chosen
    return pref


def rough_cut(
    requirement: FloatArray | Sequence[Sequence[float]],
    methods: Sequence[Method],
    available_hours: FloatArray | Sequence[Sequence[float]],
    *,
    overload_threshold: float = 1.0,
    idle_threshold: float = 0.5,
    top_n: int = 3,
) -> RccpResult:
    """Load[R,T] = sum of hours_per_unit x requirement over each product's preferred method.

    A cell is overloaded when utilisation > ``overload_threshold`` and idle when it is below
    ``idle_threshold`` (both fractions of available hours).
    """
    req = np.asarray(requirement, dtype=np.float64)
    avail = np.asarray(available_hours, dtype=np.float64)
    issues: list[PlanningIssue] = []
    if req.ndim != 2 or avail.ndim != 2 or req.shape[1] != avail.shape[1]:
        raise PlanningInputError(
            [PlanningIssue(None, None, f"shapes {req.shape} and {avail.shape} do not match")]
        )
    n_p, n_t = req.shape
    n_r = avail.shape[0]
    for p, t in np.argwhere(~np.isfinite(req) | (req < 0))[:20]:
        issues.append(PlanningIssue(None, int(t), f"requirement < 0 for product {p}", int(p)))
    for r, t in np.argwhere(np.isnan(avail) | (avail < 0))[:20]:
        issues.append(PlanningIssue(int(r), int(t), f"available_hours < 0 for resource {r}"))
    for i, m in enumerate(methods):
        if not (0 <= m.product < n_p and 0 <= m.resource < n_r and m.hours_per_unit >= 0):
            issues.append(PlanningIssue(None, None, f"method {i} ({m}) is out of range"))
    if issues:
        raise PlanningInputError(issues)

    pref = preferred_methods(methods, n_p)
    has = np.flatnonzero(pref >= 0)
    res_of = np.array([methods[m].resource for m in pref[has]], dtype=np.int64)
    hpu = np.array([methods[m].hours_per_unit for m in pref[has]], dtype=np.float64)
    contrib = hpu[:, None] * req[has]  # [P_with_method, T]
    load = np.zeros((n_r, n_t))
    np.add.at(load, res_of, contrib)

    with np.errstate(divide="ignore", invalid="ignore"):
        util = np.where(avail > 0, load / avail, np.where(load > 0, np.inf, 0.0))
    overloaded = util > overload_threshold
    idle = (avail > 0) & (util < idle_threshold)

    overloads: list[Overload] = []
    for r, t in np.argwhere(overloaded):
        rows = np.flatnonzero(res_of == r)
        hours = contrib[rows, t]
        top = rows[np.argsort(-hours, kind="stable")[:top_n]]
        overloads.append(
            Overload(
                resource=int(r),
                month=int(t),
                load=float(load[r, t]),
                available=float(avail[r, t]),
                utilisation=float(util[r, t]),
                top_products=[
                    Contributor(
                        int(has[i]), float(contrib[i, t]), float(contrib[i, t] / load[r, t])
                    )
                    for i in top
                    if contrib[i, t] > 0
                ],
            )
        )
    unassigned = [int(p) for p in np.flatnonzero((pref < 0) & (req.sum(axis=1) > 0))]
    return RccpResult(load, avail, util, overloaded, idle, pref, overloads, unassigned)
