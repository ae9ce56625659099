"""The KPI snapshot job, as the job poller runs it: its own transactions around REST calls."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from sop_cycle.consumers.handlers import HANDLERS
from sop_cycle.cycles import service as cycles
from sop_cycle.cycles.models import CycleStep
from sop_cycle.cycles.schemas import CycleCreate
from sop_cycle.executive import service as executive
from sop_cycle.executive.models import CycleKpi
from sop_cycle.executive.schemas import ApproveRequest
from sop_cycle.peers import Peers
from sop_cycle.settings import CycleSettings
from sop_shared.auth import Caller, Role
from sop_shared.db import transaction
from sop_shared.jobs import Job, JobRunner

from ..builders import capacity_summary, demand_summary, plan_event, supply_summary
from ..fakes import FakePeers

COORDINATOR = Caller(subject="carla", roles=frozenset({Role.sop_coordinator}))
EXECUTIVE = Caller(subject="erin", roles=frozenset({Role.executive}))


def test_approval_queues_a_job_that_stores_the_plan_kpis(
    committed_engine: Engine, peers: FakePeers
) -> None:
    n = uuid.uuid4().int % 600  # committed data: a month of its own, inside the window
    month = f"{1980 + n // 12:04d}-{n % 12 + 1:02d}"
    with transaction(committed_engine) as s:
        cycles.open_cycle(
            s, data=CycleCreate(month=month), actor=COORDINATOR, settings=CycleSettings()
        )
    d, s1, p = (f"{k}-{month}" for k in "DSP")  # committed data: ids of their own
    for kind, plan_id, extra in (
        ("demand", d, {}),
        ("supply", s1, {"upstream": d}),
        ("production", p, {"upstream": s1}),
        ("supply", s1 + "c", {"upstream": d, "version": 2, "status": "constrained"}),
    ):
        event = plan_event(kind, plan_id, cycle=month, **extra)  # type: ignore[arg-type]
        with transaction(committed_engine) as s:
            HANDLERS[event.type](s, event)
    with transaction(committed_engine) as s:  # steps 1-6 done (their gates are tested elsewhere)
        cycle = cycles.get_cycle(s, month=month)
        for step in s.exec(select(CycleStep).where(CycleStep.cycle_id == cycle.id)).all():
            if step.name != "executive_sop":
                step.status = "completed"
                s.add(step)
    with transaction(committed_engine) as s:
        executive.approve(s, month=month, data=ApproveRequest(), actor=EXECUTIVE)
    with Session(committed_engine) as s:
        job = s.exec(
            select(Job).where(
                Job.kind == executive.KPI_JOB, Job.params["month"].as_string() == month
            )
        ).one()
    peers.summaries(
        demand=(d, demand_summary()),
        supply=(s1 + "c", supply_summary()),
        production=(p, capacity_summary()),
    )
    # the latest estimate carries the actuals of the month before the cycle
    peers.json(
        "demand",
        f"/api/v1/demand-plans/{d}/latest-estimate",
        {
            "plan_id": d,
            "year": int(month[:4]),
            "actuals_through": f"{month[:4]}-05",
            "items": [
                {"family": "A", "month": f"{month[:4]}-05", "source": "actual", "quantity": 95.0},
                {"family": "A", "month": f"{month[:4]}-06", "source": "plan", "quantity": 100.0},
            ],
        },
    )
    fake = Peers.from_settings(CycleSettings(), transport=peers.transport)
    runner = JobRunner(committed_engine, "cycle-test", handlers={})
    work = executive.snapshot_kpis
    runner.run(
        job.id, job.kind, lambda e, j, r: work(e, j, r, peers=fake, settings=CycleSettings())
    )
    with Session(committed_engine) as s:
        done = s.get(Job, job.id)
        assert done is not None
        assert done.state == "succeeded", done.error
        assert done.result["fill_rate"] == pytest.approx(0.95)
        row = s.exec(select(CycleKpi).where(CycleKpi.month == month)).one()
        assert row.figures["revenue"] == pytest.approx(5800)
        assert row.scenario == "base"
        assert row.actual_quantities == {"A": {f"{month[:4]}-05": 95.0}}
    assert {path for _, path, _ in peers.calls} >= {f"/api/v1/demand-plans/{d}/summary"}
