"""Production-planning LP for S&OP step 5 (monthly buckets), solved with HiGHS.

The model is assembled as one CSC matrix with numpy (no Python call per nonzero), so a
2,000-product x 24-month instance builds in well under a second and the time goes to HiGHS.
Inputs are checked before the solve so that a planner gets "product X has no method" rather
than a solver status; backorders are always allowed (at a cost), so a checked model is
always feasible. Should HiGHS still prove a model infeasible or unbounded,
``PlanningInfeasibleError`` names the rows and bounds in conflict (HiGHS's IIS, mapped back
through the layout to resource, product and month) instead of a bare status.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import highspy
import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

MAX_ISSUES_PER_CHECK = 20
"""Cap per kind of problem, so a bad upload does not produce a 50,000-item error body."""
WARM_PIVOTS = 0.1
"""Primal pivots allowed from the start basis per model row (+2,000) before falling back to
the dual simplex from scratch. Measured: 9 % of the rows on the scaled demo company (6,843
made products x 18 months: 11,270 pivots, 14 s instead of 47 s CPU), 70 % on a plan short of
capacity everywhere (where the dual simplex from scratch is 8x faster)."""
MAX_CONFLICT_ITEMS = 12
"""Rows and bounds named when the solver proves the model infeasible or unbounded."""


class PlanningIssue(NamedTuple):
    """One problem with the inputs; indices are 0-based, None where not applicable."""

    resource: int | None
    month: int | None
    message: str
    product: int | None = None


class PlanningInputError(ValueError):
    """Inputs cannot give a meaningful plan; ``issues`` says where (map to HTTP 422)."""

    def __init__(self, issues: Sequence[PlanningIssue]) -> None:
        self.issues = list(issues)
        head = "; ".join(i.message for i in self.issues[:5])
        more = f" (+{len(self.issues) - 5} more)" if len(self.issues) > 5 else ""
        super().__init__(f"{len(self.issues)} planning input problem(s): {head}{more}")


class PlanningInfeasibleError(PlanningInputError):
    """HiGHS proved the model infeasible or unbounded (the checks make this unexpected:
    backorders are always allowed and costs are >= 0). ``issues`` are the constraints and
    bounds in conflict, from HiGHS's irreducible infeasible subset (IIS) or unbounded ray,
    in a planner's words (resource, product, month)."""

    def __init__(self, status: str, summary: str, issues: Sequence[PlanningIssue]) -> None:
        super().__init__(issues)
        self.status = status
        if issues:
            head = "; ".join(i.message for i in self.issues[:MAX_CONFLICT_ITEMS])
            where = "Without limit" if status == "unbounded" else "In conflict"
            self.args = (f"{summary} {where}: {head}.",)
        else:
            self.args = (f"{summary} HiGHS could not isolate the conflicting constraints.",)


class PlanningSolveError(RuntimeError):
    """HiGHS stopped without a usable solution (time limit with no incumbent, solver error)."""

    def __init__(self, status: str, message: str) -> None:
        self.status = status
        super().__init__(message)


@dataclass(frozen=True)
class Method:
    """One way to make a product: on which resource, at what hours and cost per unit.

    ``priority`` (lower = preferred) only breaks cost ties in the LP and picks the method
    that rough-cut planning loads.
    """

    product: int
    resource: int
    hours_per_unit: float
    cost_per_unit: float
    priority: int = 1


@dataclass(frozen=True)
class LabourPool:
    """A crew shared by some resources: its headcount caps their regular and overtime hours.

    Regular hours of the pool's resources together are at most ``W * hours_per_person`` and
    their overtime at most ``max_overtime_share`` of that. Regular labour is paid for the
    whole headcount (``regular_hour_cost * hours_per_person * W``), used or not.
    """

    resources: tuple[int, ...]
    headcount0: float
    hours_per_person: float | Sequence[float] | FloatArray
    max_overtime_share: float = 0.0
    regular_hour_cost: float = 0.0
    overtime_hour_cost: float = 0.0
    hire_cost: float = 0.0
    fire_cost: float = 0.0
    min_headcount: float = 0.0
    max_headcount: float = math.inf
    name: str = ""


ArrayLike = float | Sequence[float] | Sequence[Sequence[float]] | FloatArray

MATERIAL_TIEBREAK = 1e-6
"""Cost per unit of a material bought and per unit-month held: buys only what is used, as
late as it may (it never outweighs a unit made, whose cost is at least this)."""


@dataclass
class MaterialSupply:
    """Purchased materials that can limit production: indices 0..K-1 (a material at a site).

    A material's stock at month end is ``opening + receipts + purchases - use`` and never
    negative. ``first_purchase[k]`` is the first month a new purchase can arrive (the
    purchase lead time: nothing ordered now arrives sooner); before it, only stock and
    scheduled receipts are there. Product ``use_product[l]`` uses ``use_qty[l]`` of
    ``use_material[l]`` per unit, ``use_lead[l]`` months before the month it is made (the
    product's own lead time: its order is released then; a release before month 0 uses
    month 0's stock). Contract ``c`` caps the purchases of the materials of group
    ``contract_group[c]`` (``material_group``: one group per material code, every site) in
    its months (``contract_months[c]``) at ``contract_max[c]`` units; a month covered by
    several contracts of a material shares them; a month no contract covers is uncapped.
    """

    opening: ArrayLike  # [K]
    receipts: ArrayLike  # [K,T]
    first_purchase: Sequence[int] | IntArray  # [K]
    use_product: Sequence[int] | IntArray  # [L]
    use_material: Sequence[int] | IntArray  # [L]
    use_qty: Sequence[float] | FloatArray  # [L]
    use_lead: Sequence[int] | IntArray | None = None  # [L], 0 when None
    material_group: Sequence[int] | IntArray | None = None  # [K], k itself when None
    contract_group: Sequence[int] | IntArray = ()  # [C]
    contract_months: Any = None  # [C,T] bool
    contract_max: Sequence[float] | FloatArray = ()  # [C]
    names: Sequence[str] | None = None


@dataclass
class PlanningProblem:
    """Indices, not ORM rows: products 0..P-1, resources 0..R-1, months 0..T-1.

    Shapes: requirement / safety_stock [P,T]; available_hours / overtime_hours_max [R,T];
    per-product costs and opening positions [P] or a scalar; overtime_cost [R] or a scalar.

    * Regular hours of a resource outside any pool cost nothing (paid anyway); its overtime
      costs ``overtime_cost[r]``. On a pooled resource overtime costs the pool's
      ``overtime_hour_cost`` and regular pay is charged per head (see LabourPool).
    * ``overtime_hours_max`` defaults to 0 outside pools and to unlimited on pooled resources
      (the crew's overtime share is then the limit); when given it applies to every resource.
    * ``available_hours`` may be ``inf`` on a pooled resource limited only by its crew.
    * ``shortfall_cost`` (per unit-month below safety stock) defaults to half the backorder
      cost; safety stock is a soft target.
    * ``ending_backorder_cost`` is charged once per unit still backordered after the last
      month, on top of that month's backorder cost. It defaults to the product's cheapest
      unit cost (method cost plus, on a crewed resource, hours x regular hour cost), so
      pushing demand past the horizon does not look cheaper than making it.
    * ``ending_inventory`` [P] is the stock each product must hold at the end of the last
      month (textbook aggregate planning's required ending inventory); ``ending_backorder_max``
      [P] caps its backlog then (0: all demand met by the end). ``integer_workforce`` hires,
      releases and keeps whole people: the model becomes a MIP (HiGHS branch and bound,
      within ``time_limit``; ``PlanResult.mip_gap`` says how far from proven optimal).
    * A product that needs production but can never get it (no method, or no hours on any
      of its methods' resources in any month) is refused, unless ``backorder_unmakeable``:
      then it is planned as backorder only (at its backorder costs) and named in the
      warnings, so one gap in master data does not stop the plan of every other product.
    """

    requirement: ArrayLike
    available_hours: ArrayLike
    methods: Sequence[Method]
    opening_inventory: ArrayLike = 0.0
    holding_cost: ArrayLike = 0.0
    backorder_cost: ArrayLike = 0.0
    safety_stock: ArrayLike | None = None
    shortfall_cost: ArrayLike | None = None
    ending_backorder_cost: ArrayLike | None = None
    opening_backorder: ArrayLike | None = None
    overtime_hours_max: ArrayLike | None = None
    overtime_cost: ArrayLike | None = None
    pools: Sequence[LabourPool] = ()
    overtime_allowed: bool = True
    backorder_unmakeable: bool = False
    materials: MaterialSupply | None = None
    ending_inventory: ArrayLike | None = None
    ending_backorder_max: ArrayLike | None = None
    integer_workforce: bool = False
    product_names: Sequence[str] | None = None
    resource_names: Sequence[str] | None = None
    month_labels: Sequence[str] | None = None


