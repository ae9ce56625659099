"""From demand lines and supply master data to a supply plan, vectorised over item-sites × months.

Pure functions over pandas/numpy: no database, no HTTP (the job loads and writes around them).
The netting itself is ``planning.engine.plan_supply``; this module builds its inputs:

* **Item-sites planned** are those with demand in the demand plan, those with supply
  parameters, and, at the same site, the components their bills of material call for
  (multi-level, by low-level code: ``planning.engine.validate_bom``). An item-site without
  parameters is planned with defaults (make when it has a bill of material, else buy; no lead
  time, lot sizing or safety stock) and counted in ``counts.item_sites_without_parameters``.
* **Opening stock** = on hand − quality hold + in transit of the latest snapshot *before*
  the first plan month (a snapshot "as of M" is the stock at the end of M).
* **Scheduled receipts** are open orders by due month; orders already due before the first
  month are expected in the first month.
* **Levels.** Level 0 (end items) is planned first; the planned production of each make
  item-site (``releases_with_past_due``) is exploded through its bill of material into
  dependent demand of its components at the same site, which are planned at the next level.
* **Safety stock** by the item-site's policy (``planning.safety_stock``), with ``ss_value``
  the policy's parameter: units (fixed), months or days of forward cover, or the standard
  deviation of the monthly forecast error (statistical). The statistical policy protects the
  lead time plus the item-site's review period R (``review_period_months``, default one month:
  a monthly plan), σ = √((L + R)·σ_d² + d̄²·σ_L²),
  the periodic-review form of Chopra & Meindl (safety inventory for a target cycle service
  level); a scenario's ``service_level`` overrides every item-site's target. σ_d is the
  planner's ``ss_value`` when given (> 0), otherwise the demand plan's ``forecast_sigma`` of
  the item-site's first plan month (``first_month_sigma``); see ``safety_stock``.
* **Maximum stock** = the item-site's ``max_stock`` if given, else safety stock + one month's
  lot (``target_stock`` of ``cycle_stock``): the order-up-to level of an (s, Q) policy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from sop_shared.quantities import snap
from sop_supply.planning import safety_stock as ss
from sop_supply.planning.engine import (
    EXCEPTION_KINDS,
    QTY_TOLERANCE,
    Bom,
    PlanningInput,
    explode_bom,
    find_exceptions,
    plan_supply,
    validate_bom,
)

FloatArray = npt.NDArray[np.float64]
REVIEW_PERIOD_MONTHS = 1.0
"""The review period of an item-site that does not give one: a monthly plan."""
DEFAULT_FAMILY = "UNCLASSIFIED"
LINE_MEASURES = (
    "demand",
    "dependent_demand",
    "opening",
    "scheduled",
    "planned_receipts",
    "planned_releases",
    "closing",
    "safety_stock",
    "max_stock",
    "shortage",
    "excess",
    "days_of_supply",
    "inventory_value",
)
ITEM_EXCEPTIONS = EXCEPTION_KINDS
CONTRACT_EXCEPTIONS = ("contract_under_use", "contract_over_use")


class PlanInputError(ValueError):
    """The inputs cannot make a plan (e.g. a demand plan without lines)."""


# --- months ----------------------------------------------------------------------------------


def month_index(month: str) -> int:
    return int(month[:4]) * 12 + int(month[5:7]) - 1


def month_code(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def month_range(first: str, last: str) -> list[str]:
    return [month_code(i) for i in range(month_index(first), month_index(last) + 1)]


def _month_positions(months: pd.Series, start: str) -> npt.NDArray[np.int64]:
    """Position of each ``YYYY-MM`` relative to ``start`` (vectorised over distinct months)."""
    codes, uniques = pd.factorize(months)
    offsets = np.array([month_index(m) for m in uniques], dtype=np.int64) - month_index(start)
    return offsets[codes] if codes.size else np.zeros(0, dtype=np.int64)


# --- inputs ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanData:
    """What a plan run reads from the supply database, as DataFrames."""

    item_sites: pd.DataFrame
    products: pd.DataFrame  # code, family, cost
    materials: pd.DataFrame  # code, family, unit_cost
    inventory: pd.DataFrame  # product, site, month, on_hand, in_transit, quality_hold
    open_supply: pd.DataFrame  # product, site, due_month, quantity
    bom: pd.DataFrame  # product, material, qty_per
    contracts: pd.DataFrame  # code, supplier, material, period_start, period_end, min/max, price
    sites: frozenset[str] = field(default_factory=frozenset)


ITEM_SITE_DEFAULTS: dict[str, Any] = {
    "lead_time_months": 0,
    "lead_time_std_months": 0.0,
    "moq": 0.0,
    "lot_multiple": 0.0,
    "ss_policy": "fixed",
    "ss_value": 0.0,
    "review_period_months": REVIEW_PERIOD_MONTHS,
    "service_level": 0.95,
    "max_stock": np.nan,
    "unit_cost": np.nan,
    "holding_cost_rate": 0.2,
    "shelf_life_months": np.nan,
}


@dataclass(frozen=True)
class PlanOutcome:
    """A computed plan: per item-site attributes, [N, T] measures, exceptions, contract review."""

    months: list[str]
    items: pd.DataFrame  # product, site, kind, make_or_buy, family, level, unit_cost, σ
    measures: dict[str, FloatArray]
    exceptions: pd.DataFrame  # item, month, kind, size, value, reference
    contracts: pd.DataFrame
    totals: dict[str, float]
    counts: dict[str, int]


def _among(values: pd.Series, allowed: Any) -> npt.NDArray[np.bool_]:
    """``values.isin(allowed)`` by hashing (pandas' isin on Arrow strings builds a scalar per
    allowed value, slow for thousands of codes)."""
    index = pd.Index(list(dict.fromkeys(allowed)), dtype=object)
    return np.asarray(index.get_indexer(values.to_numpy(dtype=object)) >= 0)


def _pair_codes(frame: pd.DataFrame) -> tuple[npt.NDArray[np.int64], pd.DataFrame]:
    """Each row's (product, site) pair as a code into the frame of distinct pairs.

    Factorising the two columns and then the pairs of small integer codes is much cheaper
    than hashing 2.4 M (product, site) tuples of strings.
    """
    products, product_values = pd.factorize(frame["product"])
    sites, site_values = pd.factorize(frame["site"])
    width = max(len(site_values), 1)
    pair, code = np.unique(products.astype(np.int64) * width + sites, return_inverse=True)
    distinct = pd.DataFrame(
        {
            "product": np.asarray(product_values, dtype=object)[pair // width],
            "site": np.asarray(site_values, dtype=object)[pair % width],
        }
    )
    return code.ravel().astype(np.int64), distinct


def _universe(keys: pd.DataFrame, item_sites: pd.DataFrame, bom: pd.DataFrame) -> pd.DataFrame:
    """Item-sites to plan: the given keys plus, recursively, the components of make items."""
    rows = pd.concat([keys, item_sites[["product", "site"]]], ignore_index=True).drop_duplicates()
    if bom.empty:
        return rows.sort_values(["product", "site"], ignore_index=True)
    make_param = item_sites.set_index(["product", "site"])["make_or_buy"]
    has_bom = set(bom["product"])
    frontier = rows
    while not frontier.empty:
        mob = make_param.reindex(pd.MultiIndex.from_frame(frontier[["product", "site"]])).to_numpy()
        default_make = _among(frontier["product"], has_bom)
        is_make = np.where(pd.isna(mob), default_make, mob == "make")
        children = frontier[is_make].merge(bom, on="product")[["material", "site"]]
        children = children.rename(columns={"material": "product"}).drop_duplicates()
        known = children.merge(rows, on=["product", "site"], how="left", indicator=True)
        frontier = children[(known["_merge"] == "left_only").to_numpy()]
        rows = pd.concat([rows, frontier], ignore_index=True)
    return rows.sort_values(["product", "site"], ignore_index=True)


def _cells(
    frame: pd.DataFrame,
    items: pd.DataFrame,
    start: str,
    month: str,
    pairs: tuple[npt.NDArray[np.int64], pd.DataFrame],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Each row's item-site (-1: none) and month offset from ``start`` (may fall outside)."""
    pair, distinct = pairs
    index = pd.MultiIndex.from_frame(items[["product", "site"]])
    row = index.get_indexer(pd.MultiIndex.from_frame(distinct))[pair]
    return row, _month_positions(frame[month], start)


