from __future__ import annotations

import os
from functools import lru_cache

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from sop_shared import settings as shared
from sop_shared.settings import ServiceSettings


# (KafkaSettings is not imported by name: the access-matrix test takes this module's first
# ``*Settings`` class as the service's settings.)
def _kafka() -> shared.KafkaSettings:
    """A forecast partition may run for minutes between two polls: allow 30 of them
    (unless ``SOP_KAFKA_MAX_POLL_INTERVAL_MS`` says otherwise)."""
    if "SOP_KAFKA_MAX_POLL_INTERVAL_MS" in os.environ:
        return shared.KafkaSettings()
    return shared.KafkaSettings(max_poll_interval_ms=30 * 60 * 1000)


class DemandSettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="SOP_DEMAND_", env_nested_delimiter="__", extra="ignore"
    )

    service_name: str = "demand"
    port: int = 8101
    kafka: shared.KafkaSettings = Field(default_factory=_kafka)
    forecast_n_jobs: int = Field(
        default=-1, description="Processes per forecast partition (-1: one per core)"
    )
    default_site: str = Field(
        default="MAIN", description="Site of plan lines for products with no sales anywhere yet"
    )


@lru_cache
def get_settings() -> DemandSettings:
    return DemandSettings()