@dataclass(frozen=True)
class CostBreakdown:
    """Plan cost by component, in currency units over the horizon."""

    production: float = 0.0
    overtime: float = 0.0
    holding: float = 0.0
    backorder: float = 0.0
    shortfall: float = 0.0
    labour: float = 0.0
    hiring: float = 0.0
    firing: float = 0.0

    @property
    def total(self) -> float:
        return (
            self.production
            + self.overtime
            + self.holding
            + self.backorder
            + self.shortfall
            + self.labour
            + self.hiring
            + self.firing
        )

    def as_dict(self) -> dict[str, float]:
        return {
            "production": self.production,
            "overtime": self.overtime,
            "holding": self.holding,
            "backorder": self.backorder,
            "shortfall": self.shortfall,
            "labour": self.labour,
            "hiring": self.hiring,
            "firing": self.firing,
            "total": self.total,
        }


@dataclass(frozen=True)
class PlanResult:
    """Optimal plan. Arrays: [M,T] per method, [P,T] per product, [R,T] per resource,
    [Q,T] per labour pool (in ``problem.pools`` order).

    ``utilisation`` = hours used / regular available hours (0 where nothing is available and
    nothing used, ``inf`` where only overtime was used). ``crew_utilisation`` = hours used
    on a pool's resources / (headcount x hours_per_person); above 1 means overtime. ``objective`` is HiGHS's value, which
    includes the tiny priority tie-break; ``costs.total`` is the plan's real cost.
    """

    status: str
    message: str
    production_by_method: FloatArray
    production: FloatArray
    inventory: FloatArray
    backorder: FloatArray
    shortfall: FloatArray
    overtime_hours: FloatArray
    hours_used: FloatArray
    utilisation: FloatArray
    headcount: FloatArray
    hires: FloatArray
    fires: FloatArray
    crew_utilisation: FloatArray
    costs: CostBreakdown
    objective: float
    build_seconds: float
    solve_seconds: float
    n_variables: int
    n_constraints: int
    n_nonzeros: int
    warnings: list[PlanningIssue] = field(default_factory=list)
    material_purchases: FloatArray | None = None  # [K,T]
    material_stock: FloatArray | None = None  # [K,T] month end
    material_use: FloatArray | None = None  # [K,T]
    material_value: FloatArray | None = None  # [K,T] shadow price: cost saved per unit more
    mip_gap: float | None = None  # integer workforce: relative gap at the end (0 = proven)


# --------------------------------------------------------------------------- validation


class _Labels:
    """Readable names for messages; falls back to 0-based indices."""

    def __init__(self, problem: PlanningProblem) -> None:
        self._p = problem.product_names
        self._r = problem.resource_names
        self._t = problem.month_labels

    def product(self, p: int) -> str:
        return f"product {self._p[p]!r}" if self._p is not None else f"product {p}"

    def resource(self, r: int) -> str:
        return f"resource {self._r[r]!r}" if self._r is not None else f"resource {r}"

    def month(self, t: int) -> str:
        return f"month {self._t[t]!r}" if self._t is not None else f"month {t}"


@dataclass
class _Prepared:
    """Validated inputs as float arrays of the right shape."""

    req: FloatArray
    avail: FloatArray
    open_inv: FloatArray
    open_bo: FloatArray
    hold: FloatArray
    back: FloatArray
    ss: FloatArray
    short: FloatArray
    end_bo: FloatArray
    ot_max: FloatArray
    ot_cost: FloatArray
    m_prod: IntArray
    m_res: IntArray
    m_hours: FloatArray
    m_cost: FloatArray
    m_prio: FloatArray
    pool_of: IntArray  # [R], -1 outside any pool
    hpp: FloatArray  # [Q,T]
    pools: Sequence[LabourPool]
    warnings: list[PlanningIssue]
    mat: _MatPrep | None = None
    end_inv: FloatArray | None = None
    end_bo_max: FloatArray | None = None


@dataclass
class _MatPrep:
    """Validated MaterialSupply; contract cover cells flattened (see ``_build_model``)."""

    opening: FloatArray  # [K]
    receipts: FloatArray  # [K,T]
    first: IntArray  # [K]
    u_prod: IntArray  # [L]
    u_mat: IntArray
    u_qty: FloatArray
    u_lead: IntArray
    group: IntArray  # [K]
    c_group: IntArray  # [C]
    c_months: NDArray[np.bool_]  # [C,T]
    c_max: FloatArray  # [C]
    names: Sequence[str] | None
    kc: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # capped
    pos: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # in kc, -1
    cum_len: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # [K]
    cum_start: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # [K]
    contract_of: IntArray | None = None  # [G*T] the one contract of a group-month, or -1
    n_g: int = 0

    @property
    def n_k(self) -> int:
        return int(self.opening.size)


def _split_materials(mat: _MatPrep, n_t: int) -> None:
    """Materials under a contract get stock and purchase columns; the others can be bought
    without limit once their lead time has passed, so only ``cum`` rows bind them: use up
    to month t within opening stock plus open orders, for t before their first purchase
    (a fraction of the rows and no columns: measured in bench/RESULTS.md)."""
    n_k = mat.n_k
    capped_group = np.zeros(int(mat.group.max(initial=-1)) + 1, dtype=bool)
    live = mat.c_months.any(axis=1) & (mat.c_group < capped_group.size)
    capped_group[mat.c_group[live]] = True
    capped = capped_group[mat.group] if n_k else np.zeros(0, dtype=bool)
    mat.kc = np.flatnonzero(capped)
    mat.pos = np.full(n_k, -1, dtype=np.int64)
    mat.pos[mat.kc] = np.arange(mat.kc.size)
    mat.cum_len = np.where(capped, 0, np.minimum(mat.first, n_t)).astype(np.int64)
    mat.cum_start = np.cumsum(mat.cum_len) - mat.cum_len


def _prepare_materials(
    ms: MaterialSupply, n_p: int, n_t: int, issues: list[PlanningIssue]
) -> _MatPrep:
    """Shapes, ranges and signs of the material inputs (problems appended to ``issues``)."""
    opening = np.asarray(ms.opening, dtype=np.float64).ravel()
    n_k = opening.size
    receipts = _as_array(ms.receipts, (n_k, n_t), "material receipts", issues)
    first = np.asarray(ms.first_purchase, dtype=np.int64).ravel()
    u_prod = np.asarray(ms.use_product, dtype=np.int64).ravel()
    u_mat = np.asarray(ms.use_material, dtype=np.int64).ravel()
    u_qty = np.asarray(ms.use_qty, dtype=np.float64).ravel()
    n_l = u_prod.size
    u_lead = (
        np.zeros(n_l, dtype=np.int64)
        if ms.use_lead is None
        else np.asarray(ms.use_lead, dtype=np.int64).ravel()
    )
    group = (
        np.arange(n_k, dtype=np.int64)
        if ms.material_group is None
        else np.asarray(ms.material_group, dtype=np.int64).ravel()
    )
    c_group = np.asarray(ms.contract_group, dtype=np.int64).ravel()
    n_c = c_group.size
    c_max = np.asarray(ms.contract_max, dtype=np.float64).ravel()
    c_months = (
        np.zeros((n_c, n_t), dtype=bool)
        if ms.contract_months is None
        else np.asarray(ms.contract_months, dtype=bool).reshape(n_c, n_t)
    )
    bad = []
    if first.size != n_k or group.size != n_k:
        bad.append("first_purchase and material_group need one entry per material")
    if not (u_mat.size == u_qty.size == u_lead.size == n_l):
        bad.append("use_product, use_material, use_qty and use_lead need equal lengths")
    elif n_l and (u_prod.min() < 0 or u_prod.max() >= n_p or u_mat.min() < 0 or u_mat.max() >= n_k):
        bad.append(
            f"a bill-of-material line names a product outside [0,{n_p}) or a material "
            f"outside [0,{n_k})"
        )
    if c_max.size != n_c:
        bad.append("contract_max needs one entry per contract")
    for name, arr in (("opening", opening), ("use_qty", u_qty), ("contract_max", c_max)):
        if arr.size and not (np.isfinite(arr).all() and (arr >= 0).all()):
            bad.append(f"material {name} must be finite and >= 0")
    if receipts.size and not (np.isfinite(receipts).all() and (receipts >= 0).all()):
        bad.append("material receipts must be finite and >= 0")
    if (first < 0).any() or (u_lead < 0).any():
        bad.append("material lead times must be >= 0")
    issues.extend(PlanningIssue(None, None, message) for message in bad)
    return _MatPrep(
        opening,
        receipts,
        first,
        u_prod,
        u_mat,
        u_qty,
        u_lead,
        group,
        c_group,
        c_months,
        c_max,
        ms.names,
    )


def _as_array(
    value: ArrayLike | None,
    shape: tuple[int, ...],
    name: str,
    issues: list[PlanningIssue],
    default: float = 0.0,
) -> FloatArray:
    if value is None:
        return np.full(shape, default)
    arr = np.asarray(value, dtype=np.float64)
    try:
        return np.array(np.broadcast_to(arr, shape), dtype=np.float64)
    except ValueError:
        issues.append(PlanningIssue(None, None, f"{name} has shape {arr.shape}, expected {shape}"))
        return np.full(shape, default)


