"""The demo company: three sites, three families, twenty products, three years of history.

``load(urls, token)`` creates it through the public REST APIs of the four services (as an
ERP would) and opens the current cycle; ``make run`` calls it so a newcomer sees a whole
cycle at once. ``build(month)`` is the pure, seeded generator the loader sends.

The company makes beverages (family BEV, summer peak) at PLANT-N on two bottling lines,
snacks (SNK, year-end peak) at PLANT-S on a baking line with a co-packer as alternate, and
buys personal-care products (CARE) into the distribution centre DC-E, which also trades the
two best-selling beverages. BEV-008 is a new product (NPI) launching in two months from its
analog BEV-001; SNK-006 is phasing out (EOL in three months) in favour of SNK-005.

Each call is made only if the service's OpenAPI document lists the endpoint; a missing one
is skipped with a warning (the services grow in parallel), any other refusal is an error.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import httpx
import numpy as np

from sop_cycle.cycles.calendar import month_bounds, shift_month

log = logging.getLogger("sop.cycle.demo")

HISTORY_MONTHS = 36
HORIZON_MONTHS = 24
SEED = 20261201


@dataclass
class DemoCompany:
    """Everything the loader sends, as rows of the services' bulk endpoints."""

    month: str  # the cycle opened (the current month)
    history_months: list[str]
    horizon_months: list[str]
    sites: list[dict[str, Any]] = field(default_factory=list)
    products: list[dict[str, Any]] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)
    budgets: list[dict[str, Any]] = field(default_factory=list)
    promotions: list[dict[str, Any]] = field(default_factory=list)
    materials: list[dict[str, Any]] = field(default_factory=list)
    suppliers: list[dict[str, Any]] = field(default_factory=list)
    item_sites: list[dict[str, Any]] = field(default_factory=list)
    inventory: list[dict[str, Any]] = field(default_factory=list)
    open_supply: list[dict[str, Any]] = field(default_factory=list)
    boms: list[dict[str, Any]] = field(default_factory=list)
    contracts: list[dict[str, Any]] = field(default_factory=list)
    supply_budget: list[dict[str, Any]] = field(default_factory=list)
    resources: list[dict[str, Any]] = field(default_factory=list)
    calendars: list[dict[str, Any]] = field(default_factory=list)
    routings: list[dict[str, Any]] = field(default_factory=list)
    workforce: list[dict[str, Any]] = field(default_factory=list)
    production_history: list[dict[str, Any]] = field(default_factory=list)

    @property
    def families(self) -> list[str]:
        return sorted({p["family"] for p in self.products})


# (code, name, family, category, price, cost, base monthly volume)
CATALOGUE = [
    ("BEV-001", "Sparkling water 1.5 l", "BEV", "DRINKS", 0.9, 0.35, 5200),
    ("BEV-002", "Lemon soda 1.5 l", "BEV", "DRINKS", 1.2, 0.45, 3400),
    ("BEV-003", "Cola 1.5 l", "BEV", "DRINKS", 1.4, 0.5, 4100),
    ("BEV-004", "Iced tea peach 1 l", "BEV", "DRINKS", 1.3, 0.52, 2300),
    ("BEV-005", "Orange juice 1 l", "BEV", "DRINKS", 2.1, 1.05, 1800),
    ("BEV-006", "Energy drink 0.25 l", "BEV", "DRINKS", 1.6, 0.6, 1500),
    ("BEV-007", "Still water 0.5 l", "BEV", "DRINKS", 0.5, 0.18, 6100),
    ("SNK-001", "Salted crisps 150 g", "SNK", "FOOD", 1.9, 0.7, 2600),
    ("SNK-002", "Paprika crisps 150 g", "SNK", "FOOD", 1.9, 0.72, 1700),
    ("SNK-003", "Butter biscuits 200 g", "SNK", "FOOD", 2.4, 0.95, 2100),
    ("SNK-004", "Chocolate cookies 200 g", "SNK", "FOOD", 2.9, 1.2, 1900),
    ("SNK-005", "Oat bars 6-pack", "SNK", "FOOD", 3.2, 1.4, 900),
    ("SNK-006", "Cereal bars 6-pack (EOL)", "SNK", "FOOD", 3.0, 1.35, 800),
    ("CARE-001", "Shower gel 250 ml", "CARE", "HOME", 3.5, 1.6, 1300),
    ("CARE-002", "Shampoo 300 ml", "CARE", "HOME", 4.2, 1.9, 1100),
    ("CARE-003", "Toothpaste 75 ml", "CARE", "HOME", 2.2, 0.8, 2000),
    ("CARE-004", "Hand soap 300 ml", "CARE", "HOME", 2.6, 1.0, 1400),
    ("CARE-005", "Deodorant 150 ml", "CARE", "HOME", 3.9, 1.7, 1000),
    ("CARE-006", "Sun cream 200 ml", "CARE", "HOME", 9.5, 4.1, 600),
]
NPI = ("BEV-008", "Zero-sugar lemon soda 1.5 l", "BEV", "DRINKS", 1.3, 0.47)
EOL, SUCCESSOR = "SNK-006", "SNK-005"
#: Month of the year (1-12) with the seasonal peak, and the swing around the level.
SEASON = {"BEV": (7, 0.35), "SNK": (12, 0.25), "CARE": (6, 0.10)}
HOME_SITE = {"BEV": "PLANT-N", "SNK": "PLANT-S", "CARE": "DC-E"}
TRADED_AT_DC = ("BEV-001", "BEV-003")  # also sold from the distribution centre (bought in)
BEV_HOURS = (0.016, 0.018)  # hours per unit on bottling lines 1 and 2
HISTORIC_PROMOS = {"BEV-002": (6, 0.4), "SNK-002": (11, 0.3)}  # product: (month, uplift)