def _grid(
    frame: pd.DataFrame,
    items: pd.DataFrame,
    start: str,
    t: int,
    *,
    month: str,
    value: str,
    clip_early: bool = False,
    cells: tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]] | None = None,
) -> tuple[FloatArray, int]:
    """Sum ``value`` of (product, site, ``month``) rows into [N, T]; rows outside are dropped.

    Returns the grid and how many rows fell outside the item-sites or the horizon. With
    ``clip_early`` rows before the horizon land in its first month.
    """
    n = len(items)
    out = np.zeros((n, t))
    if frame.empty:
        return out, 0
    row, col = cells or _cells(frame, items, start, month, _pair_codes(frame))
    if clip_early:
        col = np.maximum(col, 0)
    inside = (row >= 0) & (col >= 0) & (col < t)
    flat = row[inside] * t + col[inside]
    values = frame[value].to_numpy(dtype=np.float64)[inside]
    out += np.bincount(flat, weights=values, minlength=n * t).reshape(n, t)
    return out, int((~inside).sum())


def _item_attributes(items: pd.DataFrame, data: PlanData) -> pd.DataFrame:
    """Parameters (or defaults), kind, family and unit cost of each item-site, in row order."""
    params = items.merge(data.item_sites, on=["product", "site"], how="left", validate="1:1")
    params["has_parameters"] = params["make_or_buy"].notna()
    has_bom = _among(params["product"], set(data.bom["product"]))
    params["make_or_buy"] = params["make_or_buy"].where(
        params["has_parameters"], np.where(has_bom, "make", "buy")
    )
    for name, default in ITEM_SITE_DEFAULTS.items():
        if name not in params:
            params[name] = default
        params[name] = params[name].astype(object).where(params[name].notna(), default)
    products = data.products.set_index("code")
    materials = data.materials.set_index("code")
    is_material = _among(params["product"], materials.index)
    params["kind"] = np.where(is_material, "material", "product")
    family = (
        params["product"].map(products["family"]).fillna(params["product"].map(materials["family"]))
    )
    params["family"] = family.astype(object).where(family.notna(), DEFAULT_FAMILY)
    catalogue_cost = (
        params["product"]
        .map(products["cost"])
        .fillna(params["product"].map(materials["unit_cost"]))
    )
    params["unit_cost"] = (
        pd.to_numeric(params["unit_cost"]).fillna(catalogue_cost).fillna(0.0).astype(np.float64)
    )
    for name in (
        "lead_time_std_months",
        "moq",
        "lot_multiple",
        "ss_value",
        "review_period_months",
        "service_level",
        "max_stock",
        "holding_cost_rate",
        "shelf_life_months",
    ):
        params[name] = pd.to_numeric(params[name]).astype(np.float64)
    params["lead_time_months"] = pd.to_numeric(params["lead_time_months"]).astype(np.int64)
    return params