def _cell_issues(
    bad: NDArray[np.bool_],
    describe: Any,
    issues: list[PlanningIssue],
) -> None:
    """Report each flagged cell via ``describe(index) -> PlanningIssue``, capped."""
    cells = np.argwhere(bad)
    for idx in cells[:MAX_ISSUES_PER_CHECK]:
        issues.append(describe(tuple(int(i) for i in idx)))
    if len(cells) > MAX_ISSUES_PER_CHECK:
        first = describe(tuple(int(i) for i in cells[0]))
        issues.append(
            PlanningIssue(
                None,
                None,
                f"... and {len(cells) - MAX_ISSUES_PER_CHECK} more like: {first.message}",
            )
        )


def _check_nonneg(
    arr: FloatArray,
    name: str,
    issues: list[PlanningIssue],
    labels: _Labels,
    axes: str,
    allow_inf: bool = False,
) -> None:
    """Flag negative, NaN and (unless allowed) infinite cells; ``axes`` is e.g. "pt" or "r"."""
    bad = np.isnan(arr) | (arr < 0)
    if not allow_inf:
        bad |= np.isinf(arr)

    def describe(idx: tuple[int, ...]) -> PlanningIssue:
        where = dict(zip(axes, idx, strict=True))
        p, r, t = where.get("p"), where.get("r"), where.get("t")
        parts = [
            labels.product(p) if p is not None else None,
            labels.resource(r) if r is not None else None,
            labels.month(t) if t is not None else None,
        ]
        loc = ", ".join(s for s in parts if s)
        value = arr[idx]
        what = "must be a finite number >= 0" if not allow_inf else "must be >= 0"
        return PlanningIssue(r, t, f"{name} {what}, got {value} ({loc})", p)

    _cell_issues(bad, describe, issues)


def _capacity_upper_bound(prep: _Prepared, overtime_allowed: bool) -> FloatArray:
    """Most hours each resource could ever give per month (largest crew, full overtime)."""
    ot = prep.ot_max if overtime_allowed else np.zeros_like(prep.ot_max)
    cap = prep.avail + ot
    for q, pool in enumerate(prep.pools):
        share = pool.max_overtime_share if overtime_allowed else 0.0
        crew = prep.hpp[q] * pool.max_headcount * (1.0 + share)
        for r in pool.resources:
            cap[r] = np.minimum(cap[r], crew)
    return cap


def _check_coverage(
    prep: _Prepared,
    problem: PlanningProblem,
    labels: _Labels,
    errors: list[PlanningIssue],
) -> None:
    """Products that need production but can never get it -> error (or, when the problem
    backorders them, warning); late-only -> warning."""
    overtime_allowed = problem.overtime_allowed
    issues = prep.warnings if problem.backorder_unmakeable else errors
    outcome = "; planned as backorder only" if problem.backorder_unmakeable else ""
    n_p, n_t = prep.req.shape
    need = np.cumsum(prep.req, axis=1) + (prep.open_bo - prep.open_inv)[:, None]  # [P,T]
    uncovered = need > 1e-9
    has_method = np.zeros(n_p, dtype=bool)
    has_method[prep.m_prod] = True

    for p in np.flatnonzero(uncovered[:, -1] & ~has_method)[:MAX_ISSUES_PER_CHECK]:
        t0 = int(np.argmax(uncovered[p]))
        issues.append(
            PlanningIssue(
                None,
                t0,
                f"{labels.product(int(p))} needs {need[p, -1]:g} units from "
                f"{labels.month(t0)} on but has no production method{outcome}",
                int(p),
            )
        )
    n_orphans = int(np.count_nonzero(uncovered[:, -1] & ~has_method))
    # (a caller that backorders them lists them itself: no count line twice)
    if n_orphans > MAX_ISSUES_PER_CHECK and not problem.backorder_unmakeable:
        issues.append(PlanningIssue(None, None, f"... {n_orphans} products in all have no method"))

    if prep.m_prod.size == 0:
        return
    cap = _capacity_upper_bound(prep, overtime_allowed)
    cum_cap = np.cumsum(np.where(np.isfinite(cap), cap, 1e300), axis=1)  # [R,T]
    # A method can have produced by month t if it needs no hours or its resource had any
    # capacity in months 0..t.
    m_ok = (prep.m_hours[:, None] == 0) | (cum_cap[prep.m_res] > 0)  # [M,T]
    ok_count = np.zeros((n_p, n_t), dtype=np.int64)
    np.add.at(ok_count, prep.m_prod, m_ok.astype(np.int64))
    ok = ok_count > 0

    never = has_method & uncovered[:, -1] & ~ok[:, -1]
    reported = 0
    for p in np.flatnonzero(never):
        t0 = int(np.argmax(uncovered[p]))
        for r in np.unique(prep.m_res[prep.m_prod == p]):
            if reported < MAX_ISSUES_PER_CHECK:
                issues.append(
                    PlanningIssue(
                        int(r),
                        t0,
                        f"{labels.product(int(p))} needs {need[p, -1]:g} units from "
                        f"{labels.month(t0)} on, but {labels.resource(int(r))} has no "
                        "capacity in any month and no other method of the product can "
                        f"make it{outcome}",
                        int(p),
                    )
                )
            reported += 1

    late = uncovered & (prep.req > 0) & ~ok & (has_method & ~never)[:, None]
    cells = np.argwhere(late)
    for p, t in cells[:MAX_ISSUES_PER_CHECK]:
        r = int(prep.m_res[np.flatnonzero(prep.m_prod == p)[0]])
        prep.warnings.append(
            PlanningIssue(
                r,
                int(t),
                f"{labels.product(int(p))} requirement in {labels.month(int(t))} will be "
                f"backordered: {labels.resource(r)} has no capacity up to that month",
                int(p),
            )
        )