def months_between(first: str, count: int) -> list[str]:
    return [shift_month(first, i) for i in range(count)]


def _working_days(month: str) -> int:
    first, last = month_bounds(month)
    return int(np.busday_count(first, np.datetime64(last) + np.timedelta64(1, "D")))


def scaled_catalogue(products: int, rng: np.random.Generator) -> list[tuple[Any, ...]]:
    """``products`` items cloned from the catalogue (codes ``BEV-001-0001``...), volumes
    shared out so the company's total stays the demo's (the lines need not grow)."""
    out = []
    for k in range(products):
        code, name, family, category, price, cost, base = CATALOGUE[k % len(CATALOGUE)]
        clone = k // len(CATALOGUE)
        jitter = float(rng.uniform(0.9, 1.1))
        out.append(
            (
                code if clone == 0 else f"{code}-{clone:04d}",
                name if clone == 0 else f"{name} #{clone}",
                family,
                category,
                round(price * jitter, 2),
                round(cost * jitter, 2),
                base * len(CATALOGUE) / products * float(rng.lognormal(0.0, 0.4)),
            )
        )
    return out


def build(month: str, seed: int = SEED, products: int | None = None) -> DemoCompany:
    """The demo company for the cycle of ``month``: history ends the month before it.

    ``products`` scales it for benchmarks: that many products (20 by default, the NPI
    included), each sold at all three sites (made at its plant, bought in elsewhere).
    """
    rng = np.random.default_rng(seed)
    catalogue = CATALOGUE if products is None else scaled_catalogue(products - 1, rng)
    history = months_between(shift_month(month, -HISTORY_MONTHS), HISTORY_MONTHS)
    horizon = months_between(month, HORIZON_MONTHS)
    company = DemoCompany(month=month, history_months=history, horizon_months=horizon)
    launch = date.fromisoformat(shift_month(month, 2) + "-01")
    eol = date.fromisoformat(shift_month(month, 3) + "-01")

    company.sites = [
        {"code": "PLANT-N", "name": "North plant (beverages)", "kind": "plant", "country": "DE"},
        {"code": "PLANT-S", "name": "South plant (snacks)", "kind": "plant", "country": "FR"},
        {"code": "DC-E", "name": "East distribution centre", "kind": "dc", "country": "PL"},
    ]
    for code, name, family, category, price, cost, _ in catalogue:
        product: dict[str, Any] = {
            "code": code,
            "name": name,
            "family": family,
            "category": category,
            "unit": "EA",
            "price": price,
            "cost": cost,
            "lifecycle": "active",
        }
        if code == EOL:
            product.update(
                lifecycle="phase_out", eol_date=eol.isoformat(), successor_code=SUCCESSOR
            )
        company.products.append(product)
    code, name, family, category, price, cost = NPI
    company.products.append(
        {
            "code": code,
            "name": name,
            "family": family,
            "category": category,
            "unit": "EA",
            "price": price,
            "cost": cost,
            "lifecycle": "npi",
            "launch_date": launch.isoformat(),
            "analog_code": "BEV-001",
            "scaling_factor": 0.6,
            "launch_curve": [0.3, 0.6, 0.85, 1.0],
            "launch_probability": 0.8,
        }
    )

    # --- sales history: level × trend × season × promotions × noise, one array op -------
    series: list[tuple[str, str, str, float, float]] = [
        (c, HOME_SITE[f], f, p, float(b)) for c, _, f, _, p, _, b in catalogue
    ]
    if products is None:
        series += [
            (c, "DC-E", "BEV", p, b * 0.25)
            for c, _, f, _, p, _, b in catalogue
            if c in TRADED_AT_DC
        ]
    else:  # every product at every site: its plant and two more (bought in)
        series += [
            (c, site, f, p, b * 0.3)
            for c, _, f, _, p, _, b in catalogue
            for site in ("PLANT-N", "PLANT-S", "DC-E")
            if site != HOME_SITE[f]
        ]
    month_of_year = np.array([int(m[5:]) for m in history])
    t = np.arange(HISTORY_MONTHS)
    peak = np.array([SEASON[s[2]][0] for s in series])[:, None]
    swing = np.array([SEASON[s[2]][1] for s in series])[:, None]
    level = np.array([s[4] for s in series])[:, None]
    season = 1 + swing * np.cos(2 * np.pi * (month_of_year[None, :] - peak) / 12)
    trend = 1 + 0.04 * t[None, :] / 12  # +4 % a year
    noise = rng.gamma(shape=40.0, scale=1 / 40.0, size=(len(series), HISTORY_MONTHS))
    uplift = np.ones((len(series), HISTORY_MONTHS))
    for i, s in enumerate(series):
        if s[0] in HISTORIC_PROMOS and s[1] == HOME_SITE[s[2]]:
            promo_month, lift = HISTORIC_PROMOS[s[0]]
            uplift[i, month_of_year == promo_month] += lift
    quantity = np.round(level * season * trend * noise * uplift)
    eol_index = next(i for i, s in enumerate(series) if s[0] == EOL)
    quantity[eol_index] *= np.linspace(1.0, 0.55, HISTORY_MONTHS)  # the old bar fades out
    quantity = np.round(quantity)
    prices = np.array([s[3] for s in series])[:, None]
    discount = np.where(uplift > 1, 0.9, 1.0)
    revenue = np.round(quantity * prices * discount, 2)
    for i, s in enumerate(series):
        for j, m in enumerate(history):
            company.history.append(
                {
                    "product": s[0],
                    "site": s[1],
                    "month": m,
                    "quantity": float(quantity[i, j]),
                    "revenue": float(revenue[i, j]),
                }
            )

    # --- budget: last year's same month per family, +5 %, for the horizon ----------------
    families = sorted(SEASON)
    by_family = {
        f: quantity[[i for i, s in enumerate(series) if s[2] == f]].sum(axis=0) for f in families
    }
    value_by_family = {
        f: revenue[[i for i, s in enumerate(series) if s[2] == f]].sum(axis=0) for f in families
    }
    last_year = {m[5:]: j for j, m in enumerate(history[-12:], start=HISTORY_MONTHS - 12)}
    for f in families:
        for m in horizon:
            j = last_year[m[5:]]
            company.budgets.append(
                {
                    "family": f,
                    "month": m,
                    "quantity": float(np.round(by_family[f][j] * 1.05)),
                    "revenue": float(np.round(value_by_family[f][j] * 1.05, 2)),
                }
            )
            company.supply_budget.append(
                {
                    "family": f,
                    "month": m,
                    "volume": float(np.round(by_family[f][j] * 1.03)),
                    "value": float(np.round(value_by_family[f][j] * 0.45, 2)),
                }
            )

    summer = next(m for m in horizon if m.endswith("-06"))
    december = next(m for m in horizon if m.endswith("-12"))
    company.promotions = [
        {
            "name": "Summer refresh",
            "level": "family",
            "node": "BEV",
            "month_from": summer,
            "month_to": shift_month(summer, 1),
            "uplift_pct": 15.0,
            "price_change_pct": -10.0,
        },
        {
            "name": "Crisps for the holidays",
            "level": "product",
            "node": "SNK-002",
            "month_from": december,
            "month_to": december,
            "uplift_pct": 30.0,
        },
    ]

    # --- supply: materials, suppliers, BOMs, contracts, item-sites, stock, open orders ---
    company.materials = [
        {
            "code": "MAT-PET",
            "name": "PET preform",
            "unit": "EA",
            "family": "PACKAGING",
            "unit_cost": 0.06,
        },
        {
            "code": "MAT-CAP",
            "name": "Bottle cap",
            "unit": "EA",
            "family": "PACKAGING",
            "unit_cost": 0.01,
        },
        {
            "code": "MAT-SYRUP",
            "name": "Flavour syrup",
            "unit": "L",
            "family": "INGREDIENTS",
            "unit_cost": 0.9,
        },
        {
            "code": "MAT-FLOUR",
            "name": "Wheat flour",
            "unit": "KG",
            "family": "INGREDIENTS",
            "unit_cost": 0.45,
        },
        {
            "code": "MAT-OIL",
            "name": "Sunflower oil",
            "unit": "L",
            "family": "INGREDIENTS",
            "unit_cost": 1.3,
        },
        {
            "code": "MAT-FILM",
            "name": "Packaging film",
            "unit": "M",
            "family": "PACKAGING",
            "unit_cost": 0.03,
        },
    ]
    company.suppliers = [
        {"code": "SUP-PACK", "name": "PackCo", "country": "DE"},
        {"code": "SUP-AGRI", "name": "AgriMills", "country": "FR"},
        {"code": "SUP-CARE", "name": "CareSource", "country": "IT"},
    ]
    bev = [p["code"] for p in company.products if p["family"] == "BEV"]
    snk = [p["code"] for p in company.products if p["family"] == "SNK"]
    for code in bev:
        company.boms += [
            {"product": code, "material": "MAT-PET", "qty_per": 1.0},
            {"product": code, "material": "MAT-CAP", "qty_per": 1.0},
            {"product": code, "material": "MAT-SYRUP", "qty_per": 0.12},
        ]
    for code in snk:
        company.boms += [
            {"product": code, "material": "MAT-FLOUR", "qty_per": 0.15},
            {"product": code, "material": "MAT-OIL", "qty_per": 0.03},
            {"product": code, "material": "MAT-FILM", "qty_per": 0.4},
        ]
    year_start, year_end = horizon[0], horizon[11]
    yearly_bev = float(by_family["BEV"][-12:].sum())
    yearly_snk = float(by_family["SNK"][-12:].sum())
    company.contracts = [
        {
            "code": "CT-PET-1",
            "supplier": "SUP-PACK",
            "material": "MAT-PET",
            "period_start": year_start,
            "period_end": year_end,
            "min_volume": round(yearly_bev * 0.8),
            "max_volume": round(yearly_bev * 1.3),
            "price": 0.055,
        },
        {
            "code": "CT-FLOUR-1",
            "supplier": "SUP-AGRI",
            "material": "MAT-FLOUR",
            "period_start": year_start,
            "period_end": year_end,
            "min_volume": round(yearly_snk * 0.15 * 1.4),
            "max_volume": round(yearly_snk * 0.15 * 2),
            "price": 0.42,
        },
    ]  # the flour minimum is above the plan: a contract issue for the review
    avg = {(s[0], s[1]): float(quantity[i, -12:].mean()) for i, s in enumerate(series)}
    unit_costs = {c: cst for c, _, _, _, _, cst, _ in catalogue}
    family_of = {c: f for c, _, f, *_ in catalogue}
    for (code, site), mean in avg.items():
        make = site == HOME_SITE[family_of[code]] and site != "DC-E"
        company.item_sites.append(
            {
                "product": code,
                "site": site,
                "make_or_buy": "make" if make else "buy",
                "lead_time_months": 0 if make else 1,
                "lead_time_std_months": None if make else 0.3,
                "moq": 0.0 if make else float(np.round(mean * 0.5)),
                "lot_multiple": 0.0 if make else 50.0,
                "ss_policy": "months_of_cover" if make else "statistical",
                "ss_value": 0.5 if make else 0.0,
                "service_level": 0.95,
                "max_stock": float(np.round(mean * 3)),
                "unit_cost": unit_costs[code],
                "holding_cost_rate": 0.2,
                "shelf_life_months": 12 if code.startswith("SNK") else None,
            }
        )
        company.inventory.append(
            {
                "product": code,
                "site": site,
                "month": history[-1],
                "on_hand": float(np.round(mean * 1.1)),
                "in_transit": 0.0 if make else float(np.round(mean * 0.2)),
                "quality_hold": 0.0,
            }
        )
        if not make:
            company.open_supply.append(
                {
                    "order_ref": f"PO-{code}-{site}-{month}",
                    "kind": "purchase",
                    "product": code,
                    "site": site,
                    "due_month": month,
                    "quantity": float(np.round(mean)),
                    "supplier": "SUP-CARE" if code.startswith("CARE") else None,
                }
            )
    # the NPI is stocked wherever its analog is (its forecast follows the analog's sites)
    for analog in [i for i in company.item_sites if i["product"] == "BEV-001"]:
        company.item_sites.append({**analog, "product": NPI[0], "unit_cost": NPI[5]})
        company.inventory.append(
            {"product": NPI[0], "site": analog["site"], "month": history[-1], "on_hand": 0.0}
        )
    for mat in company.materials:
        plant = "PLANT-N" if mat["code"] in ("MAT-PET", "MAT-CAP", "MAT-SYRUP") else "PLANT-S"
        company.item_sites.append(
            {
                "product": mat["code"],
                "site": plant,
                "make_or_buy": "buy",
                "lead_time_months": 1,
                "ss_policy": "months_of_cover",
                "ss_value": 0.5,
                "unit_cost": mat["unit_cost"],
            }
        )
        company.inventory.append(
            {"product": mat["code"], "site": plant, "month": history[-1], "on_hand": 20000.0}
        )

    # --- capacity: lines, a co-packer, labour pools, calendars, routings, history --------
    company.resources = [
        {"code": "POOL-N", "name": "North operators", "site": "PLANT-N", "kind": "labour_pool"},
        {"code": "POOL-S", "name": "South operators", "site": "PLANT-S", "kind": "labour_pool"},
        {
            "code": "LN-BOT-1",
            "name": "Bottling line 1",
            "site": "PLANT-N",
            "kind": "line",
            "labour_pool": "POOL-N",
            "overtime_hour_cost": 55.0,
        },
        {
            "code": "LN-BOT-2",
            "name": "Bottling line 2",
            "site": "PLANT-N",
            "kind": "line",
            "labour_pool": "POOL-N",
            "overtime_hour_cost": 55.0,
        },
        {
            "code": "LS-BAKE-1",
            "name": "Baking and packing line",
            "site": "PLANT-S",
            "kind": "line",
            "labour_pool": "POOL-S",
            "overtime_hour_cost": 48.0,
        },
        {"code": "CP-SNACK", "name": "Snack co-packer", "site": "PLANT-S", "kind": "copacker"},
    ]
    company.workforce = [
        {
            "pool": "POOL-N",
            "headcount": 14,
            "hours_per_person": 160,
            "max_overtime_share": 0.15,
            "regular_hour_cost": 32,
            "overtime_hour_cost": 48,
            "hire_cost": 2500,
            "fire_cost": 4000,
            "min_headcount": 8,
            "max_headcount": 22,
        },
        {
            "pool": "POOL-S",
            "headcount": 9,
            "hours_per_person": 160,
            "max_overtime_share": 0.15,
            "regular_hour_cost": 30,
            "overtime_hour_cost": 45,
            "hire_cost": 2500,
            "fire_cost": 4000,
            "min_headcount": 5,
            "max_headcount": 14,
        },
    ]
    lines = ("LN-BOT-1", "LN-BOT-2", "LS-BAKE-1", "CP-SNACK")
    for m in months_between(shift_month(history[-1], 1), HORIZON_MONTHS + 1):
        days = _working_days(m)
        for line in lines:
            company.calendars.append(
                {
                    "resource": line,
                    "month": m,
                    "shifts": 1 if line == "CP-SNACK" else 2,
                    "hours_per_shift": 8,
                    "working_days": days,
                    "efficiency": 1.0 if line == "CP-SNACK" else 0.85,
                    # line 2 is overhauled every August: a capacity dip in the BEV peak
                    "maintenance_hours": 120.0 if line == "LN-BOT-2" and m.endswith("-08") else 0.0,
                    "max_overtime_hours": 0.0 if line == "CP-SNACK" else 40.0,
                }
            )
    # BEV: the two bottling lines (≈ 2 × 286 h a month) make ≈ 34,000 units; the average
    # month needs ~80 % of that and the summer peak (with its promotion, and line 2's August
    # overhaul) more than they have: overtime, pre-build or unmet demand for the review.
    for code in bev:
        company.routings += [
            {
                "product": code,
                "resource": "LN-BOT-1",
                "hours_per_unit": BEV_HOURS[0],
                "cost_per_unit": 0.05,
                "priority": 1,
            },
            {
                "product": code,
                "resource": "LN-BOT-2",
                "hours_per_unit": BEV_HOURS[1],
                "cost_per_unit": 0.06,
                "priority": 2,
            },
        ]
    for code in snk:
        company.routings += [
            {
                "product": code,
                "resource": "LS-BAKE-1",
                "hours_per_unit": 0.028,
                "cost_per_unit": 0.12,
                "priority": 1,
            },
            {
                "product": code,
                "resource": "CP-SNACK",
                "hours_per_unit": 0.02,
                "cost_per_unit": 0.35,
                "priority": 2,
            },
        ]
    shares = (
        ("BEV", "LN-BOT-1", BEV_HOURS[0], 0.55),
        ("BEV", "LN-BOT-2", BEV_HOURS[1], 0.45),
        ("SNK", "LS-BAKE-1", 0.028, 1.0),
    )
    for family, line, hpu, share in shares:
        made = [i for i, s in enumerate(series) if s[2] == family and s[1] == HOME_SITE[family]]
        output = np.round(quantity[made].sum(axis=0) * share)
        for j, m in enumerate(history):
            company.production_history.append(
                {
                    "resource": line,
                    "month": m,
                    "output_quantity": float(output[j]),
                    "hours_worked": float(np.round(output[j] * hpu / 0.85, 1)),
                }
            )
    return company


