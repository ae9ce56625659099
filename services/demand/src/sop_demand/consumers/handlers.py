"""Event handlers of the demand service: pure ``(session, event) -> None``.

The inbox (``sop_shared.inbox``) applies each event once per consumer group; the
handlers add their own domain guard (a family done, a plan already approved) so that a
replay under a new event id is harmless too.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from sqlmodel import Session

from sop_demand.forecasts import service as forecasts
from sop_demand.forecasts.events import PARTITION_REQUESTED
from sop_demand.plans import service as plans
from sop_shared.events import CloudEvent
from sop_shared.events.catalog import JobRequestedData, PlanApprovedData, ScenarioChangedData
from sop_shared.events.envelope import topic_for
from sop_shared.inbox import ConsumerSpec


def forecast_partition_handler(n_jobs: int = -1) -> Callable[[Session, CloudEvent], None]:
    def handle(session: Session, event: CloudEvent) -> None:
        data = JobRequestedData.model_validate(event.data)
        forecasts.run_partition(
            session,
            run_id=uuid.UUID(str(data.params["run_id"])),
            family=data.partition_key,
            n_jobs=n_jobs,
        )

    return handle


def forecast_consumer(n_jobs: int = -1) -> ConsumerSpec:
    """The worker group: replicas share the families through the group's partitions."""
    return ConsumerSpec(
        purpose="forecast",
        topics=[topic_for("demand")],
        handlers={PARTITION_REQUESTED: forecast_partition_handler(n_jobs)},
    )


SCENARIO_CHANGED = "sop.cycle.scenario.changed.v1"
PLAN_APPROVED = "sop.cycle.plan.approved.v1"


def on_scenario_changed(session: Session, event: CloudEvent) -> None:
    plans.scenario_changed(session, ScenarioChangedData.model_validate(event.data))


def on_plan_approved(session: Session, event: CloudEvent) -> None:
    plans.plan_approved(session, PlanApprovedData.model_validate(event.data))


def cycle_consumer() -> ConsumerSpec:
    """Scenarios to compute and approvals to record, from the cycle service."""
    return ConsumerSpec(
        purpose="cycle",
        topics=[topic_for("cycle")],
        handlers={SCENARIO_CHANGED: on_scenario_changed, PLAN_APPROVED: on_plan_approved},
    )


def consumers() -> list[ConsumerSpec]:
    """Every consumer group of the service, with the configured forecast parallelism."""
    from sop_demand.settings import get_settings

    return [forecast_consumer(get_settings().forecast_n_jobs), cycle_consumer()]
