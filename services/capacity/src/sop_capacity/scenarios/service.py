"""Scenario parameters announced by the cycle service, kept for the runs of that scenario."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session

from sop_capacity.scenarios.models import ScenarioSetting
from sop_capacity.scenarios.repository import ScenarioRepository
from sop_capacity.scenarios.schemas import (
    CapacityParameters,
    ScenarioSettingPage,
    ScenarioSettingRead,
)
from sop_shared.events.catalog import ScenarioChangedData


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def apply_scenario(
    session: Session, *, data: ScenarioChangedData, event_time: datetime
) -> ScenarioSetting | None:
    """Store the scenario's capacity parameters unless a newer announcement is already in.

    Malformed capacity parameters raise (the consumer retries, then dead-letters the event
    with the validation error) rather than silently planning without them.
    """
    params = CapacityParameters.model_validate(data.parameters)
    repo = ScenarioRepository(session)
    row = repo.find(data.cycle, data.scenario)
    if row is not None and _aware(row.event_time) > _aware(event_time):
        return None
    row = row or ScenarioSetting(cycle=data.cycle, scenario=data.scenario)
    row.name = data.name[:200]
    row.status = data.status[:20]
    row.overtime_allowed = params.overtime_allowed
    row.unavailable_resources = [u.model_dump() for u in params.unavailable_resources]
    row.parameters = dict(data.parameters)
    row.event_time = event_time
    row.updated_at = datetime.now(UTC)
    session.add(row)
    return row


def list_settings(
    session: Session, *, cycle: str | None, limit: int, offset: int
) -> ScenarioSettingPage:
    rows, total = ScenarioRepository(session).page(cycle=cycle, limit=limit, offset=offset)
    return ScenarioSettingPage(
        items=[ScenarioSettingRead.model_validate(r) for r in rows],
        total=total,
        limit=limit,
        offset=offset,
    )