def _prepare(problem: PlanningProblem) -> _Prepared:
    """Validate and normalise inputs; raise PlanningInputError listing every problem found."""
    issues: list[PlanningIssue] = []
    labels = _Labels(problem)
    req = np.asarray(problem.requirement, dtype=np.float64)
    avail = np.asarray(problem.available_hours, dtype=np.float64)
    if req.ndim != 2 or avail.ndim != 2 or req.shape[1] != avail.shape[1] or req.shape[1] < 1:
        raise PlanningInputError(
            [
                PlanningIssue(
                    None,
                    None,
                    f"requirement must be [products, months] and available_hours "
                    f"[resources, months] with the same months (at least one); got {req.shape} and "
                    f"{avail.shape}",
                )
            ]
        )
    n_p, n_t = req.shape
    n_r = avail.shape[0]
    for names, n, what in (
        (problem.product_names, n_p, "product_names"),
        (problem.resource_names, n_r, "resource_names"),
        (problem.month_labels, n_t, "month_labels"),
    ):
        if names is not None and len(names) != n:
            raise PlanningInputError(
                [PlanningIssue(None, None, f"{what} has {len(names)} entries, expected {n}")]
            )

    pool_of = np.full(n_r, -1, dtype=np.int64)
    hpp = np.zeros((len(problem.pools), n_t))
    for q, pool in enumerate(problem.pools):
        pname = pool.name or f"labour pool {q}"
        hpp[q] = _as_array(pool.hours_per_person, (n_t,), f"{pname} hours_per_person", issues)
        for r in pool.resources:
            if not 0 <= r < n_r:
                issues.append(PlanningIssue(r, None, f"{pname} names unknown resource {r}"))
            elif pool_of[r] >= 0:
                issues.append(
                    PlanningIssue(r, None, f"{labels.resource(r)} is in more than one pool")
                )
            else:
                pool_of[r] = q
        scalars = {
            "headcount0": pool.headcount0,
            "max_overtime_share": pool.max_overtime_share,
            "regular_hour_cost": pool.regular_hour_cost,
            "overtime_hour_cost": pool.overtime_hour_cost,
            "hire_cost": pool.hire_cost,
            "fire_cost": pool.fire_cost,
            "min_headcount": pool.min_headcount,
        }
        for key, value in scalars.items():
            if not (math.isfinite(value) and value >= 0):
                issues.append(PlanningIssue(None, None, f"{pname} {key} must be finite and >= 0"))
        if math.isnan(pool.max_headcount) or pool.max_headcount < pool.min_headcount:
            issues.append(
                PlanningIssue(
                    None,
                    None,
                    f"{pname} max_headcount {pool.max_headcount} < min_headcount "
                    f"{pool.min_headcount}",
                )
            )
        _check_nonneg(hpp[q], f"{pname} hours_per_person", issues, labels, "t")

    pooled = pool_of >= 0
    default_ot = np.where(pooled[:, None], np.inf, 0.0) * np.ones((1, n_t))
    ot_max = (
        default_ot
        if problem.overtime_hours_max is None
        else _as_array(problem.overtime_hours_max, (n_r, n_t), "overtime_hours_max", issues)
    )
    ot_cost = _as_array(problem.overtime_cost, (n_r,), "overtime_cost", issues)
    for q, pool in enumerate(problem.pools):
        for r in pool.resources:
            if 0 <= r < n_r and pool_of[r] == q:
                ot_cost[r] = pool.overtime_hour_cost

    back = _as_array(problem.backorder_cost, (n_p,), "backorder_cost", issues)
    short = (
        0.5 * back
        if problem.shortfall_cost is None
        else _as_array(problem.shortfall_cost, (n_p,), "shortfall_cost", issues)
    )

    n_m = len(problem.methods)
    m_prod = np.fromiter((m.product for m in problem.methods), dtype=np.int64, count=n_m)
    m_res = np.fromiter((m.resource for m in problem.methods), dtype=np.int64, count=n_m)
    m_hours = np.fromiter((m.hours_per_unit for m in problem.methods), dtype=float, count=n_m)
    m_cost = np.fromiter((m.cost_per_unit for m in problem.methods), dtype=float, count=n_m)
    m_prio = np.fromiter((m.priority for m in problem.methods), dtype=float, count=n_m)

    prep = _Prepared(
        req=req.copy(),
        avail=avail.copy(),
        open_inv=_as_array(problem.opening_inventory, (n_p,), "opening_inventory", issues),
        open_bo=_as_array(problem.opening_backorder, (n_p,), "opening_backorder", issues),
        hold=_as_array(problem.holding_cost, (n_p,), "holding_cost", issues),
        back=back,
        ss=_as_array(problem.safety_stock, (n_p, n_t), "safety_stock", issues),
        short=short,
        end_bo=np.zeros(n_p),
        ot_max=ot_max,
        ot_cost=ot_cost,
        m_prod=m_prod,
        m_res=m_res,
        m_hours=m_hours,
        m_cost=m_cost,
        m_prio=m_prio,
        pool_of=pool_of,
        hpp=hpp,
        pools=problem.pools,
        warnings=[],
    )

    _check_nonneg(prep.req, "requirement", issues, labels, "pt")
    _check_nonneg(prep.avail, "available_hours", issues, labels, "rt", allow_inf=True)
    unpooled_inf = np.isinf(prep.avail) & ~pooled[:, None]
    _cell_issues(
        unpooled_inf,
        lambda i: PlanningIssue(
            i[0],
            i[1],
            f"available_hours is infinite for {labels.resource(i[0])} in {labels.month(i[1])}"
            " but the resource is in no labour pool",
        ),
        issues,
    )
    _check_nonneg(prep.open_inv, "opening_inventory", issues, labels, "p")
    _check_nonneg(prep.open_bo, "opening_backorder", issues, labels, "p")
    _check_nonneg(prep.hold, "holding_cost", issues, labels, "p")
    _check_nonneg(prep.back, "backorder_cost", issues, labels, "p")
    _check_nonneg(prep.ss, "safety_stock", issues, labels, "pt")
    _check_nonneg(prep.short, "shortfall_cost", issues, labels, "p")
    if problem.ending_backorder_cost is None:
        # Making a unit costs its method cost plus, on a crewed resource, the crew's pay for
        # its hours; backlog left at the end should never look cheaper than that.
        rate = np.zeros(n_r)
        for q, pool in enumerate(problem.pools):
            rate[pool_of == q] = pool.regular_hour_cost
        cheapest = np.full(n_p, np.inf)
        ok_m = (m_prod >= 0) & (m_prod < n_p) & (m_res >= 0) & (m_res < n_r)
        unit = m_cost[ok_m] + m_hours[ok_m] * rate[m_res[ok_m]]
        np.minimum.at(cheapest, m_prod[ok_m], np.where(np.isfinite(unit), unit, np.inf))
        prep.end_bo = np.where(np.isfinite(cheapest), cheapest, 0.0)
    else:
        prep.end_bo = _as_array(
            problem.ending_backorder_cost, (n_p,), "ending_backorder_cost", issues
        )
        _check_nonneg(prep.end_bo, "ending_backorder_cost", issues, labels, "p")
    _check_nonneg(prep.ot_max, "overtime_hours_max", issues, labels, "rt", allow_inf=True)
    _check_nonneg(prep.ot_cost, "overtime_cost", issues, labels, "r")

    bad_m = (
        (m_prod < 0)
        | (m_prod >= n_p)
        | (m_res < 0)
        | (m_res >= n_r)
        | ~np.isfinite(m_hours)
        | (m_hours < 0)
        | ~np.isfinite(m_cost)
        | (m_cost < 0)
        | ~np.isfinite(m_prio)
    )
    for m in np.flatnonzero(bad_m)[:MAX_ISSUES_PER_CHECK]:
        meth = problem.methods[m]
        in_range = 0 <= meth.resource < n_r
        issues.append(
            PlanningIssue(
                meth.resource if in_range else None,
                None,
                f"method {m} ({meth}) needs product in [0,{n_p}), resource in [0,{n_r}), "
                "hours_per_unit >= 0 and cost_per_unit >= 0",
                meth.product if 0 <= meth.product < n_p else None,
            )
        )
    if issues:
        raise PlanningInputError(issues)

    if problem.ending_inventory is not None:
        prep.end_inv = _as_array(problem.ending_inventory, (n_p,), "ending_inventory", issues)
        _check_nonneg(prep.end_inv, "ending_inventory", issues, labels, "p")
    if problem.ending_backorder_max is not None:
        prep.end_bo_max = _as_array(
            problem.ending_backorder_max, (n_p,), "ending_backorder_max", issues
        )
        _check_nonneg(prep.end_bo_max, "ending_backorder_max", issues, labels, "p", True)
    if problem.materials is not None:
        prep.mat = _prepare_materials(problem.materials, n_p, n_t, issues)
        if issues:
            raise PlanningInputError(issues)

    _check_coverage(prep, problem, labels, issues)
    if issues:
        raise PlanningInputError(issues)
    return prep


def check_problem(problem: PlanningProblem) -> list[PlanningIssue]:
    """Validate without solving: raise PlanningInputError, else return the warnings."""
    return _prepare(problem).warnings


# --------------------------------------------------------------------------- model


@dataclass
class _Layout:
    """Column and row offsets of each variable / constraint block."""

    n_m: int
    n_p: int
    n_r: int
    n_q: int
    n_t: int
    ss_idx: IntArray  # flat (p*T+t) cells with a safety-stock target
    n_k: int = 0  # materials under a contract (stock and purchase columns)
    n_cum: int = 0  # (material, month) cells of the other materials within their lead time
    n_v: int = 0  # contract-month cells (purchases allotted to a contract)
    n_cover: int = 0  # material group-months some contract covers
    n_c: int = 0  # contracts
    x: int = 0
    inv: int = 0
    bo: int = 0
    inv_ss: int = 0
    ot: int = 0
    w: int = 0
    hire: int = 0
    fire: int = 0
    u: int = 0  # material purchases [K,T]
    s: int = 0  # material stock [K,T]
    v: int = 0  # contract allotments [n_v]
    n_col: int = 0
    # rows
    bal: int = 0
    cap: int = 0
    pool_reg: int = 0
    pool_ot: int = 0
    wf: int = 0
    mbal: int = 0  # material balance [K,T]
    cover: int = 0  # purchases within the contracts covering the month [n_cover]
    ctr: int = 0  # contract maximum [C]
    cum: int = 0  # use so far within stock and open orders, uncontracted materials [n_cum]
    n_row: int = 0

    def __post_init__(self) -> None:
        mt, pt, rt, qt = (
            self.n_m * self.n_t,
            self.n_p * self.n_t,
            self.n_r * self.n_t,
            self.n_q * self.n_t,
        )
        self.x = 0
        self.inv = self.x + mt
        self.bo = self.inv + pt
        self.inv_ss = self.bo + pt
        self.ot = self.inv_ss + self.ss_idx.size
        self.w = self.ot + rt
        self.hire = self.w + qt
        self.fire = self.hire + qt
        kt = self.n_k * self.n_t
        self.u = self.fire + qt
        self.s = self.u + kt
        self.v = self.s + kt
        self.n_col = self.v + self.n_v
        self.bal = 0
        self.cap = self.bal + pt
        self.pool_reg = self.cap + rt
        self.pool_ot = self.pool_reg + qt
        self.wf = self.pool_ot + qt
        self.mbal = self.wf + qt
        self.cover = self.mbal + kt
        self.ctr = self.cover + self.n_cover
        self.cum = self.ctr + self.n_c
        self.n_row = self.cum + self.n_cum


@dataclass
class _Model:
    layout: _Layout
    cost: FloatArray
    offset: float
    col_lo: FloatArray
    col_up: FloatArray
    row_lo: FloatArray
    row_up: FloatArray
    start: NDArray[np.int32]
    index: NDArray[np.int32]
    value: FloatArray


def _grid(n: int, n_t: int) -> tuple[IntArray, IntArray]:
    """(entity, month) index pairs for an [n, T] block in row-major order."""
    e, t = np.divmod(np.arange(n * n_t, dtype=np.int64), n_t)
    return e, t