# --- loading over REST ------------------------------------------------------------------


class DemoLoadError(RuntimeError):
    """A service refused demo data (the data or the contract is wrong: look at the detail)."""


def _api(path: str) -> str:
    return path if path.startswith("/api/") else f"/api/v1{path}"


def _key(name: str, body: Any) -> str:
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:24]
    return f"demo-{name}-{digest}"


class _Loader:
    def __init__(
        self,
        urls: Mapping[str, str],
        token: str,
        transport: httpx.BaseTransport | None,
        say: Callable[[str], None],
    ) -> None:
        self.clients = {
            name: httpx.Client(
                base_url=url.rstrip("/"),
                headers={"Authorization": f"Bearer {token}"},
                timeout=httpx.Timeout(120.0, connect=5.0),
                transport=transport,
            )
            for name, url in urls.items()
        }
        self.routes: dict[str, set[tuple[str, str]]] = {}
        self.say = say
        self.skipped: list[str] = []

    def close(self) -> None:
        for client in self.clients.values():
            client.close()

    def offers(self, service: str, method: str, path: str) -> bool:
        path = _api(path)
        if service not in self.routes:
            try:
                spec = self.clients[service].get("/openapi.json").json()
                self.routes[service] = {
                    (m.upper(), p) for p, ops in spec.get("paths", {}).items() for m in ops
                }
            except (httpx.HTTPError, ValueError) as exc:
                raise DemoLoadError(f"{service} is not reachable: {exc}") from exc
        if (method, path) in self.routes[service]:
            return True
        missing = f"{service} {method} {path}"
        if missing not in self.skipped:
            log.warning("demo: %s has no %s %s yet; skipped", service, method, path)
            self.skipped.append(missing)
        return False

    def post(
        self,
        service: str,
        path: str,
        body: Any,
        *,
        name: str,
        params: Mapping[str, Any] | None = None,
        exists_ok: bool = False,
    ) -> httpx.Response | None:
        if not self.offers(service, "POST", path):
            return None
        response = self.clients[service].post(
            _api(path),
            json=body,
            params=params,
            headers={"Idempotency-Key": _key(name, body)},
        )
        if response.status_code == 409 and exists_ok:
            return response
        if response.status_code >= 400:
            raise DemoLoadError(
                f"{service} refused {name} ({response.status_code}): {response.text[:2000]}"
            )
        return response

    def bulk(
        self,
        service: str,
        path: str,
        rows: list[dict[str, Any]],
        name: str,
        *,
        chunk: int | None = None,
        chunk_params: Mapping[str, Any] | None = None,
    ) -> None:
        """One batch, or batches of ``chunk`` rows sent with ``chunk_params`` (e.g. merge)."""
        if not rows:
            return
        if chunk is None or len(rows) <= chunk:
            if self.post(service, path, rows, name=name) is not None:
                self.say(f"{service}: {len(rows)} {name}")
            return
        for start in range(0, len(rows), chunk):
            part = rows[start : start + chunk]
            if self.post(service, path, part, name=name, params=chunk_params) is None:
                return
        self.say(f"{service}: {len(rows)} {name} in {-(-len(rows) // chunk)} batches")

    def wait_for_products(self, service: str, codes: set[str], timeout: float) -> None:
        """Supply and capacity learn products from demand's events: wait for their copy."""
        if not self.offers(service, "GET", "/api/v1/products"):
            return
        deadline = time.monotonic() + timeout
        while True:
            seen: set[str] = set()
            offset = 0
            while True:
                page = self.clients[service].get(
                    "/api/v1/products", params={"limit": 1000, "offset": offset}
                )
                if page.status_code >= 400:
                    raise DemoLoadError(f"{service} products: {page.status_code} {page.text[:300]}")
                body = page.json()
                seen |= {p["code"] for p in body.get("items", [])}
                offset += 1000
                if offset >= int(body.get("total", 0)):
                    break
            if codes <= seen:
                return
            if time.monotonic() > deadline:
                raise DemoLoadError(
                    f"{service} has not received {len(codes - seen)} product(s) from demand's "
                    f"events after {timeout:.0f}s (is the broker up?)"
                )
            time.sleep(0.5)


