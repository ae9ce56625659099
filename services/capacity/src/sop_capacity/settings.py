from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from sop_shared.settings import ServiceSettings


class CapacitySettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="SOP_CAPACITY_", env_nested_delimiter="__", extra="ignore"
    )

    service_name: str = "capacity"
    port: int = 8103
    holding_rate_per_month: float = Field(
        default=0.02, ge=0, description="Holding cost per unit-month as a share of product cost"
    )
    backorder_rate_per_month: float = Field(
        default=0.25, ge=0, description="Backorder cost per unit-month as a share of product price"
    )
    lp_time_limit_seconds: float | None = Field(
        default=600.0, description="HiGHS stops here and keeps its best plan, if it has one"
    )
    lp_threads: int | None = Field(default=None, description="HiGHS threads (default: its own)")


@lru_cache
def get_settings() -> CapacitySettings:
    return CapacitySettings()
