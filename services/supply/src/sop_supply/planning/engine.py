"""Supply-plan netting, lot sizing, exceptions and BOM explosion over item-sites × months.

Everything is numpy on whole arrays: the only Python loop is over the months of the horizon,
because netting with lot sizing is sequential in time (month t's opening stock is month t-1's
closing stock, which depends on the lot planned in t-1).

Semantics (chosen here, relied on by the service and its tests):

* **Backorders are carried.** Unmet demand is not lost: closing stock may go negative, the
  negative part is the backlog and is reported as ``shortage = max(0, -closing)``, and the
  next month opens with that negative stock, so the next plannable receipt covers the backlog
  as well as the month's own demand and safety stock.
* **Netting.** Projected stock before planning is ``opening + scheduled − demand``; the net
  requirement is ``max(0, safety_stock − projected)``; a positive net requirement is lot-sized
  to ``max(moq, ceil(net / multiple) × multiple)``, in whole units when the multiple is 0
  (``sop_shared.quantities.lot_size``: the rule capacity applies to its production lines).
  Net requirements within ``QTY_TOLERANCE`` are treated as zero, so float noise never triggers
  an MOQ-sized order, and projected stock within it is zero (no ``4e-12`` shortages).
* **Frozen zone inside the lead time.** A receipt due in month t needs its release in month
  t − lead_time. For items in the frozen set (by default *buy* items, ``frozen="buy"``) no
  receipt is planned in months t < lead_time: the supplier cannot deliver sooner, so the gap
  shows as a shortage / below-safety-stock cell and is covered at the first month outside the
  frozen zone (textbook MRP time fence). Items outside the frozen set (by default unconstrained
  *make* items, which can be expedited in house) are planned at their due month anyway and the
  cell is flagged ``release_past_due``; their release is not in ``planned_releases`` (it would
  fall before month 0), see ``PlanningResult.releases_with_past_due``.
* **Constrained production.** When ``constrained_production`` is given, make items receive
  exactly that quantity (a capacity-feasible plan, no lot sizing, no frozen zone); the
  shortfall against demand shows as shortage / below-safety-stock. Buy items ignore it.
  A NaN cell means "not constrained": that make item is netted and lot-sized as usual in
  that month (for items the capacity plan does not cover).
* **Constrained purchases.** ``constrained_purchases`` does the same for buy items: a
  material whose purchases the capacity plan fixed (within its contract maximum and lead
  time, see capacity's material-feasible plan) receives exactly them; NaN = netted as usual.
* **Stock measures.** ``excess = max(0, closing − max_stock)``; ``days_of_supply`` is closing
  stock / average daily demand of the next ``dos_window_months`` months (30.4 days a month,
  flat extrapolation beyond the horizon; 0 when closing <= 0, ``inf`` when there is stock but
  no forward demand); ``inventory_value = max(closing, 0) × unit_cost`` (a backlog has no
  value); ``holding_cost = inventory_value × holding_cost_rate / 12`` (annual rate, charged on
  month-end stock).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from sop_shared.quantities import TOLERANCE, lot_size
from sop_supply.planning.safety_stock import DAYS_PER_MONTH, forward_demand, per_cell

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

QTY_TOLERANCE = TOLERANCE
"""Quantities whose magnitude is below this are zero (guards lot sizing against float noise)."""

FrozenItems = Literal["buy", "all", "none"]

EXCEPTION_KINDS = (
    "stockout",
    "below_safety_stock",
    "above_max",
    "shelf_life_at_risk",
    "release_past_due",
)


class BomCycleError(ValueError):
    """A bill of materials contains a cycle, so no explosion order (low-level code) exists."""

    def __init__(self, path: Sequence[Hashable]) -> None:
        self.path = list(path)
        super().__init__("BOM cycle: " + " -> ".join(str(node) for node in self.path))


def _vector(value: npt.ArrayLike, n: int, name: str, dtype: type = np.float64) -> np.ndarray:
    arr: np.ndarray = np.asarray(value, dtype=dtype)
    if arr.ndim == 0:
        arr = np.full(n, arr, dtype=dtype)
    if arr.shape != (n,):
        raise ValueError(f"{name}: expected shape ({n},), got {arr.shape}")
    return arr


def _nonneg(arr: np.ndarray, name: str, *, allow_inf: bool = False) -> None:
    bad = np.isnan(arr) | (arr < 0)
    if not allow_inf:
        bad |= np.isinf(arr)
    if bad.any():
        raise ValueError(f"{name}: must be {'>= 0' if allow_inf else 'finite and >= 0'}")


@dataclass(frozen=True, slots=True)
class PlanningInput:
    """Inputs for ``plan_supply``: N item-sites × T months, validated and normalised.

    Time-phased fields accept a scalar, ``[N]`` (same every month) or ``[N, T]`` and are
    stored as ``[N, T]`` float64; every field is a numpy array after construction (the
    annotations say what the constructor accepts). ``on_hand`` is the opening stock the
    caller computed (on hand + in transit − quality hold). ``lead_time`` is whole months.
    ``is_make`` is boolean (True = make, False = buy). ``lot_multiple`` 0 means no multiple.
    ``shelf_life_months`` 0 or NaN means no shelf life. ``max_stock`` ``inf`` means no maximum.
    """

    demand: npt.ArrayLike
    on_hand: npt.ArrayLike
    safety_stock: npt.ArrayLike
    lead_time: npt.ArrayLike
    is_make: npt.ArrayLike
    scheduled_receipts: npt.ArrayLike = 0.0
    max_stock: npt.ArrayLike = np.inf
    moq: npt.ArrayLike = 0.0
    lot_multiple: npt.ArrayLike = 0.0
    unit_cost: npt.ArrayLike = 0.0
    holding_cost_rate: npt.ArrayLike = 0.0
    shelf_life_months: npt.ArrayLike = np.nan
    constrained_production: npt.ArrayLike | None = None
    constrained_purchases: npt.ArrayLike | None = None
    n: int = field(init=False)
    t: int = field(init=False)

    def __post_init__(self) -> None:
        demand = np.asarray(self.demand, dtype=np.float64)
        if demand.ndim != 2 or demand.shape[1] == 0:
            raise ValueError(f"demand: expected [N, T] with T >= 1, got shape {demand.shape}")
        if not np.isfinite(demand).all():
            raise ValueError("demand: must be finite")
        n, t = demand.shape
        cell = {
            name: per_cell(getattr(self, name), n, t, name)
            for name in ("scheduled_receipts", "safety_stock", "max_stock")
        }
        _nonneg(cell["scheduled_receipts"], "scheduled_receipts")
        _nonneg(cell["safety_stock"], "safety_stock")
        _nonneg(cell["max_stock"], "max_stock", allow_inf=True)
        on_hand = _vector(self.on_hand, n, "on_hand")
        if not np.isfinite(on_hand).all():
            raise ValueError("on_hand: must be finite")
        lead_raw = _vector(self.lead_time, n, "lead_time")
        _nonneg(lead_raw, "lead_time")
        if (lead_raw != np.round(lead_raw)).any():
            raise ValueError("lead_time: must be whole months")
        vec = {
            name: _vector(getattr(self, name), n, name)
            for name in ("moq", "lot_multiple", "unit_cost", "holding_cost_rate")
        }
        for name, arr in vec.items():
            _nonneg(arr, name)
        shelf = _vector(self.shelf_life_months, n, "shelf_life_months")
        if (shelf < 0).any() or np.isinf(shelf).any():
            raise ValueError("shelf_life_months: must be >= 0, 0 or NaN for none")
        constrained = None
        if self.constrained_production is not None:
            constrained = per_cell(self.constrained_production, n, t, "constrained_production")
            _nonneg(np.nan_to_num(constrained, nan=0.0), "constrained_production")
        purchases = None
        if self.constrained_purchases is not None:
            purchases = per_cell(self.constrained_purchases, n, t, "constrained_purchases")
            _nonneg(np.nan_to_num(purchases, nan=0.0), "constrained_purchases")
        is_make = np.asarray(self.is_make)
        if is_make.dtype.kind not in "biu" or not np.isin(is_make, (0, 1)).all():
            raise ValueError("is_make: expected booleans (True = make, False = buy)")
        values: dict[str, object] = {
            "demand": demand,
            "on_hand": on_hand,
            "lead_time": lead_raw.astype(np.int64),
            "is_make": _vector(is_make, n, "is_make", dtype=np.bool_),
            "shelf_life_months": np.where(np.isnan(shelf), 0.0, shelf),
            "constrained_production": constrained,
            "constrained_purchases": purchases,
            "n": n,
            "t": t,
            **cell,
            **vec,
        }
        for name, value in values.items():
            object.__setattr__(self, name, value)


@dataclass(frozen=True, slots=True)
class PlanningResult:
    """Per item-site × month outputs of ``plan_supply``; every array is ``[N, T]``."""

    demand: FloatArray
    opening_stock: FloatArray
    scheduled_receipts: FloatArray
    planned_receipts: FloatArray
    planned_releases: FloatArray
    release_past_due: BoolArray
    closing_stock: FloatArray
    shortage: FloatArray
    excess: FloatArray
    days_of_supply: FloatArray
    inventory_value: FloatArray
    holding_cost: FloatArray

    def releases_with_past_due(self) -> FloatArray:
        """Planned releases with past-due releases added to month 0 (they are due now).

        Use this, not ``planned_releases``, to explode component demand if the past-due
        orders will really be launched, so their materials are not silently dropped.
        """
        out = self.planned_releases.copy()
        past_due = np.where(self.release_past_due, self.planned_receipts, 0.0).sum(axis=1)
        out[:, 0] += past_due
        return out


def _frozen_mask(inputs: PlanningInput, frozen: FrozenItems) -> BoolArray:
    is_make = np.asarray(inputs.is_make, dtype=np.bool_)
    if frozen == "buy":
        return ~is_make
    if frozen == "all":
        return np.ones(inputs.n, dtype=np.bool_)
    if frozen == "none":
        return np.zeros(inputs.n, dtype=np.bool_)
    raise ValueError(f"frozen: expected 'buy', 'all' or 'none', got {frozen!r}")


def plan_supply(
    inputs: PlanningInput,
    *,
    frozen: FrozenItems = "buy",
    dos_window_months: float = 3.0,
    days_per_month: float = DAYS_PER_MONTH,
) -> PlanningResult:
    """Net demand against stock and open orders, lot-size the gaps, offset by lead time.

    See the module docstring for the backorder, frozen-zone and constrained-production rules.
    """
    n, t = inputs.n, inputs.t
    lead = np.asarray(inputs.lead_time, dtype=np.int64)
    moq = np.asarray(inputs.moq, dtype=np.float64)
    multiple = np.asarray(inputs.lot_multiple, dtype=np.float64)
    frozen_items = _frozen_mask(inputs, frozen)
    # Month-major copies: each step of the loop then reads/writes contiguous rows.
    demand = np.asarray(inputs.demand, dtype=np.float64)
    demand_tm = np.ascontiguousarray(demand.T)
    sched_tm = np.ascontiguousarray(np.asarray(inputs.scheduled_receipts).T)
    ss_tm = np.ascontiguousarray(np.asarray(inputs.safety_stock).T)
    constrained_tm = constrained_mask_tm = None
    make_rows = np.asarray(inputs.is_make, dtype=np.bool_)
    if inputs.constrained_production is not None:
        constrained_tm = np.ascontiguousarray(np.asarray(inputs.constrained_production).T)
        constrained_mask_tm = make_rows[None, :] & ~np.isnan(constrained_tm)
    if inputs.constrained_purchases is not None:
        bought_tm = np.ascontiguousarray(np.asarray(inputs.constrained_purchases).T)
        bought_mask_tm = ~make_rows[None, :] & ~np.isnan(bought_tm)
        if constrained_tm is None or constrained_mask_tm is None:
            constrained_tm, constrained_mask_tm = bought_tm, bought_mask_tm
        else:
            constrained_tm = np.where(bought_mask_tm, bought_tm, constrained_tm)
            constrained_mask_tm = constrained_mask_tm | bought_mask_tm
    opening_tm = np.empty((t, n))
    closing_tm = np.empty((t, n))
    planned_tm = np.empty((t, n))
    stock = np.asarray(inputs.on_hand, dtype=np.float64).copy()
    projected = np.empty(n)
    net = np.empty(n)
    for month in range(t):
        opening_tm[month] = stock
        np.add(stock, sched_tm[month], out=projected)
        projected -= demand_tm[month]
        np.subtract(ss_tm[month], projected, out=net)
        # Lot sizing: the multiple (whole units without one), then the MOQ; 0 within noise.
        lot = lot_size(net, moq, multiple)
        plannable = ~(frozen_items & (lead > month))
        planned = planned_tm[month]
        np.multiply(lot, plannable, out=planned)
        if constrained_tm is not None and constrained_mask_tm is not None:
            np.copyto(planned, constrained_tm[month], where=constrained_mask_tm[month])
        np.add(projected, planned, out=stock)
        stock[np.abs(stock) < QTY_TOLERANCE] = 0.0
        closing_tm[month] = stock

    planned_receipts = np.ascontiguousarray(planned_tm.T)
    closing = np.ascontiguousarray(closing_tm.T)
    releases, past_due = _offset_by_lead_time(planned_receipts, lead)
    shortage = np.maximum(-closing, 0.0)
    excess = np.maximum(closing - np.asarray(inputs.max_stock), 0.0)
    dos = _days_of_supply(closing, demand, dos_window_months, days_per_month)
    value = np.maximum(closing, 0.0) * np.asarray(inputs.unit_cost)[:, None]
    holding = value * (np.asarray(inputs.holding_cost_rate)[:, None] / 12.0)
    return PlanningResult(
        demand=demand,
        opening_stock=np.ascontiguousarray(opening_tm.T),
        scheduled_receipts=np.ascontiguousarray(inputs.scheduled_receipts, dtype=np.float64),
        planned_receipts=planned_receipts,
        planned_releases=releases,
        release_past_due=past_due,
        closing_stock=closing,
        shortage=shortage,
        excess=excess,
        days_of_supply=dos,
        inventory_value=value,
        holding_cost=holding,
    )


def _offset_by_lead_time(receipts: FloatArray, lead: IntArray) -> tuple[FloatArray, BoolArray]:
    """Shift each row's receipts ``lead`` months earlier; flag receipts released before 0."""
    n, t = receipts.shape
    releases = np.zeros_like(receipts)
    release_month = np.arange(t)[None, :] - lead[:, None]
    ordered = receipts != 0
    past_due = ordered & (release_month < 0)
    rows, cols = np.nonzero(ordered & ~past_due)
    releases[rows, cols - lead[rows]] = receipts[rows, cols]
    return releases, past_due


