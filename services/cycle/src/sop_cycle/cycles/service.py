"""Cycle use cases."""

from __future__ import annotations

from sqlmodel import Session, col, select

from sop_cycle.cycles.models import Cycle
from sop_cycle.cycles.repository import CycleRepository
from sop_cycle.cycles.schemas import CycleCreate, CyclePage, CycleRead
from sop_shared.auth import Caller
from sop_shared.problems import Conflict, NotFound


def open_cycle(session: Session, *, data: CycleCreate, actor: Caller) -> Cycle:
    repo = CycleRepository(session)
    if repo.get_by(month=data.month) is not None:
        raise Conflict(f"Cycle {data.month} already exists.", code="cycle-exists")
    cycle = repo.add(Cycle(month=data.month, created_by=actor.subject))
    session.flush()
    return cycle


def get_cycle(session: Session, *, month: str) -> Cycle:
    cycle = CycleRepository(session).get_by(month=month)
    if cycle is None:
        raise NotFound(f"Cycle {month} does not exist.")
    return cycle


def list_cycles(session: Session, *, limit: int, offset: int) -> CyclePage:
    rows, total = CycleRepository(session).list_page(
        select(Cycle), order_by=col(Cycle.month).desc(), limit=limit, offset=offset
    )
    return CyclePage(
        items=[CycleRead.model_validate(r) for r in rows], total=total, limit=limit, offset=offset
    )