def _build_model(prep: _Prepared, *, overtime_allowed: bool, tiebreak: float) -> _Model:
    """Assemble costs, bounds and the CSC matrix from COO triplets, all vectorised."""
    n_p, n_t = prep.req.shape
    n_r, n_q, n_m = prep.avail.shape[0], len(prep.pools), prep.m_prod.size
    ss_idx = np.flatnonzero(prep.ss.ravel() > 0)
    mat = prep.mat
    cover_cells = v_cells = np.zeros(0, dtype=np.int64)
    if mat is not None and mat.c_group.size:
        # v: (contract, month) cells; cover: (group, month) cells some contract covers
        v_cells = np.flatnonzero(mat.c_months.ravel())
        n_g = int(max(mat.group.max(initial=-1), mat.c_group.max(initial=-1))) + 1
        covered = np.zeros((n_g, n_t), dtype=np.int64)
        c_of_v, t_of_v = np.divmod(v_cells, n_t)
        np.add.at(covered, (mat.c_group[c_of_v], t_of_v), 1)
        cover_cells = np.flatnonzero(covered.ravel())
        if covered.max(initial=0) <= 1:
            # no month under two contracts of a material: each contract's row takes the
            # purchases of its months directly (no allotment columns, no cover rows)
            mat.contract_of = np.full(n_g * n_t, -1, dtype=np.int64)
            mat.contract_of[mat.c_group[c_of_v] * n_t + t_of_v] = c_of_v
            mat.n_g = n_g
            cover_cells = v_cells = np.zeros(0, dtype=np.int64)
    if mat is not None:
        _split_materials(mat, n_t)
    lay = _Layout(
        n_m=n_m,
        n_p=n_p,
        n_r=n_r,
        n_q=n_q,
        n_t=n_t,
        ss_idx=ss_idx,
        n_k=mat.kc.size if mat is not None else 0,
        n_cum=int(mat.cum_len.sum()) if mat is not None else 0,
        n_v=v_cells.size,
        n_cover=cover_cells.size,
        n_c=mat.c_group.size if mat is not None else 0,
    )
    inf = highspy.kHighsInf

    rows: list[IntArray] = []
    cols: list[IntArray] = []
    vals: list[FloatArray] = []

    def add(r: IntArray, c: IntArray, v: FloatArray | float) -> None:
        rows.append(r)
        cols.append(c)
        vals.append(np.broadcast_to(np.asarray(v, dtype=np.float64), r.shape))

    cost = np.zeros(lay.n_col)
    col_lo = np.zeros(lay.n_col)
    col_up = np.full(lay.n_col, inf)

    # x[m,t]: balance row of its product, capacity row of its resource, pool row.
    m, t = _grid(n_m, n_t)
    xcol = lay.x + m * n_t + t
    add(lay.bal + prep.m_prod[m] * n_t + t, xcol, 1.0)
    hours = prep.m_hours[m]
    has_h = hours != 0
    add(lay.cap + prep.m_res[m[has_h]] * n_t + t[has_h], xcol[has_h], hours[has_h])
    q_of_m = prep.pool_of[prep.m_res[m]]
    in_pool = has_h & (q_of_m >= 0)
    add(lay.pool_reg + q_of_m[in_pool] * n_t + t[in_pool], xcol[in_pool], hours[in_pool])
    best_prio = np.full(n_p, np.inf)
    np.minimum.at(best_prio, prep.m_prod, prep.m_prio)
    rank = prep.m_prio - best_prio[prep.m_prod] if n_m else prep.m_prio
    cost[xcol] = (prep.m_cost + tiebreak * rank)[m]

    # I[p,t], B[p,t]: this month's balance and next month's.
    p, t = _grid(n_p, n_t)
    icol, bcol = lay.inv + p * n_t + t, lay.bo + p * n_t + t
    bal = lay.bal + p * n_t + t
    nxt = t < n_t - 1
    add(bal, icol, -1.0)
    add(bal[nxt] + 1, icol[nxt], 1.0)
    add(bal, bcol, 1.0)
    add(bal[nxt] + 1, bcol[nxt], -1.0)
    cost[icol] = prep.hold[p]
    cost[bcol] = prep.back[p] + np.where(nxt, 0.0, prep.end_bo[p])

    # Safety stock without extra rows: where a target exists, stock is split into the part
    # up to the target, J in [0, ss], and the rest, I. Shortfall is ss - J, so its penalty
    # s * (ss - J) becomes cost (h - s) on J plus the constant s * ss. J costs no more than I,
    # so it fills first. This halves the row count against an explicit I + S >= ss row.
    p_ss, t_ss = np.divmod(ss_idx, n_t)
    jcol = lay.inv_ss + np.arange(ss_idx.size)
    jbal = lay.bal + ss_idx
    j_nxt = t_ss < n_t - 1
    add(jbal, jcol, -1.0)
    add(jbal[j_nxt] + 1, jcol[j_nxt], 1.0)
    ss_flat = prep.ss.ravel()[ss_idx]
    cost[jcol] = prep.hold[p_ss] - prep.short[p_ss]
    col_up[jcol] = ss_flat
    offset = float((prep.short[p_ss] * ss_flat).sum())

    # Required ending position: stock I + J at the last month >= E (J, up to the target,
    # fills first), backlog there <= the cap.
    last = np.arange(n_p) * n_t + n_t - 1
    if prep.end_inv is not None:
        target = prep.ss[:, -1]
        has_j = target > 0
        col_lo[lay.inv + last] = np.where(
            has_j, np.maximum(prep.end_inv - target, 0.0), prep.end_inv
        )
        j_of = lay.inv_ss + np.searchsorted(ss_idx, last[has_j])
        col_lo[j_of] = np.minimum(prep.end_inv[has_j], target[has_j])
    if prep.end_bo_max is not None:
        col_up[lay.bo + last] = prep.end_bo_max

    # OT[r,t]: raises its resource's capacity; pooled overtime also counts against the crew.
    r, t = _grid(n_r, n_t)
    otcol = lay.ot + r * n_t + t
    add(lay.cap + r * n_t + t, otcol, -1.0)
    q_of_r = prep.pool_of[r]
    pooled = q_of_r >= 0
    add(lay.pool_reg + q_of_r[pooled] * n_t + t[pooled], otcol[pooled], -1.0)
    add(lay.pool_ot + q_of_r[pooled] * n_t + t[pooled], otcol[pooled], 1.0)
    cost[otcol] = prep.ot_cost[r]
    col_up[otcol] = prep.ot_max.ravel() if overtime_allowed else 0.0

    # W, H, F per pool and month.
    if n_q:
        q, t = _grid(n_q, n_t)
        wcol, hcol, fcol = lay.w + q * n_t + t, lay.hire + q * n_t + t, lay.fire + q * n_t + t
        hpp = prep.hpp.ravel()
        share = np.array([pl.max_overtime_share for pl in prep.pools])[q]
        wf = lay.wf + q * n_t + t
        add(lay.pool_reg + q * n_t + t, wcol, -hpp)
        add(lay.pool_ot + q * n_t + t, wcol, -share * hpp * (1.0 if overtime_allowed else 0.0))
        add(wf, wcol, 1.0)
        nxt_q = t < n_t - 1
        add(wf[nxt_q] + 1, wcol[nxt_q], -1.0)
        add(wf, hcol, -1.0)
        add(wf, fcol, 1.0)
        reg_cost = np.array([pl.regular_hour_cost for pl in prep.pools])
        cost[wcol] = reg_cost[q] * hpp
        cost[hcol] = np.array([pl.hire_cost for pl in prep.pools])[q]
        cost[fcol] = np.array([pl.fire_cost for pl in prep.pools])[q]
        col_lo[wcol] = np.array([pl.min_headcount for pl in prep.pools])[q]
        col_up[wcol] = np.array([pl.max_headcount for pl in prep.pools])[q]

    # Row bounds.
    row_lo = np.full(lay.n_row, -inf)
    row_up = np.zeros(lay.n_row)
    rhs = prep.req.copy()
    rhs[:, 0] += prep.open_bo - prep.open_inv
    row_lo[lay.bal : lay.cap] = rhs.ravel()
    row_up[lay.bal : lay.cap] = rhs.ravel()
    row_up[lay.cap : lay.pool_reg] = prep.avail.ravel()
    if n_q:
        wf_rhs = np.zeros((n_q, n_t))
        wf_rhs[:, 0] = [pl.headcount0 for pl in prep.pools]
        row_lo[lay.wf : lay.mbal] = wf_rhs.ravel()
        row_up[lay.wf : lay.mbal] = wf_rhs.ravel()

    if mat is not None and mat.n_k:
        _material_block(prep, mat, lay, add, cost, col_up, row_lo, row_up, v_cells, cover_cells)

    all_rows = np.concatenate(rows)
    all_cols = np.concatenate(cols)
    all_vals = np.concatenate(vals)
    keep = all_vals != 0
    all_rows, all_cols, all_vals = all_rows[keep], all_cols[keep], all_vals[keep]
    order = np.lexsort((all_rows, all_cols))
    counts = np.bincount(all_cols, minlength=lay.n_col)
    start = np.zeros(lay.n_col + 1, dtype=np.int32)
    np.cumsum(counts, out=start[1:])
    return _Model(
        layout=lay,
        cost=cost,
        offset=offset,
        col_lo=col_lo,
        col_up=col_up,
        row_lo=row_lo,
        row_up=row_up,
        start=start,
        index=all_rows[order].astype(np.int32),
        value=all_vals[order],
    )


