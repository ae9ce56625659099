"""The ``supply-plan`` job: fetch the upstream lines, then compute and write a plan version."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from sop_shared.jobs import find_job
from sop_supply.plans import service
from sop_supply.plans.peers import Peers
from sop_supply.plans.schemas import PlanJobParams


class SupplyPlanJob:
    """Job work (``JobRunner`` handler): REST fetches happen here, outside any transaction."""

    def __init__(self, peers: Peers) -> None:
        self.peers = peers

    def __call__(
        self, engine: Engine, job_id: uuid.UUID, report: Callable[[float, str | None], None]
    ) -> dict[str, Any]:
        with Session(engine) as session:
            job = find_job(session, job_id)
            params = PlanJobParams.model_validate(job.params)
            created_by = job.created_by
        months = production = purchases = None
        started = time.perf_counter()
        if params.mode == "unconstrained":
            report(0.05, f"fetching the lines of demand plan {params.demand_plan_id}")
            demand = self.peers.demand_lines(params.demand_plan_id, params.demand_lines_url)
        else:
            if not (params.base_supply_plan_id and params.production_plan_id):
                raise ValueError("a constrained run needs the base supply and production plans")
            report(0.05, f"fetching the lines of production plan {params.production_plan_id}")
            base, demand = service.base_plan_demand(engine, uuid.UUID(params.base_supply_plan_id))
            months = service.compute.month_range(base.horizon_start, base.horizon_end)
            production = self.peers.production_lines(params.production_plan_id)
            purchases = self.peers.material_purchases(params.production_plan_id)
        fetched = round(time.perf_counter() - started, 3)
        result = service.run_plan(
            engine,
            params=params,
            demand=demand,
            production=production,
            purchases=purchases,
            months=months,
            job_id=job_id,
            report=report,
            created_by=created_by,
        )
        return {**result, "fetch_seconds": fetched}
