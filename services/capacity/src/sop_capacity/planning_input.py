"""From master data and production requirements to the arrays the planning engine takes.

Rough-cut capacity and every production-plan strategy start from the same
``CapacityModel``, so the numbers a planner compares (before/after, chase/level/optimal)
always rest on the same hours, methods and costs.

Conventions (a planner's reading of the data):

* The LP's "product" is a product at a site (``SKU-1@PLANT-A``): supply asks for production
  per site. A method can make it when its resource is at that site or is a co-packer.
* Requirements are supply's net production requirements: on-hand stock is already netted
  in, and so is the top-up that brings stock up to the safety-stock target. The plan's
  position is measured against supply's plan: ``dev[t] = cum(production - requirement)``.
* Safety stock is a soft target (see ``safety_stock_cushion``). The part of the requirement
  that only rebuilds safety stock may give way when capacity is short, at the shortfall
  cost (``SHORTFALL_SHARE`` of the backorder cost); only beyond it is demand backordered.
  With ``k[t]`` the safety stock supply's plan holds at the end of month ``t`` thanks to its
  requirements, the LP sees

      requirement'[t] = requirement[t] - (k[t] - k[t-1])     (k[-1] = k0: on hand at the start)
      opening stock   = k0
      soft target     = k[t]      (stock below it costs the shortfall rate per unit-month)

  so making exactly the requirement holds exactly ``k`` (nothing is counted twice), and a
  position ``dev`` splits into stock built ahead ``max(dev, 0)``, safety stock not rebuilt
  ``min(max(-dev, 0), k)`` and backorder ``max(-dev - k, 0)``. Holding is charged on all
  stock held (the safety stock included), so every strategy is costed the same way.
* Hours: a month without a calendar gives no regular hours, except on resources staffed by a
  modelled labour pool, where the crew is the limit. Overtime is capped by the calendar's
  ``max_overtime_hours``; without it, none outside a pool and the crew's share inside one.
* A product-site with a requirement but no usable method (no routing at its site, or no
  hours on any of its methods' resources in any month of the horizon) is "unplannable":
  every strategy plans it as backorder only, at its backorder cost, and the plan names it
  with the reason (``CapacityModel.unplannable``) instead of failing for every product.
* Costs per unit-month: holding = rate x product cost, backorder = rate x product price
  (falling back to cost, then to the cheapest method cost, then 1).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from sqlmodel import Session

from sop_capacity.calendars.repository import CalendarRepository
from sop_capacity.planning import LabourPool, Method, PlanningProblem
from sop_capacity.planning.lp import MaterialSupply
from sop_capacity.resources.models import ResourceKind
from sop_capacity.resources.repository import ResourceRepository
from sop_capacity.routings.repository import RoutingRepository
from sop_capacity.scenarios.repository import ScenarioRepository
from sop_capacity.workforce.repository import WorkforceRepository
from sop_shared.problems import Unprocessable
from sop_shared.readmodels.products import known_products

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

DEFAULT_BACKORDER_COST = 1.0
"""Backorder cost per unit-month of a product with no price, cost or method cost at all."""
UNPLANNABLE_COLUMNS = ["p", "product", "site", "requirement", "reason"]
MAX_UNPLANNABLE_WARNINGS = 10
"""Unplannable products named one by one in the plan's warnings; the rest are counted."""
SHORTFALL_SHARE = 0.5
"""Cost per unit-month of safety stock not rebuilt, as a share of the backorder cost: a
missed buffer is a risk, a backorder is a customer waiting."""


@dataclass(frozen=True)
class CostRates:
    """Per-month rates that turn product values into holding and backorder costs."""

    holding_rate_per_month: float = 0.02
    backorder_rate_per_month: float = 0.25


@dataclass
class ScenarioParams:
    overtime_allowed: bool | None = None
    unavailable: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class MasterData:
    """Everything the plan needs from this service's tables, read in one transaction."""

    resources: pd.DataFrame
    calendars: pd.DataFrame
    routings: pd.DataFrame
    workforce: pd.DataFrame
    products: pd.DataFrame
    scenario: ScenarioParams


