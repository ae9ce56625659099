"""Which events the capacity service applies, and with which handler."""

from __future__ import annotations

from sop_shared.inbox import ConsumerSpec
from sop_shared.readmodels.products import product_consumer


def consumers() -> list[ConsumerSpec]:
    return [product_consumer()]