def _material_block(
    prep: _Prepared,
    mat: _MatPrep,
    lay: _Layout,
    add: Any,
    cost: FloatArray,
    col_up: FloatArray,
    row_lo: FloatArray,
    row_up: FloatArray,
    v_cells: IntArray,
    cover_cells: IntArray,
) -> None:
    """Material balance, purchase lead time and contract maxima (see MaterialSupply).

    Rows ``mbal[k,t]``: ``s[k,t-1] + u[k,t] - s[k,t] - use = -(receipts[k,t] (+ opening))``;
    ``cover[g,t]``: ``sum_k in g u[k,t] - sum_c v[c,t] <= 0``; ``ctr[c]``: ``sum_t v[c,t] <=
    max``. Use enters as ``-qty`` on each production column of the product, in the row of
    its release month ``max(t - lead, 0)``.
    """
    n_t, n_k = lay.n_t, lay.n_k
    k_loc, t = _grid(n_k, n_t)
    k = mat.kc[k_loc]  # the material of each capped cell
    ucol, scol = lay.u + k_loc * n_t + t, lay.s + k_loc * n_t + t
    mrow = lay.mbal + k_loc * n_t + t
    nxt = t < n_t - 1
    add(mrow, ucol, 1.0)
    add(mrow, scol, -1.0)
    add(mrow[nxt] + 1, scol[nxt], 1.0)
    cost[ucol] = MATERIAL_TIEBREAK
    cost[scol] = MATERIAL_TIEBREAK
    col_up[ucol[t < mat.first[k]]] = 0.0
    rhs = -mat.receipts[mat.kc].copy()
    rhs[:, 0] -= mat.opening[mat.kc]
    row_lo[lay.mbal : lay.cover] = rhs.ravel()
    row_up[lay.mbal : lay.cover] = rhs.ravel()
    # uncapped: use up to t <= opening + receipts up to t, for t before the first purchase
    has_cum = mat.cum_len > 0
    if has_cum.any():
        kk = np.repeat(np.arange(mat.n_k), mat.cum_len)
        tt = np.arange(kk.size) - np.repeat(mat.cum_start, mat.cum_len)
        available = mat.opening[:, None] + np.cumsum(mat.receipts, axis=1)
        row_up[lay.cum : lay.n_row] = available[kk, tt]

    # use: every (BOM line, method of its product) pair, for every month
    n_m = prep.m_prod.size
    if mat.u_prod.size and n_m:
        by_prod = np.argsort(prep.m_prod, kind="stable")
        first_m = np.searchsorted(prep.m_prod[by_prod], mat.u_prod, side="left")
        last_m = np.searchsorted(prep.m_prod[by_prod], mat.u_prod, side="right")
        count = last_m - first_m
        line = np.repeat(np.arange(mat.u_prod.size), count)
        offset = np.arange(line.size) - np.repeat(np.cumsum(count) - count, count)
        meth = by_prod[first_m[line] + offset]
        lm = np.repeat(np.arange(line.size), n_t)
        tt = np.tile(np.arange(n_t), line.size)
        ln, mm = line[lm], meth[lm]
        release = np.maximum(tt - mat.u_lead[ln], 0)
        k_use = mat.u_mat[ln]
        xcol = lay.x + mm * n_t + tt
        capped = mat.pos[k_use] >= 0
        add(
            lay.mbal + mat.pos[k_use[capped]] * n_t + release[capped],
            xcol[capped],
            -mat.u_qty[ln[capped]],
        )
        # uncapped: in every cum row from its release month to the material's last one
        span = np.where(capped, 0, np.maximum(mat.cum_len[k_use] - release, 0))
        e = np.repeat(np.arange(span.size), span)
        step = np.arange(e.size) - np.repeat(np.cumsum(span) - span, span)
        add(
            lay.cum + mat.cum_start[k_use[e]] + release[e] + step,
            xcol[e],
            mat.u_qty[ln[e]],
        )

    if lay.n_c and mat.contract_of is not None:
        g_k = mat.group[k]
        c_k = np.where(g_k < mat.n_g, mat.contract_of[np.minimum(g_k, mat.n_g - 1) * n_t + t], -1)
        has = c_k >= 0
        add(lay.ctr + c_k[has], ucol[has], 1.0)
        row_up[lay.ctr : lay.cum] = mat.c_max
    elif lay.n_c:
        n_g = cover_cells.max(initial=0) // n_t + 1
        cover_of = np.full(int(n_g) * n_t, -1, dtype=np.int64)
        cover_of[cover_cells] = np.arange(cover_cells.size)
        g_k = mat.group[k]
        in_range = g_k < n_g
        ucov = np.where(in_range, cover_of[np.minimum(g_k, n_g - 1) * n_t + t], -1)
        has = ucov >= 0
        add(lay.cover + ucov[has], ucol[has], 1.0)
        c_v, t_v = np.divmod(v_cells, n_t)
        vcol = lay.v + np.arange(v_cells.size)
        add(lay.cover + cover_of[mat.c_group[c_v] * n_t + t_v], vcol, -1.0)
        add(lay.ctr + c_v, vcol, 1.0)
        row_up[lay.cover : lay.ctr] = 0.0
        row_up[lay.ctr : lay.cum] = mat.c_max


def _cheapest_two(prep: _Prepared, unit: FloatArray) -> tuple[IntArray, IntArray]:
    """Per product its cheapest method and the next one (-1 where there is none)."""
    n_p, n_m = prep.req.shape[0], prep.m_prod.size
    first, second = np.full(n_p, -1, dtype=np.int64), np.full(n_p, -1, dtype=np.int64)
    if n_m == 0:
        return first, second
    order = np.lexsort((np.arange(n_m), unit, prep.m_prod))
    prod = prep.m_prod[order]
    starts = np.ones(n_m, dtype=bool)
    starts[1:] = prod[1:] != prod[:-1]
    first[prod[starts]] = order[starts]
    nxt = np.zeros(n_m, dtype=bool)
    nxt[1:] = starts[:-1] & ~starts[1:]
    second[prod[nxt]] = order[nxt]
    return first, second


def _start_basis(prep: _Prepared, mdl: _Model) -> highspy.HighsBasis:
    """A starting basis from a plan that makes every requirement on time, with stock at the
    safety-stock target, on its cheapest method while that resource's regular hours last
    (in product order) and on the next cheapest after that, and keeps the crews.

    One basic column per row: for each product-month's balance row the production column
    of the method it is made on (its backorder column when it has no method), the headcount
    column for the crew row, the slack of every capacity and crew-hour row. That matrix is
    triangular, so the basis is valid. Started from the slack basis, the simplex needs
    about one pivot per product-month to reach a plan like this one; from here it needs
    only the pivots to the optimum. The optimum is the same LP's, only reached sooner.
    """
    lay = mdl.layout
    n_t, n_m = lay.n_t, lay.n_m
    S = highspy.HighsBasisStatus
    # 0 = at lower bound, 1 = basic, 2 = at upper bound
    col = np.zeros(lay.n_col, dtype=np.int8)
    row = np.zeros(lay.n_row, dtype=np.int8)
    col[(mdl.cost < 0) & np.isfinite(mdl.col_up)] = 2  # stock up to the target pays
    unit = mdl.cost[lay.x : lay.inv].reshape(n_m, n_t)[:, 0] if n_m else np.zeros(0)
    first, second = _cheapest_two(prep, unit)
    made = first >= 0
    # What each product-month makes in that plan, and where its first choice runs out.
    target = prep.ss
    opening = (prep.open_inv - prep.open_bo)[:, None]  # the stock month 0 starts from
    quantity = prep.req + target - np.concatenate([opening, target[:, :-1]], axis=1)
    quantity = np.maximum(quantity, 0.0)
    method = np.where(made[:, None], first[:, None], -1) * np.ones((1, n_t), dtype=np.int64)
    p_made = np.flatnonzero(made)
    if p_made.size:
        res = prep.m_res[first[p_made]]
        order = np.lexsort((p_made, res))
        p_sorted, r_sorted = p_made[order], res[order]
        hours = prep.m_hours[first[p_sorted], None] * quantity[p_sorted]  # [Pm,T]
        cum = np.cumsum(hours, axis=0)
        group_start = np.ones(p_sorted.size, dtype=bool)
        group_start[1:] = r_sorted[1:] != r_sorted[:-1]
        before = np.where(group_start[:, None], cum - hours, 0.0)
        before = np.maximum.accumulate(before, axis=0)  # cum at each group's start
        over = (cum - before > prep.avail[r_sorted] * (1 + 1e-9)) & (second[p_sorted] >= 0)[:, None]
        rows_over, t_over = np.nonzero(over)
        method[p_sorted[rows_over], t_over] = second[p_sorted[rows_over]]
    t = np.arange(n_t)
    chosen = method[p_made]  # [Pm,T]
    col[(lay.x + chosen * n_t + t).ravel()] = 1
    unmade = np.flatnonzero(~made)
    col[(lay.bo + unmade[:, None] * n_t + t).ravel()] = 1
    col[lay.w : lay.hire] = 1
    col[lay.s : lay.v] = 1  # material stock is basic in its balance row
    row[lay.cap : lay.wf] = 1
    row[lay.cover :] = 1
    status = [S.kLower, S.kBasic, S.kUpper]
    basis = highspy.HighsBasis()  # type: ignore[no-untyped-call]
    basis.col_status = [status[v] for v in col.tolist()]
    basis.row_status = [status[v] for v in row.tolist()]
    basis.valid = True
    return basis