def _frame(rows: list[Any], columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame([{c: getattr(r, c) for c in columns} for r in rows], columns=columns)


def load_master_data(
    session: Session,
    *,
    products: list[str],
    first_month: str,
    last_month: str,
    cycle: str | None = None,
    scenario: str | None = None,
) -> MasterData:
    resources = _frame(
        ResourceRepository(session).all(),
        ["code", "site", "kind", "labour_pool", "overtime_hour_cost"],
    )
    calendars = _frame(
        CalendarRepository(session).in_range(first_month, last_month),
        ["resource", "month", "available_hours", "max_overtime_hours"],
    )
    routings = _frame(
        RoutingRepository(session).for_products(products),
        ["product", "resource", "hours_per_unit", "cost_per_unit", "priority"],
    )
    workforce = _frame(
        WorkforceRepository(session).all(),
        [
            "pool",
            "headcount",
            "hours_per_person",
            "max_overtime_share",
            "regular_hour_cost",
            "overtime_hour_cost",
            "hire_cost",
            "fire_cost",
            "min_headcount",
            "max_headcount",
        ],
    )
    refs = known_products(session, products)
    product_frame = _frame(list(refs.values()), ["code", "price", "cost", "family"])
    params = ScenarioParams()
    if cycle and scenario:
        setting = ScenarioRepository(session).find(cycle, scenario)
        if setting is not None:
            params = ScenarioParams(setting.overtime_allowed, list(setting.unavailable_resources))
    return MasterData(resources, calendars, routings, workforce, product_frame, params)


def month_range(first: str, last: str) -> list[str]:
    return [str(p) for p in pd.period_range(first, last, freq="M")]


@dataclass(frozen=True)
class Positions:
    """Month-end position of each product against supply's plan, [P,T] each."""

    ahead: FloatArray  # stock built ahead of the requirement
    shortfall: FloatArray  # safety stock not rebuilt
    backorder: FloatArray  # demand not yet made
    stock: FloatArray  # stock held: the safety stock kept plus stock ahead


def safety_stock_cushion(
    requirement: FloatArray, safety: FloatArray, closing: FloatArray, opening: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Safety stock that supply's requirements build, per month end, and what is on hand.

    ``k[t] = min(c[t], k[t-1] + requirement[t])`` with ``c = max(min(safety, closing), 0)``
    (supply's target, as far as its planned closing stock reaches it; NaN closing = unknown,
    then the target) and ``k[-1] = k0 = max(min(opening, safety[0]), 0)`` (an unknown opening
    counts as none): the cushion grows
    only by what is made, so the requirement seen by the LP is never negative, and it never
    exceeds the stock supply's plan really has. Stock above the target (lot sizes, opening
    stock) stays hidden in the requirements, as before. Closed form, one pass over months:
    ``k[t] = R[t] + min(k0, min over s <= t of (c[s] - R[s]))`` with ``R`` the cumulative
    requirement.
    """
    cum = np.cumsum(requirement, axis=1)
    target = np.maximum(np.fmin(safety, closing), 0.0)
    k0 = np.maximum(np.minimum(np.nan_to_num(opening, nan=0.0), safety[:, 0]), 0.0)
    if target.shape[1] == 0:
        return target, k0
    low = np.minimum.accumulate(np.minimum(target - cum, k0[:, None]), axis=1)
    return np.maximum(cum + low, 0.0), k0


@dataclass
class CapacityModel:
    """Indices and arrays of one planning run; row order of each frame is its LP index."""

    months: list[str]
    pairs: pd.DataFrame  # product, site
    resources: pd.DataFrame  # code, site, kind, labour_pool, pool (index into pools or -1)
    methods: pd.DataFrame  # p, r, product, site, resource, hours_per_unit, cost_per_unit, priority
    requirement: FloatArray  # [P,T]
    safety_stock: FloatArray  # [P,T], supply's target (as planned there)
    cushion: FloatArray  # [P,T] k: safety stock supply's requirements build, the soft target
    cushion0: FloatArray  # [P] k0: safety stock on hand at the start
    available: FloatArray  # [R,T] regular hours, inf where only a crew limits
    overtime_max: FloatArray  # [R,T]
    unavailable: BoolArray  # [R,T] switched off by the scenario
    holding_cost: FloatArray  # [P]
    backorder_cost: FloatArray  # [P]
    pools: list[LabourPool]
    pool_codes: list[str]
    overtime_allowed: bool
    warnings: list[str]
    lot_minimum: FloatArray  # [P] supply's minimum order of the product-site (0: none)
    lot_multiple: FloatArray  # [P] its lot multiple (0: whole units); see production_plans.lots
    unplannable: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=UNPLANNABLE_COLUMNS)
    )  # p, product, site, requirement, reason: made by no strategy, backordered
    materials: MaterialSupply | None = None  # purchased materials that can bind (optimal)
    material_rows: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["material", "site"])
    )  # row k of ``materials``: material, site
    ending_inventory: FloatArray | None = None  # [P] required stock at the horizon's end
    ending_backorder_max: FloatArray | None = None  # [P] most backlog left at the end
    integer_workforce: bool = False  # whole people (the optimal plan becomes a MIP)

    @property
    def pair_names(self) -> list[str]:
        return (self.pairs["product"] + "@" + self.pairs["site"]).tolist()

    @property
    def resource_codes(self) -> list[str]:
        return self.resources["code"].tolist()

    def method_list(self) -> list[Method]:
        m = self.methods
        return [
            Method(int(p), int(r), float(h), float(c), int(q))
            for p, r, h, c, q in zip(
                m["p"], m["r"], m["hours_per_unit"], m["cost_per_unit"], m["priority"], strict=True
            )
        ]

    @property
    def shortfall_cost(self) -> FloatArray:
        return SHORTFALL_SHARE * self.backorder_cost

    def lp_requirement(self) -> FloatArray:
        """Requirement without the safety-stock top-up (see the module docstring)."""
        build = np.diff(self.cushion, axis=1, prepend=self.cushion0[:, None])
        return np.maximum(self.requirement - build, 0.0)  # >= 0 up to float noise

    def positions(self, production: FloatArray) -> Positions:
        """Split the position against supply's plan (the soft-target rule of every strategy)."""
        dev = np.cumsum(production - self.requirement, axis=1)
        short = np.clip(-dev, 0.0, self.cushion)
        return Positions(
            ahead=np.maximum(dev, 0.0),
            shortfall=short,
            backorder=np.maximum(-dev - self.cushion, 0.0),
            stock=np.maximum(self.cushion + dev, 0.0),
        )

    def most_hours(self) -> FloatArray:
        """Most hours each resource could give per month: calendar plus allowed overtime,
        within its crew at the crew's largest headcount (with its overtime share)."""
        cap = self.capacity_limit().copy()
        for pool in self.pools:
            share = pool.max_overtime_share if self.overtime_allowed else 0.0
            hpp = np.asarray(pool.hours_per_person, dtype=float)
            with np.errstate(invalid="ignore"):
                crew = np.where(hpp > 0, hpp * pool.max_headcount * (1.0 + share), 0.0)
            members = list(pool.resources)
            cap[members] = np.minimum(cap[members], crew)
        return cap

    def usable_methods(self) -> BoolArray:
        """[M] methods that can make something: no hours needed, or hours on their resource
        in some month of the horizon."""
        reach = self.most_hours().max(axis=1, initial=0.0)
        m = self.methods
        return (m["hours_per_unit"].to_numpy(float) == 0) | (reach[m["r"].to_numpy(int)] > 0)

    def problem(self) -> PlanningProblem:
        return PlanningProblem(
            requirement=self.lp_requirement(),
            available_hours=self.available,
            methods=self.method_list(),
            opening_inventory=self.cushion0,
            holding_cost=self.holding_cost,
            backorder_cost=self.backorder_cost,
            safety_stock=self.cushion,
            shortfall_cost=self.shortfall_cost,
            overtime_hours_max=self.overtime_max,
            overtime_cost=self.resources["overtime_hour_cost"].to_numpy(dtype=float),
            pools=self.pools,
            overtime_allowed=self.overtime_allowed,
            backorder_unmakeable=True,
            materials=self.materials,
            ending_inventory=self.ending_inventory,
            ending_backorder_max=self.ending_backorder_max,
            integer_workforce=self.integer_workforce,
            product_names=self.pair_names,
            resource_names=self.resource_codes,
            month_labels=self.months,
        )

    def capacity_limit(self) -> FloatArray:
        """Most hours each resource may give in a month (regular + allowed overtime)."""
        ot = self.overtime_max if self.overtime_allowed else np.zeros_like(self.overtime_max)
        return self.available + ot


def _months_text(months: list[str]) -> str:
    return months[0] if len(months) == 1 else f"{months[0]}..{months[-1]} ({len(months)} months)"


def build_model(
    requirements: pd.DataFrame,
    master: MasterData,
    *,
    rates: CostRates,
    overtime_allowed: bool = True,
) -> CapacityModel:
    """Assemble the arrays; refuse (422) only what makes any plan meaningless."""
    if requirements.empty or float(requirements["quantity"].sum()) <= 0:
        raise Unprocessable(
            "Nothing to plan: the supply plan has no production requirements.",
            code="no-requirements",
        )
    months = month_range(requirements["month"].min(), requirements["month"].max())
    t_of = {m: t for t, m in enumerate(months)}
    n_t = len(months)
    warnings: list[str] = []

    pairs = requirements[["product", "site"]].drop_duplicates().reset_index(drop=True)
    pairs["p"] = np.arange(len(pairs))
    req = requirements.merge(pairs, on=["product", "site"])
    t_idx = req["month"].map(t_of).to_numpy()
    requirement = np.zeros((len(pairs), n_t))
    np.add.at(requirement, (req["p"].to_numpy(), t_idx), req["quantity"].to_numpy(dtype=float))
    p_idx = req["p"].to_numpy()
    # Supply's target and opening stock per month; a month without a row keeps the last
    # known target, and its opening stock (so the previous month's closing) is unknown.
    safety = np.full((len(pairs), n_t), np.nan)
    safety[p_idx, t_idx] = req["safety_stock"].to_numpy(dtype=float)
    safety = pd.DataFrame(safety).ffill(axis=1).fillna(0.0).to_numpy()
    opening = np.full((len(pairs), n_t), np.nan)
    opening[p_idx, t_idx] = req["opening_stock"].to_numpy(dtype=float)
    closing = np.concatenate([opening[:, 1:], np.full((len(pairs), 1), np.nan)], axis=1)
    cushion, cushion0 = safety_stock_cushion(requirement, safety, closing, opening[:, 0])

    resources = master.resources.sort_values("code").reset_index(drop=True)
    resources["r"] = np.arange(len(resources))
    if resources.empty:
        raise Unprocessable("No resources are defined: load resources first.", code="no-resources")
    r_of = dict(zip(resources["code"], resources["r"], strict=True))

    # Labour pools: a labour_pool resource with a workforce record, and whoever it staffs.
    crews = master.workforce[
        master.workforce["pool"].isin(
            resources.loc[resources["kind"] == ResourceKind.labour_pool, "code"]
        )
    ].sort_values("pool")
    pool_codes = crews["pool"].tolist()
    q_of = {code: q for q, code in enumerate(pool_codes)}
    resources["pool"] = resources["labour_pool"].map(q_of).fillna(-1).astype(int)
    staffless = sorted(set(resources["labour_pool"].dropna()) - set(pool_codes))
    if staffless:
        warnings.append(
            f"labour pool(s) without a workforce record, planned on machine hours only: "
            f"{', '.join(staffless)}"
        )
    pools = []
    for crew in crews.itertuples(index=False):
        members = tuple(resources.loc[resources["labour_pool"] == crew.pool, "r"].tolist())
        pools.append(
            LabourPool(
                resources=members,
                headcount0=float(crew.headcount),
                hours_per_person=float(crew.hours_per_person),
                max_overtime_share=float(crew.max_overtime_share),
                regular_hour_cost=float(crew.regular_hour_cost),
                overtime_hour_cost=float(crew.overtime_hour_cost),
                hire_cost=float(crew.hire_cost),
                fire_cost=float(crew.fire_cost),
                min_headcount=float(crew.min_headcount),
                max_headcount=float(crew.max_headcount)
                if pd.notna(crew.max_headcount)
                else float("inf"),
                name=str(crew.pool),
            )
        )
    pooled = resources["pool"].to_numpy() >= 0

    # Methods: routings of the planned products on resources at the same site, or co-packers.
    methods = master.routings.merge(pairs, on="product").merge(
        resources[["code", "r", "site", "kind"]].rename(columns={"site": "resource_site"}),
        left_on="resource",
        right_on="code",
    )
    eligible = (methods["resource_site"] == methods["site"]) | (
        methods["kind"] == ResourceKind.copacker
    )
    methods = (
        methods[eligible]
        .sort_values(["p", "priority", "cost_per_unit", "resource"])
        .reset_index(drop=True)[
            ["p", "r", "product", "site", "resource", "hours_per_unit", "cost_per_unit", "priority"]
        ]
    )

    # Hours per resource and month.
    available = np.where(pooled[:, None], np.inf, 0.0) * np.ones((1, n_t))
    overtime_max = np.where(pooled[:, None], np.inf, 0.0) * np.ones((1, n_t))
    cal = master.calendars[master.calendars["resource"].isin(r_of)]
    cal = cal[cal["month"].isin(t_of)]
    cr = cal["resource"].map(r_of).to_numpy(dtype=int)
    ct = cal["month"].map(t_of).to_numpy(dtype=int)
    available[cr, ct] = cal["available_hours"].to_numpy(dtype=float)
    has_ot = cal["max_overtime_hours"].notna().to_numpy()
    overtime_max[cr[has_ot], ct[has_ot]] = cal["max_overtime_hours"].to_numpy(dtype=float)[has_ot]
    has_cal = np.zeros((len(resources), n_t), dtype=bool)
    has_cal[cr, ct] = True
    used = np.zeros(len(resources), dtype=bool)
    used[methods.loc[methods["hours_per_unit"] > 0, "r"].to_numpy(dtype=int)] = True
    for r in np.flatnonzero(used & ~pooled & ~has_cal.all(axis=1)):
        gaps = [months[t] for t in np.flatnonzero(~has_cal[r])]
        warnings.append(
            f"resource {resources.at[r, 'code']!r} has no calendar for {_months_text(gaps)}: "
            "no regular hours assumed there"
        )

    unavailable = np.zeros((len(resources), n_t), dtype=bool)
    for entry in master.scenario.unavailable:
        code = str(entry.get("resource", ""))
        if code not in r_of:
            warnings.append(f"scenario names unknown resource {code!r}; ignored")
            continue
        wanted = entry.get("months") or months
        cols = [t_of[m] for m in wanted if m in t_of]
        unavailable[r_of[code], cols] = True
    available[unavailable] = 0.0
    overtime_max[unavailable] = 0.0
    if master.scenario.overtime_allowed is False:
        overtime_allowed = False

    holding, backorder = _unit_costs(pairs, methods, master.products, rates)
    lots = np.zeros((2, len(pairs)))
    for i, column in enumerate(("moq", "lot_multiple")):
        if column in req:
            np.maximum.at(lots[i], p_idx, req[column].fillna(0.0).to_numpy(dtype=float))
    model = CapacityModel(
        months=months,
        pairs=pairs[["product", "site"]],
        resources=resources[["code", "site", "kind", "labour_pool", "overtime_hour_cost", "pool"]],
        methods=methods,
        requirement=requirement,
        safety_stock=safety,
        cushion=cushion,
        cushion0=cushion0,
        available=available,
        overtime_max=overtime_max,
        unavailable=unavailable,
        holding_cost=holding,
        backorder_cost=backorder,
        pools=pools,
        pool_codes=pool_codes,
        overtime_allowed=overtime_allowed,
        warnings=warnings,
        lot_minimum=lots[0],
        lot_multiple=lots[1],
    )
    model.unplannable = _unplannable(model, master.routings, resources, has_cal)
    model.warnings.extend(_unplannable_warnings(model.unplannable))
    return model


def _no_hours_reason(model: CapacityModel, r: int, has_cal: BoolArray) -> str:
    """Why a resource gives no hours in any month of the horizon, month by month."""
    months = np.asarray(model.months)
    pooled = model.resources.at[r, "pool"] >= 0
    off = model.unavailable[r]
    causes = []
    if off.any():
        causes.append(f"switched off by the scenario in {_months_text(months[off].tolist())}")
    no_cal = ~has_cal[r] & ~off & (not pooled)
    if no_cal.any():
        causes.append(f"no calendar for {_months_text(months[no_cal].tolist())}")
    zero = has_cal[r] & ~off & (model.available[r] <= 0)
    if zero.any():
        causes.append(f"its calendar gives 0 hours in {_months_text(months[zero].tolist())}")
    crewless = False
    if pooled:
        pool = model.pools[int(model.resources.at[r, "pool"])]
        crewless = pool.max_headcount <= 0
        if crewless:
            causes.append(f"its crew {pool.name!r} may have no people (max_headcount 0)")
    if not model.overtime_allowed and not crewless and (model.overtime_max[r] > 0).any():
        causes.append("overtime is not allowed in this run")
    code = model.resources.at[r, "code"]
    detail = "; ".join(causes) or "no regular or overtime hours"
    return f"resource {code!r} has no hours in any month ({detail})"


def _unplannable(
    model: CapacityModel, routings: pd.DataFrame, resources: pd.DataFrame, has_cal: BoolArray
) -> pd.DataFrame:
    """Product-sites with a requirement and no usable method, each with the reason."""
    n_p = len(model.pairs)
    # What must be made, as the LP sees it: the requirement net of the safety-stock rebuild
    # (which only falls short, a shortfall) and of the stock on hand at the start. A product
    # whose requirement is all rebuild is not unmet demand, so it is not listed.
    need = model.lp_requirement().sum(axis=1) - model.cushion0
    usable = model.usable_methods()
    m_p = model.methods["p"].to_numpy(int)
    has_method = np.zeros(n_p, dtype=bool)
    has_method[m_p] = True
    can_make = np.zeros(n_p, dtype=bool)
    can_make[m_p[usable]] = True
    stuck = np.flatnonzero((need > 1e-9) & ~can_make)
    if stuck.size == 0:
        return pd.DataFrame(columns=UNPLANNABLE_COLUMNS)
    site_of = dict(zip(resources["code"], resources["site"], strict=True))
    no_hours: dict[int, str] = {}
    rows = []
    for p in stuck.tolist():
        product, site = model.pairs.at[p, "product"], model.pairs.at[p, "site"]
        if has_method[p]:
            dead = sorted(set(model.methods.loc[m_p == p, "r"].astype(int)))
            for r in dead:
                no_hours.setdefault(r, _no_hours_reason(model, r, has_cal))
            reason = "no usable production method: " + "; ".join(no_hours[r] for r in dead)
        else:
            elsewhere = routings.loc[routings["product"] == product, "resource"].tolist()
            where = ", ".join(f"{code!r} (site {site_of.get(code, '?')})" for code in elsewhere)
            reason = f"no production method at site {site!r}: " + (
                f"routed only on {where}, neither at {site!r} nor a co-packer"
                if elsewhere
                else f"no routing of {product!r}"
            )
        rows.append(
            {
                "p": p,
                "product": product,
                "site": site,
                "requirement": float(need[p]),
                "reason": reason,
            }
        )
    return pd.DataFrame(rows, columns=UNPLANNABLE_COLUMNS)


def _unplannable_warnings(unplannable: pd.DataFrame) -> list[str]:
    named = [
        f"{row.product}@{row.site} cannot be made and is planned as backorder only "
        f"({row.requirement:g} units required): {row.reason}"
        for row in unplannable.head(MAX_UNPLANNABLE_WARNINGS).itertuples(index=False)
    ]
    rest = len(unplannable) - len(named)
    if rest > 0:
        named.append(
            f"... and {rest} more product(s) cannot be made and are planned as backorder "
            "only; see unmet_demand in the plan's review"
        )
    return named


def _unit_costs(
    pairs: pd.DataFrame, methods: pd.DataFrame, products: pd.DataFrame, rates: CostRates
) -> tuple[FloatArray, FloatArray]:
    """Holding and backorder cost per unit-month of each product-site."""
    n_p = len(pairs)
    cheapest = np.zeros(n_p)
    if not methods.empty:
        by_p = methods.groupby("p")["cost_per_unit"].min()
        cheapest[by_p.index.to_numpy(dtype=int)] = by_p.to_numpy(dtype=float)
    values = pairs[["product"]].merge(
        products.rename(columns={"code": "product"}), on="product", how="left"
    )
    cost = values["cost"].fillna(0.0).to_numpy(dtype=float)
    price = values["price"].fillna(0.0).to_numpy(dtype=float)
    cost = np.where(cost > 0, cost, cheapest)
    price = np.where(price > 0, price, cost)
    holding = rates.holding_rate_per_month * cost
    backorder = np.where(price > 0, rates.backorder_rate_per_month * price, DEFAULT_BACKORDER_COST)
    return holding, backorder


MATERIAL_COLUMNS = ["material", "site", "lead_time_months", "opening_stock", "scheduled_receipts"]


def attach_materials(model: CapacityModel, doc: dict[str, Any]) -> None:
    """Give the model the purchased materials that can limit its production.

    ``doc`` is supply's ``material-constraints`` document. A material at a site limits a
    product made there when the product's bill of material uses it and it can run short:
    it has a purchase lead time (until then only its stock and open orders are there) or a
    contract caps its purchases. A material bought at once without limit cannot bind and is
    left out of the LP. Its months are aligned on the model's by name.
    """
    mats = pd.DataFrame(doc.get("materials") or [], columns=MATERIAL_COLUMNS)
    bom = pd.DataFrame(doc.get("bom") or [], columns=["product", "material", "qty_per"])
    leads = pd.DataFrame(
        doc.get("product_lead_times") or [], columns=["product", "site", "lead_time_months"]
    )
    contracts = pd.DataFrame(
        doc.get("contracts") or [],
        columns=["contract", "material", "period_start", "period_end", "max_volume"],
    )
    if mats.empty or bom.empty:
        return
    months = model.months
    n_t = len(months)
    capped = set(contracts["material"])
    mats = mats[(mats["lead_time_months"] > 0) | mats["material"].isin(capped)]
    # only materials some product of this model uses at the material's site
    pairs = model.pairs[["product", "site"]].assign(p=np.arange(len(model.pairs)))
    lines = pairs.merge(bom, on="product").merge(
        mats[["material", "site"]].assign(k=np.arange(len(mats))), on=["material", "site"]
    )
    lines = lines[lines["qty_per"] > 0]
    if lines.empty:
        return
    keep = np.unique(lines["k"].to_numpy(int))
    mats = mats.iloc[keep].reset_index(drop=True)
    new_k = np.full(int(keep.max()) + 1, -1)
    new_k[keep] = np.arange(keep.size)
    lines = lines.assign(k=new_k[lines["k"].to_numpy(int)])
    lines = lines.merge(leads, on=["product", "site"], how="left")
    # receipts on supply's months, placed on the model's months by name
    supply_months = list(doc.get("months") or [])
    at = {m: t for t, m in enumerate(months)}
    cols = np.array([at.get(m, -1) for m in supply_months], dtype=np.int64)
    raw = np.array(mats["scheduled_receipts"].tolist(), dtype=float).reshape(len(mats), -1)
    receipts = np.zeros((len(mats), n_t))
    inside = (cols >= 0)[: raw.shape[1]]
    receipts[:, cols[: raw.shape[1]][inside]] = raw[:, inside]
    opening = mats["opening_stock"].to_numpy(float)
    codes, group = np.unique(mats["material"].to_numpy(str), return_inverse=True)
    g_of = {c: g for g, c in enumerate(codes)}
    contracts = contracts[contracts["material"].isin(g_of)].reset_index(drop=True)
    month_arr = np.asarray(months)
    c_months = (month_arr[None, :] >= contracts["period_start"].to_numpy(str)[:, None]) & (
        month_arr[None, :] <= contracts["period_end"].to_numpy(str)[:, None]
    )
    # open orders due in a contract's months use its maximum first (a month two contracts
    # cover counts against both: conservative)
    sched_g = np.zeros((len(codes), n_t))
    np.add.at(sched_g, group, receipts)
    c_group = contracts["material"].map(g_of).to_numpy(int)
    already = (sched_g[c_group] * c_months).sum(axis=1) if len(contracts) else np.zeros(0)
    c_max = np.maximum(contracts["max_volume"].to_numpy(float) - already, 0.0)
    model.materials = MaterialSupply(
        opening=opening,
        receipts=receipts,
        first_purchase=mats["lead_time_months"].to_numpy(int),
        use_product=lines["p"].to_numpy(int),
        use_material=lines["k"].to_numpy(int),
        use_qty=lines["qty_per"].to_numpy(float),
        use_lead=lines["lead_time_months"].fillna(0).to_numpy(int),
        material_group=group,
        contract_group=c_group,
        contract_months=c_months,
        contract_max=c_max,
        names=(mats["material"] + "@" + mats["site"]).tolist(),
    )
    model.material_rows = mats[["material", "site"]].copy()


@dataclass
class RunTerms:
    """Per-run aggregate-planning terms, keyed by product code or family (a product's own
    entry wins): costs in money per unit and month, required ending stock and most ending
    backlog per product-site, whole people."""

    holding_cost: dict[str, float] = field(default_factory=dict)
    backorder_cost: dict[str, float] = field(default_factory=dict)
    ending_inventory: dict[str, float] = field(default_factory=dict)
    ending_backorder_max: dict[str, float] = field(default_factory=dict)
    integer_workforce: bool = False


def _per_pair(
    model: CapacityModel, products: pd.DataFrame, values: dict[str, float]
) -> tuple[FloatArray, BoolArray]:
    """[P] the value of each product-site by product code, else family; and where given."""
    product = model.pairs["product"]
    family = product.map(products.set_index("code")["family"]) if not products.empty else None
    by_code = product.map(values)
    value = by_code if family is None else by_code.fillna(family.map(values))
    given = value.notna().to_numpy()
    return value.fillna(0.0).to_numpy(float), given


def apply_run_terms(model: CapacityModel, products: pd.DataFrame, terms: RunTerms) -> None:
    """Set a run's own costs and ending conditions on the model (every strategy sees them)."""
    for name in ("holding_cost", "backorder_cost"):
        values = getattr(terms, name)
        if values:
            value, given = _per_pair(model, products, values)
            current = getattr(model, name).copy()
            current[given] = value[given]
            setattr(model, name, current)
    if terms.ending_inventory:
        model.ending_inventory = _per_pair(model, products, terms.ending_inventory)[0]
    if terms.ending_backorder_max:
        value, given = _per_pair(model, products, terms.ending_backorder_max)
        model.ending_backorder_max = np.where(given, value, np.inf)
    model.integer_workforce = terms.integer_workforce
