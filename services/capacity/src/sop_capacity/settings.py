from __future__ import annotations

from functools import lru_cache

from pydantic_settings import SettingsConfigDict

from sop_shared.settings import ServiceSettings


class CapacitySettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="SOP_CAPACITY_", env_nested_delimiter="__", extra="ignore"
    )

    service_name: str = "capacity"
    port: int = 8103


@lru_cache
def get_settings() -> CapacitySettings:
    return CapacitySettings()
