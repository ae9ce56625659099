from __future__ import annotations

from functools import lru_cache

from pydantic_settings import SettingsConfigDict

from sop_shared.settings import ServiceSettings


class CycleSettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="SOP_CYCLE_", env_nested_delimiter="__", extra="ignore"
    )

    service_name: str = "cycle"
    port: int = 8104


@lru_cache
def get_settings() -> CycleSettings:
    return CycleSettings()