def _opening_stock(
    items: pd.DataFrame, inventory: pd.DataFrame, start: str
) -> tuple[FloatArray, int]:
    """Available stock at the start: the latest snapshot before ``start``; count of item-sites
    without one."""
    n = len(items)
    if inventory.empty:
        return np.zeros(n), n
    before = inventory[inventory["month"] < start]
    latest = before.sort_values("month").drop_duplicates(["product", "site"], keep="last")
    index = pd.MultiIndex.from_frame(items[["product", "site"]])
    row = index.get_indexer(pd.MultiIndex.from_frame(latest[["product", "site"]]))
    keep = row >= 0
    available = (
        latest["on_hand"].to_numpy()
        - latest["quality_hold"].to_numpy()
        + latest["in_transit"].to_numpy()
    )
    out = np.zeros(n)
    out[row[keep]] = available[keep]
    return out, n - int(keep.sum())


def first_month_sigma(
    demand: pd.DataFrame,
    n_items: int,
    cells: tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]],
) -> FloatArray:
    """[N] the demand plan's ``forecast_sigma`` of each item-site's first month with a line.

    NaN for an item-site without demand lines (a material), without σ (the demand plan has
    no statistical forecast behind the line) or when the demand lines carry no σ at all.
    Several lines in that month (the constrained run adds one carrying the base plan's σ):
    the largest σ among them, a missing one ignored.
    """
    out = np.full(n_items, np.nan)
    if demand.empty or "forecast_sigma" not in demand.columns:
        return out
    row, col = cells
    sigma = pd.to_numeric(demand["forecast_sigma"], errors="coerce").to_numpy(np.float64)
    keep = row >= 0
    row, col, sigma = row[keep], col[keep], sigma[keep]
    first = np.full(n_items, np.iinfo(np.int64).max)
    np.minimum.at(first, row, col)
    at_first = col == first[row]
    np.fmax.at(out, row[at_first], sigma[at_first])
    return out