def _days_of_supply(
    closing: FloatArray, demand: FloatArray, window: float, days_per_month: float
) -> FloatArray:
    if window <= 0:
        raise ValueError("dos_window_months must be > 0")
    daily = forward_demand(demand, window)
    daily *= 1.0 / (window * days_per_month)
    positive = daily > 0
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        dos = np.divide(closing, daily, out=np.full_like(closing, np.inf), where=positive)
    dos[closing <= 0] = 0.0
    return dos


def find_exceptions(inputs: PlanningInput, result: PlanningResult) -> pd.DataFrame:
    """Exception messages for planners: one row per (item-site, month, kind), with a size.

    Kinds: ``stockout`` (closing < 0, size = backlog), ``below_safety_stock`` (0 <= closing
    < safety stock, size = gap; a stockout cell is not reported twice), ``above_max``
    (closing > max stock, size = excess), ``shelf_life_at_risk`` (item-sites with a shelf
    life only: closing stock exceeds the demand of the next shelf-life months, so some of it
    would age out before it is consumed, FIFO approximation; size = that surplus),
    ``release_past_due`` (a receipt planned in month t whose release, t − lead time, falls
    before the first month: the order should already have been released, and
    ``releases_with_past_due`` lumps it into month 0; month = the receipt's month, size = the
    receipt, i.e. the quantity that should already have been released).
    Rows are ordered by kind, then item, then month. Sizes within ``QTY_TOLERANCE`` are not
    exceptions.
    """
    closing = result.closing_stock
    ss = np.asarray(inputs.safety_stock)
    shelf = np.asarray(inputs.shelf_life_months)
    below_ss = ss - closing
    kinds: list[tuple[BoolArray, FloatArray]] = [
        (closing < -QTY_TOLERANCE, result.shortage),
        ((closing >= -QTY_TOLERANCE) & (below_ss > QTY_TOLERANCE), below_ss),
        (result.excess > QTY_TOLERANCE, result.excess),
    ]
    with_shelf = shelf > 0
    if with_shelf.any():
        rows = np.flatnonzero(with_shelf)
        sub_closing = closing[rows]
        surplus = sub_closing - forward_demand(np.asarray(inputs.demand)[rows], shelf[rows])
        mask = np.zeros_like(closing, dtype=np.bool_)
        mask[rows] = surplus > QTY_TOLERANCE
        size = np.zeros_like(closing)
        size[rows] = surplus
        kinds.append((mask, size))
    else:
        kinds.append((np.zeros_like(closing, dtype=np.bool_), np.zeros_like(closing)))
    receipts = result.planned_receipts
    kinds.append((result.release_past_due & (receipts > QTY_TOLERANCE), receipts))
    items, months, codes, sizes = [], [], [], []
    for code, (mask, size) in enumerate(kinds):
        item, month = np.nonzero(mask)
        items.append(item)
        months.append(month)
        codes.append(np.full(item.shape, code, dtype=np.int8))
        sizes.append(size[item, month])
    return pd.DataFrame(
        {
            "item": np.concatenate(items).astype(np.int64),
            "month": np.concatenate(months).astype(np.int64),
            "kind": pd.Categorical.from_codes(np.concatenate(codes), categories=EXCEPTION_KINDS),
            "size": np.concatenate(sizes),
        }
    )


