"""Dependencies of the cycle's routes: peers, today's date, the settings, gate inputs."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session

from sop_cycle.cycles.calendar import previous_month
from sop_cycle.cycles.schemas import MonthPath, PeerDataStatus, StepName
from sop_cycle.peers import Peers
from sop_cycle.settings import CycleSettings


def get_peers(request: Request) -> Peers:
    return request.app.state.peers  # type: ignore[no-any-return]


def get_today() -> date:
    """Today, for the overdue rule; tests override it."""
    return date.today()


def get_cycle_settings(request: Request) -> CycleSettings:
    return request.app.state.settings  # type: ignore[no-any-return]


PeersDep = Annotated[Peers, Depends(get_peers)]
TodayDep = Annotated[date, Depends(get_today)]
CycleSettingsDep = Annotated[CycleSettings, Depends(get_cycle_settings)]


def data_status_for_gate(
    month: MonthPath, step: StepName, peers: PeersDep, settings: CycleSettingsDep
) -> list[PeerDataStatus] | None:
    """Step 1's gate input, fetched before the request's transaction begins."""
    if step != "data_gathering":
        return None
    return peers.data_statuses(settings.data_status_services, previous_month(month))


DataStatusDep = Annotated[list[PeerDataStatus] | None, Depends(data_status_for_gate)]


def end_read(session: Session) -> None:
    """End a read-only transaction before calling peers, so no REST call runs inside it
    (on SQLite an open transaction holds the write lock). Nothing was written: a rollback.
    """
    session.rollback()