def safety_stock(
    params: pd.DataFrame,
    demand: FloatArray,
    service_level: float | None,
    forecast_sigma: FloatArray | None = None,
) -> FloatArray:
    """Safety stock [n, T] of item-sites by their policy (see the module docstring).

    Statistical policy: SS = z(CSL) · √((L + R)·σ_d² + d̄²·σ_L²) with R the item-site's
    ``review_period_months`` (default 1: the review period of a monthly plan), d̄ the mean monthly demand over the horizon and σ_d
    the standard deviation of the monthly forecast error: the item-site's ``ss_value``
    when the planner gave one (> 0), else ``forecast_sigma`` ([n], from the demand plan's
    lines, NaN = unknown = 0). That σ is the error of the *one-month-ahead* forecast (the
    item-site's first plan month): the textbook formula scales the error of one period's
    forecast by √(L + R) over the protection interval, assuming independent monthly errors
    (Chopra & Meindl, *Supply Chain Management*, ch. "Managing Uncertainty in a Supply
    Chain: Safety Inventory", σ_L = √L·σ_D; Silver, Pyke & Thomas, *Inventory and
    Production Management in Supply Chains*, 4th ed., §"Individual Items with
    Probabilistic Demand", σ_{R+L} from the one-period forecast error σ_1).
    """
    n, t = demand.shape
    out = np.zeros((n, t))
    policy = params["ss_policy"].to_numpy()
    value = params["ss_value"].to_numpy(dtype=np.float64)
    for name in ("fixed", "months_of_cover", "days_of_cover", "statistical"):
        rows = np.flatnonzero(policy == name)
        if rows.size == 0:
            continue
        if name == "fixed":
            out[rows] = ss.fixed_quantity(value[rows], rows.size, t)
        elif name == "months_of_cover":
            out[rows] = ss.months_of_cover(demand[rows], value[rows])
        elif name == "days_of_cover":
            out[rows] = ss.days_of_cover(demand[rows], value[rows])
        else:
            csl = params["service_level"].to_numpy(dtype=np.float64)[rows]
            if service_level is not None:
                csl = np.full(rows.size, service_level)
            protection = (
                params["lead_time_months"].to_numpy(dtype=np.float64)[rows]
                + params["review_period_months"].to_numpy(dtype=np.float64)[rows]
            )
            sigma = value[rows]
            if forecast_sigma is not None:
                from_demand = np.nan_to_num(forecast_sigma[rows], nan=0.0)
                sigma = np.where(sigma > 0, sigma, np.maximum(from_demand, 0.0))
            out[rows] = ss.statistical(
                csl,
                mean_demand=demand[rows].mean(axis=1),
                demand_std=sigma,
                lead_time=protection,
                lead_time_std=params["lead_time_std_months"].to_numpy(dtype=np.float64)[rows],
            )[:, None]
    return out


def maximum_stock(params: pd.DataFrame, demand: FloatArray, safety: FloatArray) -> FloatArray:
    explicit = params["max_stock"].to_numpy(dtype=np.float64)
    lot = ss.cycle_stock(
        demand,
        moq=params["moq"].to_numpy(dtype=np.float64),
        lot_multiple=params["lot_multiple"].to_numpy(dtype=np.float64),
    )
    computed = ss.target_stock(safety, lot)
    return np.where(np.isnan(explicit)[:, None], computed, explicit[:, None])


# --- the plan ----------------------------------------------------------------------------------


def horizon_of(demand: pd.DataFrame) -> list[str]:
    if demand.empty:
        raise PlanInputError("The demand plan has no lines: there is nothing to plan.")
    months = demand["month"].unique()
    return month_range(str(min(months)), str(max(months)))