@dataclass(frozen=True, slots=True)
class Bom:
    """Single-level BOM as parallel arrays: one entry per (parent, component) line.

    ``parent_index`` are rows of the planning arrays (make item-sites), ``child_index`` rows
    of the material arrays, ``qty_per`` component quantity per unit of parent (scrap and
    yield already folded in). Duplicate lines add up.
    """

    parent_index: npt.ArrayLike
    child_index: npt.ArrayLike
    qty_per: npt.ArrayLike


def explode_bom(planned_releases: npt.ArrayLike, bom: Bom, n_materials: int) -> FloatArray:
    """Gross material requirements ``[M, T]``: Σ over BOM lines of qty_per × parent releases.

    Components are needed when the parent's production order is released, so the parent's
    release month is the component's requirement month (no extra offset).
    """
    releases = np.asarray(planned_releases, dtype=np.float64)
    if releases.ndim != 2:
        raise ValueError(f"planned_releases: expected [N, T], got shape {releases.shape}")
    parent = np.asarray(bom.parent_index, dtype=np.int64).ravel()
    child = np.asarray(bom.child_index, dtype=np.int64).ravel()
    qty = np.asarray(bom.qty_per, dtype=np.float64).ravel()
    if not parent.shape == child.shape == qty.shape:
        raise ValueError("bom: parent_index, child_index and qty_per must have equal length")
    n, t = releases.shape
    if parent.size and (parent.min() < 0 or parent.max() >= n):
        raise ValueError(f"bom.parent_index: out of range [0, {n})")
    if child.size and (child.min() < 0 or child.max() >= n_materials):
        raise ValueError(f"bom.child_index: out of range [0, {n_materials})")
    _nonneg(qty, "bom.qty_per")
    # Only lines whose parent releases something contribute; group them by component and
    # sum with bincount over a flattened (component, month) index.
    active: BoolArray = np.any(releases != 0, axis=1)
    active = active[parent]
    parent, child, qty = parent[active], child[active], qty[active]
    contribution = releases[parent] * qty[:, None]
    flat = (child[:, None] * t + np.arange(t)[None, :]).ravel()
    gross = np.bincount(flat, weights=contribution.ravel(), minlength=n_materials * t)
    return np.asarray(gross.reshape(n_materials, t), dtype=np.float64)


