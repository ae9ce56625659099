from __future__ import annotations

from functools import lru_cache

from pydantic_settings import SettingsConfigDict

from sop_shared.settings import ServiceSettings


class DemandSettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="SOP_DEMAND_", env_nested_delimiter="__", extra="ignore"
    )

    service_name: str = "demand"
    port: int = 8101


@lru_cache
def get_settings() -> DemandSettings:
    return DemandSettings()