def compute_plan(
    demand: pd.DataFrame,
    data: PlanData,
    *,
    months: list[str] | None = None,
    service_level: float | None = None,
    constrained: pd.DataFrame | None = None,
    purchases: pd.DataFrame | None = None,
) -> PlanOutcome:
    """The supply plan of ``demand`` (product, site, month, quantity: independent demand).

    ``constrained`` (product, site, month, quantity) is a capacity-feasible production plan:
    make item-sites it names receive exactly its quantities (months it leaves out: nothing);
    make item-sites it does not name are planned as usual. ``purchases`` (product, site,
    month, quantity) are the material purchases of that plan: material-sites under a supplier
    contract receive exactly them (so the contract maximum and the purchase lead time the
    production plan respected hold here too); other materials are netted as usual, which
    within their lead time only uses stock and open orders, as the production plan did.
    """
    months = months or horizon_of(demand)
    start, t = months[0], len(months)
    demand_pairs = _pair_codes(demand)
    items = _universe(demand_pairs[1], data.item_sites, data.bom)
    params = _item_attributes(items, data)
    n = len(items)
    demand_cells = _cells(demand, items, start, "month", demand_pairs)  # the largest input: once
    independent, _ = _grid(
        demand, items, start, t, month="month", value="quantity", cells=demand_cells
    )
    forecast_sigma = first_month_sigma(demand, len(items), demand_cells)
    scheduled, open_outside = _grid(
        data.open_supply, items, start, t, month="due_month", value="quantity", clip_early=True
    )
    on_hand, without_inventory = _opening_stock(items, data.inventory, start)
    is_make = (params["make_or_buy"] == "make").to_numpy()
    fixed_production = None
    if constrained is not None:
        fixed_production = np.full((n, t), np.nan)
        named, _ = _grid(constrained, items, start, t, month="month", value="quantity")
        index = pd.MultiIndex.from_frame(items[["product", "site"]])
        in_capacity_plan = index.isin(pd.MultiIndex.from_frame(constrained[["product", "site"]]))
        fixed_production[in_capacity_plan] = named[in_capacity_plan]

    fixed_purchases = None
    if purchases is not None and not purchases.empty and not data.contracts.empty:
        contracted = purchases[_among(purchases["product"], set(data.contracts["material"]))]
        if not contracted.empty:
            fixed_purchases = np.full((n, t), np.nan)
            bought, _ = _grid(contracted, items, start, t, month="month", value="quantity")
            index = pd.MultiIndex.from_frame(items[["product", "site"]])
            named_rows = index.isin(pd.MultiIndex.from_frame(contracted[["product", "site"]]))
            fixed_purchases[named_rows] = bought[named_rows]

    levels = (
        validate_bom(data.bom[["product", "material"]].to_numpy(dtype=str))
        if not data.bom.empty
        else pd.Series(dtype=np.int64)
    )
    level = params["product"].map(levels).fillna(0).to_numpy(dtype=np.int64)
    links = _bom_links(items, params, data.bom)

    measures = {name: np.zeros((n, t)) for name in LINE_MEASURES}
    holding = np.zeros((n, t))
    exceptions: list[pd.DataFrame] = []
    for current in np.unique(level):
        rows = np.flatnonzero(level == current)
        sub = params.iloc[rows].reset_index(drop=True)
        gross = independent[rows] + measures["dependent_demand"][rows]
        safety = safety_stock(sub, gross, service_level, forecast_sigma[rows])
        inputs = PlanningInput(
            demand=gross,
            on_hand=on_hand[rows],
            scheduled_receipts=scheduled[rows],
            safety_stock=safety,
            max_stock=maximum_stock(sub, gross, safety),
            lead_time=sub["lead_time_months"].to_numpy(),
            is_make=is_make[rows],
            moq=sub["moq"].to_numpy(),
            lot_multiple=sub["lot_multiple"].to_numpy(),
            unit_cost=sub["unit_cost"].to_numpy(),
            holding_cost_rate=sub["holding_cost_rate"].to_numpy(),
            shelf_life_months=sub["shelf_life_months"].to_numpy(),
            constrained_production=None if fixed_production is None else fixed_production[rows],
            constrained_purchases=None if fixed_purchases is None else fixed_purchases[rows],
        )
        result = plan_supply(inputs)
        for name, array in (
            ("demand", result.demand),
            ("opening", result.opening_stock),
            ("scheduled", result.scheduled_receipts),
            ("planned_receipts", result.planned_receipts),
            ("planned_releases", result.releases_with_past_due()),
            ("closing", result.closing_stock),
            ("safety_stock", np.asarray(inputs.safety_stock)),
            ("max_stock", np.asarray(inputs.max_stock)),
            ("shortage", result.shortage),
            ("excess", result.excess),
            ("days_of_supply", result.days_of_supply),
            ("inventory_value", result.inventory_value),
        ):
            measures[name][rows] = array
        holding[rows] = result.holding_cost
        found = find_exceptions(inputs, result)
        found["item"] = rows[found["item"].to_numpy()]
        exceptions.append(found)
        mine = links[level[links["parent"]] == current] if not links.empty else links
        if not mine.empty:
            local = np.searchsorted(rows, mine["parent"].to_numpy())
            bom = Bom(local, mine["child"].to_numpy(), mine["qty_per"].to_numpy())
            measures["dependent_demand"] += explode_bom(result.releases_with_past_due(), bom, n)

    # Float noise is zero in every measure sent out (forward covers and maxima included).
    measures = {name: snap(array) for name, array in measures.items()}
    holding = snap(holding)
    review = contract_review(data.contracts, params, measures, months)
    parts = [_item_exceptions(exceptions, params, months), _contract_exceptions(review)]
    all_exceptions = pd.concat([p for p in parts if not p.empty] or parts[:1], ignore_index=True)
    counts = {
        "item_sites": n,
        "lines": n * t,
        "materials": int((params["kind"] == "material").sum()),
        "item_sites_without_parameters": int((~params["has_parameters"]).sum()),
        "item_sites_without_inventory": without_inventory,
        "open_supply_outside_plan": open_outside,
        "unknown_sites": int((~_among(params["site"], data.sites)).sum()) if data.sites else 0,
        "statistical_without_sigma": int(
            (
                (params["ss_policy"] == "statistical").to_numpy()
                & ~(params["ss_value"].to_numpy(dtype=np.float64) > 0)
                & ~(forecast_sigma > 0)
            ).sum()
        ),
        "exceptions": len(all_exceptions),
        "contracts_partial": _contract_count(review, "partial"),
        "contracts_no_buy_item": _contract_count(review, "no_buy_item"),
        **{
            kind: int((all_exceptions["kind"] == kind).sum())
            for kind in (*ITEM_EXCEPTIONS, *CONTRACT_EXCEPTIONS)
        },
    }
    totals = _totals(measures, holding, is_make, review)
    items_out = params[
        ["product", "site", "kind", "make_or_buy", "family", "unit_cost", "moq", "lot_multiple"]
    ].copy()
    items_out["level"] = level
    items_out["forecast_sigma"] = forecast_sigma
    return PlanOutcome(months, items_out, measures, all_exceptions, review, totals, counts)