_STATUS_TEXT = {
    "kOptimal": ("optimal", "Optimal plan found."),
    "kInfeasible": (
        "infeasible",
        "No plan satisfies the constraints (check headcount bounds and fixed inputs).",
    ),
    "kUnbounded": ("unbounded", "The cost can be made arbitrarily low (check for negative costs)."),
    "kUnboundedOrInfeasible": (
        "infeasible_or_unbounded",
        "The model is infeasible or unbounded (check headcount bounds and costs).",
    ),
    "kTimeLimit": ("time_limit", "The solver hit its time limit before proving optimality."),
    "kIterationLimit": ("iteration_limit", "The solver hit its iteration limit."),
    "kInterrupt": ("interrupted", "The solve was interrupted."),
    "kHighsInterrupt": ("interrupted", "The solve was interrupted."),
    "kMemoryLimit": ("memory_limit", "The solver ran out of memory."),
    "kModelEmpty": ("optimal", "Nothing to plan (empty model)."),
}


def describe_status(status: highspy.HighsModelStatus) -> tuple[str, str]:
    """HiGHS model status -> (short code, sentence for a planner)."""
    name = status.name
    return _STATUS_TEXT.get(name, ("solver_error", f"The solver failed ({name})."))


def solve_plan(
    problem: PlanningProblem,
    *,
    solver: str = "choose",
    threads: int | None = None,
    time_limit: float | None = None,
    tiebreak: float = 1e-4,
    highs_options: Mapping[str, Any] | None = None,
    warm_start: bool = True,
) -> PlanResult:
    """Minimise total plan cost; raise PlanningInputError before solving if inputs are bad.

    ``solver`` is HiGHS's (``choose``, ``simplex``, ``ipm``, ``pdlp``); ``tiebreak`` is added
    per unit and priority step over a product's preferred method so equal-cost methods follow
    priority. ``warm_start`` starts the simplex from ``_start_basis`` (same optimum, far
    fewer pivots on large models).
    """
    t0 = time.perf_counter()
    prep = _prepare(problem)
    mdl = _build_model(prep, overtime_allowed=problem.overtime_allowed, tiebreak=tiebreak)
    lay = mdl.layout

    integrality = np.zeros(lay.n_col, dtype=np.int32)  # continuous
    if problem.integer_workforce:
        integrality[lay.w : lay.u] = 1  # whole people: headcount, hires, releases
    h = highspy.Highs()  # type: ignore[no-untyped-call]
    options: dict[str, Any] = {"output_flag": False, "solver": solver}
    if threads is not None:
        options["threads"] = threads
    if time_limit is not None:
        options["time_limit"] = float(time_limit)
    options.update(highs_options or {})
    for key, value in options.items():
        if h.setOptionValue(key, value) == highspy.HighsStatus.kError:
            raise ValueError(f"invalid HiGHS option {key}={value!r}")
    status = h.passModel(
        lay.n_col,
        lay.n_row,
        int(mdl.index.size),
        int(highspy.MatrixFormat.kColwise),
        int(highspy.ObjSense.kMinimize),
        mdl.offset,
        mdl.cost,
        mdl.col_lo,
        mdl.col_up,
        mdl.row_lo,
        mdl.row_up,
        mdl.start,
        mdl.index,
        mdl.value,
        integrality,
    )
    if status == highspy.HighsStatus.kError:
        raise PlanningSolveError("model_error", "HiGHS rejected the assembled model")
    mip = problem.integer_workforce and lay.n_q > 0
    warm = warm_start and not mip and options["solver"] in ("choose", "simplex")
    if warm:
        # The start is nearly primal feasible but not dual feasible: primal simplex from it,
        # for a bounded number of pivots (see WARM_PIVOTS).
        h.setOptionValue("simplex_strategy", options.get("simplex_strategy", 4))
        h.setOptionValue("simplex_iteration_limit", max(int(WARM_PIVOTS * lay.n_row) + 2000, 0))
        h.setBasis(_start_basis(prep, mdl))
    t1 = time.perf_counter()
    h.run()
    if warm and h.getModelStatus() == highspy.HighsModelStatus.kIterationLimit:
        # Far from the start (a tight plan: backorders, pre-build, overtime everywhere): the
        # dual simplex from scratch gets there sooner than more primal pivots.
        h.clearSolver()
        h.setOptionValue("simplex_strategy", options.get("simplex_strategy", 1))
        h.setOptionValue("simplex_iteration_limit", highspy.kHighsIInf)
        h.run()
    t2 = time.perf_counter()

    code, message = describe_status(h.getModelStatus())
    has_solution = h.getInfo().primal_solution_status == 2  # kSolutionStatusFeasible
    if code in {"infeasible", "unbounded", "infeasible_or_unbounded"}:
        raise PlanningInfeasibleError(code, message, _conflict(h, code, prep, mdl, problem))
    if code != "optimal" and not has_solution:
        raise PlanningSolveError(code, message)
    sol = np.asarray(h.getSolution().col_value, dtype=np.float64)
    result = _extract(prep, lay, sol, h, code, message, t1 - t0, t2 - t1)
    if problem.integer_workforce and lay.n_q > 0:
        gap = float(h.getInfo().mip_gap)
        result = dataclasses.replace(result, mip_gap=gap if math.isfinite(gap) else None)
    return result


# --------------------------------------------------------------------------- explanation


class _Names:
    """What each LP row and column is, in a planner's words, from the model layout."""

    def __init__(self, prep: _Prepared, mdl: _Model, labels: _Labels) -> None:
        self.prep, self.mdl, self.lab = prep, mdl, labels
        self.lay = mdl.layout

    def _pool(self, q: int) -> str:
        return f"labour pool {self.prep.pools[q].name or q!r}"

    @staticmethod
    def _bound(lo: float, up: float, side: int | None) -> str:
        """The side of ``lo <= . <= up`` in conflict (IIS bound status; None: a ray)."""
        if side is None:
            return "grows without limit"
        if lo == up:
            return f"= {lo:g}"
        if side == int(highspy.IisBoundStatus.kIisBoundStatusLower):
            return f">= {lo:g}"
        if side == int(highspy.IisBoundStatus.kIisBoundStatusUpper):
            return f"<= {up:g}"
        sides = [f">= {lo:g}"] * math.isfinite(lo) + [f"<= {up:g}"] * math.isfinite(up)
        return " and ".join(sides) or "free"

    def row(self, i: int, side: int | None) -> PlanningIssue:
        lay, lab, n_t = self.lay, self.lab, self.lay.n_t
        bound = self._bound(float(self.mdl.row_lo[i]), float(self.mdl.row_up[i]), side)
        if i < lay.cap:
            p, t = divmod(i - lay.bal, n_t)
            what = f"stock balance of {lab.product(p)} in {lab.month(t)} (requirement {bound})"
            return PlanningIssue(None, t, what, p)
        if i < lay.pool_reg:
            r, t = divmod(i - lay.cap, n_t)
            what = f"hours of {lab.resource(r)} in {lab.month(t)} (regular hours {bound})"
            return PlanningIssue(r, t, what)
        if i < lay.pool_ot:
            q, t = divmod(i - lay.pool_reg, n_t)
            what = f"regular hours of {self._pool(q)} in {lab.month(t)} (within its headcount)"
            return PlanningIssue(None, t, what)
        if i < lay.wf:
            q, t = divmod(i - lay.pool_ot, n_t)
            what = f"overtime of {self._pool(q)} in {lab.month(t)} (within its overtime share)"
            return PlanningIssue(None, t, what)
        if i < lay.mbal:
            q, t = divmod(i - lay.wf, n_t)
            what = f"headcount of {self._pool(q)} carried into {lab.month(t)} ({bound})"
            return PlanningIssue(None, t, what)
        if i < lay.cover:
            k, t = divmod(i - lay.mbal, n_t)
            return PlanningIssue(None, t, f"stock of {self._mat(k)} in {lab.month(t)} ({bound})")
        if i < lay.ctr:
            return PlanningIssue(None, None, f"purchases within contracts ({bound})")
        if i < lay.cum:
            return PlanningIssue(None, None, f"contract {i - lay.ctr} maximum ({bound})")
        mat = self.prep.mat
        assert mat is not None
        k = int(np.searchsorted(mat.cum_start + mat.cum_len, i - lay.cum, side="right"))
        t = i - lay.cum - int(mat.cum_start[k])
        what = f"use of {self._mat(k)} up to {lab.month(t)} within stock and open orders"
        return PlanningIssue(None, t, f"{what} ({bound})")

    def _mat(self, k: int) -> str:
        names = self.prep.mat.names if self.prep.mat is not None else None
        return f"material {names[k]!r}" if names is not None else f"material {k}"

    def col(self, j: int, side: int | None) -> PlanningIssue:
        lay, lab, n_t, prep = self.lay, self.lab, self.lay.n_t, self.prep
        bound = self._bound(float(self.mdl.col_lo[j]), float(self.mdl.col_up[j]), side)
        if j < lay.inv:
            m, t = divmod(j - lay.x, n_t)
            p, r = int(prep.m_prod[m]), int(prep.m_res[m])
            what = f"production of {lab.product(p)} on {lab.resource(r)} in {lab.month(t)}"
            return PlanningIssue(r, t, f"{what} ({bound})", p)
        if j < lay.inv_ss:
            kind = "stock" if j < lay.bo else "backorder"
            p, t = divmod(j - (lay.inv if j < lay.bo else lay.bo), n_t)
            return PlanningIssue(None, t, f"{kind} of {lab.product(p)} in {lab.month(t)}", p)
        if j < lay.ot:
            p, t = divmod(int(lay.ss_idx[j - lay.inv_ss]), n_t)
            what = f"safety stock of {lab.product(p)} in {lab.month(t)} ({bound})"
            return PlanningIssue(None, t, what, p)
        if j < lay.w:
            r, t = divmod(j - lay.ot, n_t)
            what = f"overtime on {lab.resource(r)} in {lab.month(t)} ({bound} hours)"
            return PlanningIssue(r, t, what)
        if j >= lay.u:
            if j >= lay.v:
                return PlanningIssue(None, None, f"contract allotment ({bound})")
            k_loc, t = divmod(j - (lay.u if j < lay.s else lay.s), n_t)
            k = int(self.prep.mat.kc[k_loc]) if self.prep.mat is not None else k_loc
            kind = "purchases" if j < lay.s else "stock"
            return PlanningIssue(None, t, f"{kind} of {self._mat(k)} in {lab.month(t)} ({bound})")
        crew = (("headcount", lay.w), ("hires", lay.hire), ("releases", lay.fire))
        block, start = next((b, lo) for b, lo in reversed(crew) if j >= lo)
        q, t = divmod(j - start, n_t)
        what = f"{block} of {self._pool(q)} in {lab.month(t)} ({bound})"
        return PlanningIssue(None, t, what)