def validate_bom(edges: npt.ArrayLike) -> pd.Series:
    """Check a multi-level BOM for cycles and return each item's low-level code.

    ``edges`` is ``[E, 2]`` (parent, child) pairs of item identifiers (ints or strings, one
    identifier space for all levels). The low-level code is the item's deepest level: 0 for
    end items, max(parent codes) + 1 otherwise; exploding level by level in that order nets
    every item only once. Raises ``BomCycleError`` naming one cycle, e.g. ``A -> B -> A``.
    Cost is O(E × BOM depth).
    """
    pairs = np.asarray(edges)
    if pairs.size == 0:
        return pd.Series([], dtype=np.int64)
    if pairs.ndim != 2 or pairs.shape[1] != 2:
        raise ValueError(f"edges: expected [E, 2] (parent, child) pairs, got {pairs.shape}")
    labels, codes = np.unique(pairs, return_inverse=True)
    codes = codes.reshape(pairs.shape).astype(np.int64)
    parent, child = codes[:, 0], codes[:, 1]
    n = labels.size
    indegree = np.bincount(child, minlength=n)
    level = np.full(n, -1, dtype=np.int64)
    live = np.ones(parent.size, dtype=np.bool_)
    depth = 0
    frontier = (indegree == 0) & (level < 0)
    while frontier.any():
        level[frontier] = depth
        leaving = live & frontier[parent]
        indegree -= np.bincount(child[leaving], minlength=n)
        live &= ~leaving
        frontier = (indegree == 0) & (level < 0)
        depth += 1
    if (level < 0).any():
        raise BomCycleError([labels[i].item() for i in _find_cycle(parent, child, level < 0)])
    return pd.Series(level, index=pd.Index(labels, name="item"), name="low_level_code")


def _find_cycle(parent: IntArray, child: IntArray, remaining: BoolArray) -> list[int]:
    """One cycle among nodes left after peeling, as [a, b, ..., a] in parent -> child order.

    Every remaining node has a remaining parent, so walking up parents must revisit a node.
    The cycle is rotated to start at its smallest node so the message is deterministic.
    """
    inside = remaining[parent] & remaining[child]
    order = np.lexsort((parent[inside], child[inside]))
    up_child, up_parent = child[inside][order], parent[inside][order]
    first = np.searchsorted(up_child, np.arange(remaining.size))
    node = int(np.flatnonzero(remaining)[0])
    seen: dict[int, int] = {}
    walk: list[int] = []
    while node not in seen:
        seen[node] = len(walk)
        walk.append(node)
        node = int(up_parent[first[node]])
    cycle = walk[seen[node] :][::-1]  # walked child -> parent; flip to parent -> child
    start = cycle.index(min(cycle))
    cycle = cycle[start:] + cycle[:start]
    return [*cycle, cycle[0]]