def _bom_links(items: pd.DataFrame, params: pd.DataFrame, bom: pd.DataFrame) -> pd.DataFrame:
    """(parent row, child row, qty_per) for make item-sites with a bill of material."""
    if bom.empty:
        return pd.DataFrame({"parent": [], "child": [], "qty_per": []}).astype(
            {"parent": np.int64, "child": np.int64, "qty_per": np.float64}
        )
    rows = items[["product", "site"]].copy()
    rows["row"] = np.arange(len(rows))
    parents = rows[(params["make_or_buy"] == "make").to_numpy()].merge(bom, on="product")
    children = parents.merge(
        rows.rename(columns={"product": "material", "row": "child"}), on=["material", "site"]
    )
    return pd.DataFrame(
        {
            "parent": children["row"].to_numpy(np.int64),
            "child": children["child"].to_numpy(np.int64),
            "qty_per": children["qty_per"].to_numpy(np.float64),
        }
    ).sort_values("parent", ignore_index=True)


EXCEPTION_COLUMNS = [
    "kind",
    "product",
    "site",
    "family",
    "month",
    "size",
    "value",
    "reference",
    "sites",
]


def _item_exceptions(
    found: list[pd.DataFrame], params: pd.DataFrame, months: list[str]
) -> pd.DataFrame:
    """Engine exceptions (row and month positions) as product, site, family, month rows."""
    frame = pd.concat(found, ignore_index=True)
    item = frame["item"].to_numpy(np.int64)
    size = frame["size"].to_numpy(np.float64)
    return pd.DataFrame(
        {
            "kind": frame["kind"].astype(str).to_numpy(dtype=object),
            "product": params["product"].to_numpy(dtype=object)[item],
            "site": params["site"].to_numpy(dtype=object)[item],
            "family": params["family"].to_numpy(dtype=object)[item],
            "month": np.asarray(months, dtype=object)[frame["month"].to_numpy(np.int64)],
            "size": size,
            "value": size * params["unit_cost"].to_numpy(dtype=np.float64)[item],
            "reference": None,
            "sites": None,
        },
        columns=EXCEPTION_COLUMNS,
    )


# --- contracts --------------------------------------------------------------------------------

REVIEW_COLUMNS = [
    "contract",
    "supplier",
    "material",
    "family",
    "period_start",
    "period_end",
    "months_in_period",
    "months_in_horizon",
    "min_volume",
    "max_volume",
    "price",
    "planned_volume",
    "allocated_volume",
    "shortfall",
    "excess",
    "shortfall_value",
    "excess_value",
    "status",
]
PURCHASING_SITES = "purchasing_sites"
CONTRACT_JUDGED = "under"
"""The only status whose shortfall is a judged shortfall (partial and no_buy_item are not)."""