def load(
    urls: dict[str, str],
    token: str,
    *,
    month: str | None = None,
    seed: int = SEED,
    transport: httpx.BaseTransport | None = None,
    wait_seconds: float = 90.0,
    products: int | None = None,
) -> str:
    """Create the demo company through the four services' REST APIs and open the current
    cycle; returns a one-line summary. Safe to run twice (idempotency keys, 409 = exists).
    ``products`` scales the company up for benchmarks (see ``build``)."""
    month = month or date.today().strftime("%Y-%m")
    company = build(month, seed, products)
    loader = _Loader(urls, token, transport, say=lambda line: log.info("demo: %s", line))
    try:
        loader.bulk("demand", "/products/bulk", company.products, "products")
        codes = {p["code"] for p in company.products}
        for service in ("supply", "capacity"):
            loader.wait_for_products(service, codes, wait_seconds)
        loader.bulk(
            "demand",
            "/sales-history",
            company.history,
            "sales-history rows",
            chunk=200_000,
            chunk_params={"mode": "merge"},  # batches of one feed: each keeps the others' rows
        )
        loader.bulk("demand", "/demand-budgets", company.budgets, "budget cells")
        for promotion in company.promotions:
            loader.post("demand", "/promotions", promotion, name="promotion", exists_ok=True)

        for site in company.sites:
            loader.post("supply", "/sites", site, name=f"site-{site['code']}", exists_ok=True)
        loader.bulk("supply", "/materials/bulk", company.materials, "materials")
        loader.bulk("supply", "/suppliers/bulk", company.suppliers, "suppliers")
        loader.bulk("supply", "/item-sites/bulk", company.item_sites, "item-sites")
        loader.bulk("supply", "/inventory/bulk", company.inventory, "inventory snapshots")
        loader.bulk("supply", "/open-supply/bulk", company.open_supply, "open orders")
        loader.bulk("supply", "/boms/bulk", company.boms, "BOM lines")
        loader.bulk("supply", "/contracts/bulk", company.contracts, "contracts")
        loader.bulk("supply", "/supply-budget/bulk", company.supply_budget, "supply budget cells")

        loader.bulk("capacity", "/resources/bulk", company.resources, "resources")
        loader.bulk("capacity", "/calendars/bulk", company.calendars, "calendar months")
        loader.bulk("capacity", "/routings/bulk", company.routings, "routings")
        loader.bulk("capacity", "/workforce/bulk", company.workforce, "labour pools")
        loader.bulk(
            "capacity", "/production-history/bulk", company.production_history, "production months"
        )
        opened = loader.post(
            "cycle", "/cycles", {"month": month}, name=f"cycle-{month}", exists_ok=True
        )
    finally:
        loader.close()
    state = "opened" if opened is not None and opened.status_code == 201 else "already open"
    skipped = f"; skipped {len(loader.skipped)} missing endpoint(s)" if loader.skipped else ""
    return (
        f"demo company: {len(company.sites)} sites, {len(company.families)} families, "
        f"{len(company.products)} products, {len(company.history_months)} months of history "
        f"({len(company.history)} rows), {len(company.resources)} resources; "
        f"cycle {month} {state}{skipped}"
    )
