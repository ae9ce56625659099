"""Which events the supply service applies, and with which handler."""

from __future__ import annotations

from sop_shared.events.envelope import topic_for
from sop_shared.inbox import ConsumerSpec
from sop_shared.readmodels.products import product_consumer
from sop_supply.plans.events import HANDLERS


def plans_consumer() -> ConsumerSpec:
    """Plans of demand and capacity, scenarios and approvals of the cycle."""
    return ConsumerSpec(
        purpose="plans",
        topics=[topic_for("demand"), topic_for("capacity"), topic_for("cycle")],
        handlers=dict(HANDLERS),
    )


def consumers() -> list[ConsumerSpec]:
    return [product_consumer(), plans_consumer()]