def contract_review(
    contracts: pd.DataFrame,
    params: pd.DataFrame,
    measures: dict[str, FloatArray],
    months: list[str],
) -> pd.DataFrame:
    """Planned purchases of each contract's material in its period against min and max.

    Purchases are the receipts of *buy* item-sites of the material at every site (open
    purchase orders + planned receipts) in the months of the period inside the horizon.
    When several contracts of a material cover the same months, the volume goes to the
    cheapest first, up to its maximum, then to the next; volume left over in a contract's
    months is over-use of the dearest contract covering them. ``shortfall`` = minimum −
    allocated volume (a commitment the plan does not use), ``excess`` = volume over the
    maxima. Status, first that applies:

    * ``no_buy_item``: no *buy* item-site of the material is in the plan (it is made at
      every site, e.g. a contract on a product made in house, or it has no item-site yet),
      so the plan cannot buy anything under the contract: a master-data gap, not a volume
      the plan chose not to buy. Such contracts are accepted at ingest rather than refused
      because the feeds arrive in any order (contracts before item-sites, an item-site
      switched from buy to make later) and make-or-buy may differ by site; the review marks
      them instead, and their ``shortfall`` stays out of the judged total (``CONTRACT_JUDGED``).
    * ``over``: already over the maxima (judged even when the period runs past the horizon).
    * ``partial``: the period is not wholly inside the horizon, so the minimum can still be
      met after it; ``shortfall`` is then what the plan has not yet covered, not judged.
    * ``under`` (shortfall > 0) or ``ok``.

    Contracts whose period does not overlap the horizon (expired, or not started within it)
    are not reviewed. A contract is site-independent: its volume is the material's purchases
    at every site. ``purchasing_sites`` (space-separated, not a stored review column) names the sites whose
    purchases of the material fall in the period, for the contract exceptions.
    """
    if contracts.empty:
        return pd.DataFrame(columns=[*REVIEW_COLUMNS, PURCHASING_SITES])
    t = len(months)
    first = month_index(months[0])
    # an expired contract, or one that starts after the horizon, has nothing to judge here
    overlaps = (contracts["period_end"].map(month_index) >= first) & (
        contracts["period_start"].map(month_index) <= first + t - 1
    )
    contracts = contracts[overlaps.to_numpy(dtype=bool)]
    if contracts.empty:
        return pd.DataFrame(columns=[*REVIEW_COLUMNS, PURCHASING_SITES])
    under_contract = _among(params["product"], set(contracts["material"]))
    rows = np.flatnonzero(under_contract & (params["make_or_buy"] == "buy").to_numpy())
    purchases = measures["planned_receipts"][rows] + measures["scheduled"][rows]
    row_material = params["product"].to_numpy()[rows]
    row_site = params["site"].to_numpy(dtype=object)[rows]
    by_material = pd.DataFrame(purchases).groupby(row_material).sum()
    material_rows = pd.Series(np.arange(rows.size)).groupby(row_material).indices
    families = dict(zip(params["product"], params["family"], strict=False))
    out = []
    ordered = contracts.sort_values(["material", "price", "code"])
    for material, group in ordered.groupby("material", sort=False):
        volume = (
            by_material.loc[material].to_numpy(np.float64)
            if material in by_material.index
            else np.zeros(t)
        )
        remaining = volume.copy()
        spans = []
        for c in group.itertuples():
            lo = max(month_index(c.period_start) - first, 0)
            hi = min(month_index(c.period_end) - first + 1, t)
            span = slice(lo, max(hi, lo))
            available = remaining[span]
            allocated = min(float(available.sum()), float(c.max_volume))
            taken_before = np.cumsum(available) - available
            take = np.clip(allocated - taken_before, 0.0, available)
            remaining[span] -= take
            spans.append((c, span, allocated))
        left_over = {}
        for c, span, _ in reversed(spans):
            left_over[c.code] = float(remaining[span].sum())
            remaining[span] = 0.0
        mine = material_rows.get(material, np.zeros(0, dtype=np.int64))
        for c, span, allocated in spans:
            bought = purchases[mine, span].sum(axis=1) > QTY_TOLERANCE
            sites = " ".join(sorted(row_site[mine][bought]))
            in_period = month_index(c.period_end) - month_index(c.period_start) + 1
            in_horizon = max(span.stop - span.start, 0)
            shortfall = max(float(c.min_volume) - allocated, 0.0)
            excess = left_over[c.code]
            if mine.size == 0:
                status = "no_buy_item"
            elif excess > QTY_TOLERANCE:
                status = "over"
            elif in_horizon < in_period:
                status = "partial"
            elif shortfall > QTY_TOLERANCE:
                status = "under"
            else:
                status = "ok"
            out.append(
                {
                    "contract": c.code,
                    "supplier": c.supplier,
                    "material": material,
                    "family": families.get(material, DEFAULT_FAMILY),
                    "period_start": c.period_start,
                    "period_end": c.period_end,
                    "months_in_period": in_period,
                    "months_in_horizon": in_horizon,
                    "min_volume": float(c.min_volume),
                    "max_volume": float(c.max_volume),
                    "price": float(c.price),
                    "planned_volume": float(volume[span].sum()),
                    "allocated_volume": allocated,
                    "shortfall": shortfall,
                    "excess": excess,
                    "shortfall_value": shortfall * float(c.price),
                    "excess_value": excess * float(c.price),
                    "status": status,
                    PURCHASING_SITES: sites,
                }
            )
    return pd.DataFrame(out, columns=[*REVIEW_COLUMNS, PURCHASING_SITES])


