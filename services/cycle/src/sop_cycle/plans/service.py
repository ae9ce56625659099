"""Plans the cycle learns of from the planning services' events, and the current chain."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlmodel import Session, col, select

from sop_cycle.cycles.models import Approval, Cycle
from sop_cycle.plans.models import PlanRecord
from sop_cycle.plans.repository import ANY_UPSTREAM, PlanRecordRepository
from sop_cycle.plans.schemas import (
    CurrentPlans,
    PlanRecordPage,
    PlanRecordRead,
    PlanRef,
    resolve_current,
)
from sop_shared.events.catalog import PlanChangedData
from sop_shared.events.envelope import CloudEvent
from sop_shared.events.lineage import check_lineage

log = logging.getLogger("sop.cycle.plans")
#: The plan a plan of each kind is computed from.
UPSTREAM_KIND = {"supply": "demand", "production": "supply"}


def approval_for(session: Session, cycle: str) -> Approval | None:
    return session.exec(
        select(Approval)
        .join(Cycle, col(Cycle.id) == col(Approval.cycle_id))
        .where(Cycle.month == cycle)
    ).first()


def current_plans(session: Session, *, cycle: str, scenario: str = "base") -> CurrentPlans:
    """The current demand → supply → production chain of a (cycle, scenario).

    Once the cycle is approved it is frozen: the approved scenario's chain is the plans the
    approval pinned, and every other scenario's is what it was at approval (records learned
    of later are not looked at).
    """
    repo = PlanRecordRepository(session)
    approval = approval_for(session, cycle)
    if approval is not None and approval.scenario == scenario:
        return pinned_plans(session, approval)
    cutoff = approval.plan_record_cutoff if approval is not None else None
    refs = [PlanRef.model_validate(r) for r in repo.for_cycle(cycle, scenario, up_to=cutoff)]
    return resolve_current(refs)


def pinned_plans(session: Session, approval: Approval) -> CurrentPlans:
    """The three plan versions an approval names."""
    repo = PlanRecordRepository(session)
    found = {}
    for kind in ("demand", "supply", "production"):
        plan_id = getattr(approval, f"{kind}_plan_id")
        version = getattr(approval, f"{kind}_version")
        row = repo.get_by(kind=kind, plan_id=plan_id, version=version) if plan_id else None
        found[kind] = PlanRef.model_validate(row) if row is not None else None
    return CurrentPlans(**found, frozen=True)


def check_lineage_of(session: Session, *, kind: str, event: CloudEvent) -> None:
    """Refuse a plan event whose envelope, payload or upstream plan name another cycle or
    scenario (the upstream plan is checked when the cycle has recorded it)."""
    data = PlanChangedData.model_validate(event.data)
    upstream = None
    if kind in UPSTREAM_KIND and data.upstream_plan_id:
        row = PlanRecordRepository(session).find_upstream(
            kind=UPSTREAM_KIND[kind],
            plan_id=data.upstream_plan_id,
            cycle=data.cycle,
            scenario=data.scenario,
        )
        if row is not None:
            upstream = (row.cycle, row.scenario)
    check_lineage(
        event,
        cycle=data.cycle,
        scenario=data.scenario,
        upstream=upstream,
        upstream_name=f"upstream {UPSTREAM_KIND.get(kind, 'plan')} plan {data.upstream_plan_id}",
    )


def record_plan(session: Session, *, kind: str, event: CloudEvent) -> PlanRef | None:
    """Keep what a ``plan.changed`` event says; None when it adds nothing.

    Stale-version guard: a version below the highest already recorded for the same stream
    (kind, cycle, scenario — and, downstream of demand, the same upstream plan) is dropped;
    so is a repetition of a version we hold with the same status and totals.
    """
    check_lineage_of(session, kind=kind, event=event)
    data = PlanChangedData.model_validate(event.data)
    repo = PlanRecordRepository(session)
    row = repo.get_by(kind=kind, plan_id=data.plan_id, version=data.version)
    if row is not None:
        if row.status == data.status and row.totals == data.totals:
            return None
    else:
        upstream = ANY_UPSTREAM if kind == "demand" else data.upstream_plan_id
        newest = repo.newest_version(
            kind=kind, cycle=data.cycle, scenario=data.scenario, upstream=upstream
        )
        if newest is not None and data.version < newest:
            log.info(
                "ignored %s plan %s v%s: v%s already recorded",
                kind,
                data.plan_id,
                data.version,
                newest,
                extra={"event_id": event.id},
            )
            return None
        row = PlanRecord(
            kind=kind,
            plan_id=data.plan_id,
            cycle=data.cycle,
            scenario=data.scenario,
            version=data.version,
            status=data.status,
            event_id=event.id,
            source=event.source,
            event_time=event.time,
        )
    row.status = data.status
    row.upstream_plan_id = data.upstream_plan_id
    row.totals = dict(data.totals)
    row.counts = dict(data.counts)
    row.lines_url = data.lines_url
    row.event_id, row.source, row.event_time = event.id, event.source, event.time
    row.received_at = datetime.now(UTC)
    repo.add(row)
    session.flush()
    return PlanRef.model_validate(row)


def list_plans(
    session: Session,
    *,
    cycle: str,
    scenario: str | None,
    kind: str | None,
    limit: int,
    offset: int,
) -> PlanRecordPage:
    query = select(PlanRecord).where(PlanRecord.cycle == cycle)
    if scenario:
        query = query.where(PlanRecord.scenario == scenario)
    if kind:
        query = query.where(PlanRecord.kind == kind)
    rows, total = PlanRecordRepository(session).list_page(
        query, order_by=col(PlanRecord.id), limit=limit, offset=offset
    )
    return PlanRecordPage(
        items=[PlanRecordRead.model_validate(r) for r in rows],
        total=total,
        limit=limit,
        offset=offset,
    )
