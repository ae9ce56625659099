"""Benchmark the capacity-planning LP on a seeded random instance.

    .venv/bin/python bench/capacity_lp_bench.py                      # 2,000 x 50 x 24
    .venv/bin/python bench/capacity_lp_bench.py --solver ipm --threads 2
    .venv/bin/python bench/capacity_lp_bench.py --demo --products 10000 --months 18 --repeat 1
    .venv/bin/python bench/capacity_lp_bench.py --materials 5000     # + purchased materials

Prints model-build and solve times separately (best of --repeat runs), model size, status
and objective, so solver options can be compared on the same instance.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from sop_capacity.planning import LabourPool, Method, PlanningProblem, solve_plan
from sop_capacity.planning.lp import MaterialSupply


def build_instance(
    n_products: int = 2000, n_resources: int = 50, months: int = 24, seed: int = 7
) -> PlanningProblem:
    """A tight but feasible-looking plan: seasonal demand against flat capacity.

    Each product has a preferred method and, for about 40 %, a dearer alternate on another
    resource. Capacity sits near the average preferred load, so seasonal peaks need pre-build,
    overtime, alternates or crew changes. The first 20 resources form 4 labour pools of 5;
    the rest have fixed hours and up to 15 % overtime. One resource-month in ten is halved
    (maintenance).
    """
    rng = np.random.default_rng(seed)
    t = np.arange(months)
    base = rng.lognormal(mean=4.5, sigma=1.0, size=n_products)
    phase = rng.uniform(0, 12, size=n_products)
    season = 1.0 + 0.3 * np.sin(2 * np.pi * (t[None, :] + phase[:, None]) / 12)
    noise = rng.gamma(shape=20.0, scale=1 / 20.0, size=(n_products, months))
    requirement = np.round(base[:, None] * season * noise)

    primary = rng.integers(0, n_resources, size=n_products)
    hours = rng.uniform(0.02, 0.3, size=n_products)
    unit_cost = rng.uniform(1.0, 20.0, size=n_products)
    methods = [
        Method(p, int(primary[p]), float(hours[p]), float(unit_cost[p]), priority=1)
        for p in range(n_products)
    ]
    for p in np.flatnonzero(rng.random(n_products) < 0.4):
        alt = int((primary[p] + rng.integers(1, n_resources)) % n_resources)
        methods.append(
            Method(
                int(p),
                alt,
                float(hours[p] * rng.uniform(0.8, 1.5)),
                float(unit_cost[p] * rng.uniform(1.1, 1.6)),
                priority=2,
            )
        )

    load = np.zeros((n_resources, months))
    np.add.at(load, primary, hours[:, None] * requirement)
    mean_load = load.mean(axis=1)
    available = np.repeat((mean_load * rng.uniform(0.95, 1.1, n_resources))[:, None], months, 1)
    available[rng.random((n_resources, months)) < 0.1] *= 0.5

    n_pools = min(4, n_resources // 5)
    pools = []
    hours_per_person = 160.0 * rng.uniform(0.9, 1.05, size=months)
    for q in range(n_pools):
        members = tuple(range(5 * q, 5 * q + 5))
        crew = mean_load[list(members)].sum() * 0.95 / 160.0
        available[list(members)] = mean_load[list(members), None] * 1.4  # machines not binding
        pools.append(
            LabourPool(
                resources=members,
                headcount0=float(crew),
                hours_per_person=hours_per_person,
                max_overtime_share=0.2,
                regular_hour_cost=25.0,
                overtime_hour_cost=40.0,
                hire_cost=2000.0,
                fire_cost=3000.0,
                min_headcount=float(0.5 * crew),
                max_headcount=float(1.5 * crew),
                name=f"crew {q}",
            )
        )
    overtime_max = 0.15 * available
    overtime_max[: 5 * n_pools] = np.inf  # pooled: only the crew's overtime share limits

    mean_req = requirement.mean(axis=1)
    return PlanningProblem(
        requirement=requirement,
        available_hours=available,
        methods=methods,
        opening_inventory=np.round(rng.uniform(0, 1, n_products) * mean_req),
        holding_cost=0.02 * unit_cost,
        backorder_cost=unit_cost * rng.uniform(0.5, 2.0, n_products),
        safety_stock=np.repeat((0.5 * mean_req)[:, None], months, 1),
        overtime_hours_max=overtime_max,
        overtime_cost=rng.uniform(30.0, 60.0, n_resources),
        pools=pools,
    )


def add_materials(problem: PlanningProblem, n_materials: int, seed: int = 11) -> None:
    """Purchased materials that bind: each product uses 2-4 of them (qty 0.1-2 per unit);
    each material has a lead time of 1-3 months, opening stock for about one month of its
    use and an open order in month 1; a third of the materials are under a contract whose
    maximum is 90 % of their use after the lead time, in two half-horizon periods."""
    rng = np.random.default_rng(seed)
    req = np.asarray(problem.requirement, dtype=float)
    n_p, n_t = req.shape
    per = rng.integers(2, 5, size=n_p)
    use_p = np.repeat(np.arange(n_p), per)
    use_k = rng.integers(0, n_materials, size=use_p.size)
    use_q = rng.uniform(0.1, 2.0, size=use_p.size)
    need = np.zeros((n_materials, n_t))
    np.add.at(need, use_k, req[use_p] * use_q[:, None])
    lead = rng.integers(1, 4, size=n_materials)
    monthly = need.mean(axis=1)
    receipts = np.zeros((n_materials, n_t))
    receipts[:, 1] = monthly * rng.uniform(0.3, 0.8, n_materials)
    contracted = np.flatnonzero(rng.random(n_materials) < 1 / 3)
    half = n_t // 2
    c_group = np.repeat(contracted, 2)
    c_months = np.zeros((c_group.size, n_t), dtype=bool)
    c_months[0::2, :half] = True
    c_months[1::2, half:] = True
    c_max = np.repeat(0.9 * need[contracted].sum(axis=1) / 2, 2)
    problem.materials = MaterialSupply(
        opening=monthly * rng.uniform(0.8, 1.2, n_materials),
        receipts=receipts,
        first_purchase=lead,
        use_product=use_p,
        use_material=use_k,
        use_qty=use_q,
        contract_group=c_group,
        contract_months=c_months,
        contract_max=c_max,
    )


def demo_problem(n_products: int, n_months: int) -> PlanningProblem:
    """The scaled demo company as the production-plan job sees it (see
    capacity_service_bench.demo_instance), assembled without a database."""
    import pandas as pd
    from capacity_service_bench import demo_instance

    from sop_capacity.planning_input import CostRates, MasterData, ScenarioParams, build_model
    from sop_capacity.supply import requirements_frame

    data = demo_instance(n_products, n_months)
    calendars = pd.DataFrame(data["calendars"])
    calendars["available_hours"] = np.maximum(  # as the calendars endpoint stores it
        calendars["shifts"]
        * calendars["hours_per_shift"]
        * calendars["working_days"]
        * calendars["efficiency"]
        - calendars["maintenance_hours"],
        0.0,
    )
    resources = pd.DataFrame(data["resources"])
    for column, default in (("labour_pool", None), ("overtime_hour_cost", 0.0)):
        if column not in resources:
            resources[column] = default
    resources["overtime_hour_cost"] = resources["overtime_hour_cost"].fillna(0.0)
    resources["kind"] = resources["kind"].fillna("line")
    master = MasterData(
        resources=resources[["code", "site", "kind", "labour_pool", "overtime_hour_cost"]],
        calendars=calendars[["resource", "month", "available_hours", "max_overtime_hours"]],
        routings=pd.DataFrame(data["routings"]),
        workforce=pd.DataFrame(data["workforce"]),
        products=pd.DataFrame(
            {
                "code": data["products"],
                "price": data["prices"].values(),
                "cost": data["costs"].values(),
            }
        ),
        scenario=ScenarioParams(),
    )
    requirements = requirements_frame(data["requirements"], source="demo")
    return build_model(requirements, master, rates=CostRates()).problem()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=2000)
    parser.add_argument("--resources", type=int, default=50)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--solver", default="choose", help="HiGHS solver: choose|simplex|ipm|pdlp")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--presolve", default=None, help="HiGHS presolve: on|off|choose")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--demo", action="store_true", help="the scaled demo company's shape")
    parser.add_argument("--materials", type=int, default=0, help="purchased materials to add")
    parser.add_argument(
        "--option", action="append", default=[], help="any HiGHS option, e.g. simplex_strategy=4"
    )
    args = parser.parse_args()

    t0 = time.perf_counter()
    if args.demo:
        problem = demo_problem(args.products, args.months)
    else:
        problem = build_instance(args.products, args.resources, args.months, args.seed)
    if args.materials:
        add_materials(problem, args.materials)
    gen_s = time.perf_counter() - t0
    options: dict[str, object] = {"presolve": args.presolve} if args.presolve else {}
    for option in args.option:
        key, _, value = option.partition("=")
        options[key] = int(value) if value.lstrip("-").isdigit() else value

    builds, solves, walls = [], [], []
    for _ in range(args.repeat):
        t1 = time.perf_counter()
        plan = solve_plan(problem, solver=args.solver, threads=args.threads, highs_options=options)
        walls.append(time.perf_counter() - t1)
        builds.append(plan.build_seconds)
        solves.append(plan.solve_seconds)

    # the shape solved (--demo: the made product-sites and resources of the demo company)
    products, months = np.shape(problem.requirement)
    origin = "demo company" if args.demo else f"seed {args.seed}"
    print(
        f"instance: {products} products x {np.shape(problem.available_hours)[0]} resources x "
        f"{months} months, {len(problem.methods)} methods, {len(problem.pools)} labour pools, "
        f"{origin}, {args.materials} materials (generated in {gen_s:.2f} s)"
    )
    print(f"solver={args.solver} threads={args.threads or 'default'} options={options}")
    print(
        f"model: {plan.n_variables:,} variables, {plan.n_constraints:,} constraints, "
        f"{plan.n_nonzeros:,} nonzeros"
    )
    print(f"status: {plan.status} ({plan.message})")
    print(f"objective: {plan.objective:,.2f}   cost total: {plan.costs.total:,.2f}")
    print("costs: " + ", ".join(f"{k} {v:,.0f}" for k, v in plan.costs.as_dict().items()))
    print(
        f"build (validate + assemble + pass to HiGHS): best {min(builds):.3f} s "
        f"of {[round(b, 3) for b in builds]}"
    )
    print(f"solve (HiGHS run): best {min(solves):.3f} s of {[round(s, 3) for s in solves]}")
    print(f"wall per run incl. result extraction: {[round(w, 3) for w in walls]}")
    util = plan.utilisation[np.isfinite(plan.utilisation)]
    print(
        f"plan: backordered unit-months {plan.backorder.sum():,.0f}, overtime hours "
        f"{plan.overtime_hours.sum():,.0f}, mean utilisation {util.mean():.2%}, "
        f"hires {plan.hires.sum():,.1f}, fires {plan.fires.sum():,.1f}"
    )


if __name__ == "__main__":
    main()