def _contract_exceptions(review: pd.DataFrame) -> pd.DataFrame:
    """Under-use (complete periods only) and over-use, dated at the end of the period.

    A contract covers every site, so its exception has no ``site``; ``sites`` lists the
    sites that buy the material in the contract's period (empty: no site buys it).
    """
    rows = []
    for r in review.itertuples():
        if r.status in ("under", "over"):
            under = r.status == "under"
            rows.append(
                {
                    "kind": "contract_under_use" if under else "contract_over_use",
                    "product": r.material,
                    "site": None,
                    "family": r.family,
                    "month": r.period_end,
                    "size": r.shortfall if under else r.excess,
                    "value": r.shortfall_value if under else r.excess_value,
                    "reference": r.contract,
                    "sites": r.purchasing_sites,
                }
            )
    return pd.DataFrame(rows, columns=EXCEPTION_COLUMNS)


def _totals(
    measures: dict[str, FloatArray],
    holding: FloatArray,
    is_make: npt.NDArray[np.bool_],
    review: pd.DataFrame,
) -> dict[str, float]:
    receipts = measures["planned_receipts"]
    value = measures["inventory_value"]
    dependent = measures["dependent_demand"]
    return {
        "demand": float((measures["demand"] - dependent).sum()),
        "material_requirements": float(dependent.sum()),
        "scheduled_receipts": float(measures["scheduled"].sum()),
        "planned_production": float(receipts[is_make].sum()),
        "planned_purchases": float(receipts[~is_make].sum()),
        "shortage": float(measures["shortage"].max(axis=1, initial=0.0).sum()),
        "ending_inventory": float(np.maximum(measures["closing"][:, -1], 0.0).sum())
        if receipts.size
        else 0.0,
        "ending_inventory_value": float(value[:, -1].sum()) if value.size else 0.0,
        "average_inventory_value": float(value.sum(axis=0).mean()) if value.size else 0.0,
        "holding_cost": float(holding.sum()),
        "contract_shortfall_value": _contract_value(review, "shortfall_value", CONTRACT_JUDGED),
        "contract_partial_shortfall_value": _contract_value(review, "shortfall_value", "partial"),
        "contract_excess_value": float(review["excess_value"].sum()) if not review.empty else 0.0,
    }


def _contract_value(review: pd.DataFrame, column: str, status: str) -> float:
    """Σ ``column`` over the contracts of one review status."""
    if review.empty:
        return 0.0
    return float(review.loc[(review["status"] == status).to_numpy(), column].sum())


def _contract_count(review: pd.DataFrame, status: str) -> int:
    return int((review["status"] == status).sum()) if not review.empty else 0


# --- material constraints for capacity ---------------------------------------------------------


def material_constraints(
    plan_id: Any,
    months: list[str],
    lines: pd.DataFrame,
    bom: pd.DataFrame,
    lead: pd.DataFrame,
    contracts: pd.DataFrame,
) -> dict[str, Any]:
    """The ``MaterialConstraints`` document from the plan's buy-material lines (material,
    site, month, opening, scheduled), the BOM, item-site lead times and contracts."""
    t = len(months)
    at = {m: i for i, m in enumerate(months)}
    materials: list[dict[str, Any]] = []
    if not lines.empty:
        lines = lines[lines["month"].isin(list(at))].copy()
        pairs = lines[["material", "site"]].drop_duplicates().sort_values(["material", "site"])
        pairs = pairs.reset_index(drop=True)
        index = pd.MultiIndex.from_frame(pairs)
        row = index.get_indexer(pd.MultiIndex.from_frame(lines[["material", "site"]]))
        col = lines["month"].map(at).to_numpy(np.int64)
        scheduled = np.zeros((len(pairs), t))
        np.add.at(scheduled, (row, col), lines["scheduled"].to_numpy(np.float64))
        opening = np.zeros(len(pairs))
        first = col == 0
        opening[row[first]] = lines["opening"].to_numpy(np.float64)[first]
        lead_of = lead.rename(columns={"product": "material"}).set_index(["material", "site"])
        lead_time = (
            lead_of["lead_time_months"].reindex(index).fillna(0).to_numpy(np.int64)
            if not lead_of.empty
            else np.zeros(len(pairs), dtype=np.int64)
        )
        materials = [
            {
                "material": m,
                "site": s,
                "lead_time_months": int(lt),
                "opening_stock": float(o),
                "scheduled_receipts": sched.tolist(),
            }
            for m, s, lt, o, sched in zip(
                pairs["material"], pairs["site"], lead_time, opening, scheduled, strict=True
            )
        ]
    bought = {m["material"] for m in materials}
    bom = bom[bom["material"].isin(bought)]
    parents = set(bom["product"])
    lead = lead[lead["product"].isin(parents)]
    return {
        "plan_id": plan_id,
        "months": months,
        "materials": materials,
        "bom": bom.to_dict("records"),
        "product_lead_times": lead.to_dict("records"),
        "contracts": contracts[contracts["material"].isin(bought)].to_dict("records"),
    }
