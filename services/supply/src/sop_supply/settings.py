from __future__ import annotations

from functools import lru_cache

from pydantic_settings import SettingsConfigDict

from sop_shared.settings import ServiceSettings


class SupplySettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="SOP_SUPPLY_", env_nested_delimiter="__", extra="ignore"
    )

    service_name: str = "supply"
    port: int = 8102


@lru_cache
def get_settings() -> SupplySettings:
    return SupplySettings()
