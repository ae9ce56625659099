"""Plans the cycle learns of from the planning services' events, and the current chain."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlmodel import Session, col, select

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

log = logging.getLogger("sop.cycle.plans")


def current_plans(session: Session, *, cycle: str, scenario: str = "base") -> CurrentPlans:
    """The current demand → supply → production chain of a (cycle, scenario)."""
    repo = PlanRecordRepository(session)
    refs = [PlanRef.model_validate(r) for r in repo.for_cycle(cycle, scenario)]
    fallback = None
    if scenario != "base":
        fallback = current_plans(session, cycle=cycle, scenario="base").demand
    return resolve_current(refs, demand=fallback)


def record_plan(session: Session, *, kind: str, event: CloudEvent) -> PlanRef | None:
    """Keep what a ``plan.changed`` event says; None when it adds nothing.

    Stale-version guard: a version below the highest already recorded for the same stream
    (kind, cycle, scenario — and, downstream of demand, the same upstream plan) is dropped;
    so is a repetition of a version we hold with the same status and totals.
    """
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