def _conflict(
    h: highspy.Highs, code: str, prep: _Prepared, mdl: _Model, problem: PlanningProblem
) -> list[PlanningIssue]:
    """Name the rows and bounds behind an infeasible or unbounded model, never raising:
    the IIS when HiGHS finds one, else (unbounded) the columns of its primal ray."""
    names = _Names(prep, mdl, _Labels(problem))
    try:
        if code != "unbounded":
            status, iis = h.getIis()
            if status != highspy.HighsStatus.kError and iis.valid_:
                rows = [
                    names.row(int(i), int(b))
                    for i, b in zip(iis.row_index_, iis.row_bound_, strict=False)
                ]
                cols = [
                    names.col(int(j), int(b))
                    for j, b in zip(iis.col_index_, iis.col_bound_, strict=False)
                ]
                if rows or cols:
                    return (rows + cols)[:MAX_CONFLICT_ITEMS]
        status, has_ray, ray = h.getPrimalRay()  # type: ignore[attr-defined]
        if status != highspy.HighsStatus.kError and has_ray:
            ray = np.abs(np.asarray(ray, dtype=float))
            moving = np.flatnonzero(ray > 1e-9)
            moving = moving[np.argsort(-ray[moving], kind="stable")][:MAX_CONFLICT_ITEMS]
            return [names.col(int(j), None) for j in moving]
    except Exception:  # an explanation must never hide the status itself
        return []
    return []


def _material_figures(
    prep: _Prepared, lay: _Layout, sol: FloatArray, h: highspy.Highs
) -> dict[str, FloatArray | None]:
    """[K,T] purchases, month-end stock, use and shadow price of every material. A
    material without a contract is bought just in time once its lead time has passed."""
    mat = prep.mat
    assert mat is not None
    n_t, n_m, n_p, n_k = lay.n_t, lay.n_m, lay.n_p, mat.n_k
    use = np.zeros((n_k, n_t))
    if mat.u_prod.size and n_m:
        x_prod = np.zeros((n_p, n_t))
        np.add.at(x_prod, prep.m_prod, sol[lay.x : lay.inv].reshape(n_m, n_t))
        taken = x_prod[mat.u_prod] * mat.u_qty[:, None]  # [L,T] by month made
        t_idx = np.maximum(np.arange(n_t)[None, :] - mat.u_lead[:, None], 0)
        np.add.at(use, (np.repeat(mat.u_mat, n_t), t_idx.ravel()), taken.ravel())
    # just in time: buy what the stock without purchases lacks, as it lacks it
    without = mat.opening[:, None] + np.cumsum(mat.receipts - use, axis=1)
    bought = np.maximum.accumulate(np.maximum(-without, 0.0), axis=1)
    purchases = np.diff(bought, axis=1, prepend=0.0)
    stock = np.maximum(without + bought, 0.0)
    duals = np.asarray(h.getSolution().row_dual, dtype=np.float64)
    value = np.zeros((n_k, n_t))
    if duals.size == lay.n_row:
        kc = mat.kc
        purchases[kc] = sol[lay.u : lay.s].reshape(kc.size, n_t)
        stock[kc] = sol[lay.s : lay.v].reshape(kc.size, n_t)
        value[kc] = np.abs(duals[lay.mbal : lay.cover]).reshape(kc.size, n_t)
        kk = np.repeat(np.arange(n_k), mat.cum_len)
        tt = np.arange(kk.size) - np.repeat(mat.cum_start, mat.cum_len)
        value[kk, tt] = np.abs(duals[lay.cum : lay.n_row])
    return {
        "material_purchases": purchases,
        "material_stock": stock,
        "material_use": use,
        "material_value": value,
    }


def _extract(
    prep: _Prepared,
    lay: _Layout,
    sol: FloatArray,
    h: highspy.Highs,
    code: str,
    message: str,
    build_s: float,
    solve_s: float,
) -> PlanResult:
    n_p, n_r, n_q, n_m, n_t = lay.n_p, lay.n_r, lay.n_q, lay.n_m, lay.n_t
    sol = np.maximum(sol, 0.0)  # clip solver noise: every column is >= 0
    x = sol[lay.x : lay.inv].reshape(n_m, n_t)
    inv = sol[lay.inv : lay.bo].reshape(n_p, n_t)
    bo = sol[lay.bo : lay.inv_ss].reshape(n_p, n_t)
    inv = inv.copy()
    inv.ravel()[lay.ss_idx] += sol[lay.inv_ss : lay.ot]
    short = np.maximum(prep.ss - inv, 0.0)
    ot = sol[lay.ot : lay.w].reshape(n_r, n_t)
    w = sol[lay.w : lay.hire].reshape(n_q, n_t)
    hires = sol[lay.hire : lay.fire].reshape(n_q, n_t)
    fires = sol[lay.fire : lay.u].reshape(n_q, n_t)
    materials: dict[str, FloatArray | None] = {}
    if prep.mat is not None:
        materials = _material_figures(prep, lay, sol, h)

    production = np.zeros((n_p, n_t))
    np.add.at(production, prep.m_prod, x)
    hours_used = np.zeros((n_r, n_t))
    np.add.at(hours_used, prep.m_res, x * prep.m_hours[:, None])
    with np.errstate(divide="ignore", invalid="ignore"):
        util = np.where(
            prep.avail > 0,
            hours_used / prep.avail,
            np.where(hours_used > 1e-9, np.inf, 0.0),
        )

    pools = prep.pools
    crew_used = np.zeros((n_q, n_t))
    pooled = prep.pool_of >= 0
    np.add.at(crew_used, prep.pool_of[pooled], hours_used[pooled])
    crew_hours = prep.hpp * w
    with np.errstate(divide="ignore", invalid="ignore"):
        crew_util = np.where(
            crew_hours > 0, crew_used / crew_hours, np.where(crew_used > 1e-9, np.inf, 0.0)
        )
    labour = hire_c = fire_c = 0.0
    for q, pl in enumerate(pools):
        labour += float(pl.regular_hour_cost * (prep.hpp[q] * w[q]).sum())
        hire_c += float(pl.hire_cost * hires[q].sum())
        fire_c += float(pl.fire_cost * fires[q].sum())
    costs = CostBreakdown(
        production=float((prep.m_cost[:, None] * x).sum()),
        overtime=float((prep.ot_cost[:, None] * ot).sum()),
        holding=float((prep.hold[:, None] * inv).sum()),
        backorder=float((prep.back[:, None] * bo).sum() + (prep.end_bo * bo[:, -1]).sum()),
        shortfall=float((prep.short[:, None] * short).sum()),
        labour=labour,
        hiring=hire_c,
        firing=fire_c,
    )
    return PlanResult(
        status=code,
        message=message,
        production_by_method=x,
        production=production,
        inventory=inv,
        backorder=bo,
        shortfall=short,
        overtime_hours=ot,
        hours_used=hours_used,
        utilisation=util,
        headcount=w,
        hires=hires,
        fires=fires,
        crew_utilisation=crew_util,
        costs=costs,
        objective=float(h.getInfo().objective_function_value),
        build_seconds=build_s,
        solve_seconds=solve_s,
        n_variables=lay.n_col,
        n_constraints=lay.n_row,
        n_nonzeros=int(h.getNumNz()),
        warnings=prep.warnings,
        **materials,
    )
