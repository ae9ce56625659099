"""Events of the scenarios feature: ``scenario.changed`` asks the planning services to
compute their versions for the scenario."""

from __future__ import annotations

from sqlmodel import Session

from sop_cycle.scenarios.models import Scenario
from sop_shared.events.catalog import ScenarioChangedData
from sop_shared.outbox import publish

SCENARIO_CHANGED = "sop.cycle.scenario.changed.v1"


def scenario_changed(session: Session, *, month: str, scenario: Scenario) -> None:
    publish(
        session,
        domain="cycle",
        type=SCENARIO_CHANGED,
        subject=f"{month}/{scenario.code}",
        cycle=month,
        scenario=scenario.code,
        version=scenario.version,
        data=ScenarioChangedData(
            cycle=month,
            scenario=scenario.code,
            name=scenario.name,
            parameters=dict(scenario.parameters),
            status=scenario.status,
        ),
    )
