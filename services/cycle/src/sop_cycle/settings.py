from __future__ import annotations

from datetime import date
from functools import lru_cache

from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from sop_shared.settings import ServiceSettings

#: The seven steps of a cycle, in order (ARCHITECTURE.md).
STEP_NAMES = (
    "data_gathering",
    "product_review",
    "demand_review",
    "supply_review",
    "production_review",
    "pre_sop",
    "executive_sop",
)


class CycleSettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="SOP_CYCLE_", env_nested_delimiter="__", extra="ignore"
    )

    service_name: str = "cycle"
    port: int = 8104
    #: Due date of each step: working day N of the cycle month (Mon-Fri minus holidays).
    step_working_days: dict[str, int] = Field(
        default_factory=lambda: {
            "data_gathering": 3,
            "product_review": 6,
            "demand_review": 9,
            "supply_review": 12,
            "production_review": 15,
            "pre_sop": 17,
            "executive_sop": 19,
        }
    )
    #: The role that owns each step; the coordinator may act on every step.
    step_owner_roles: dict[str, str] = Field(
        default_factory=lambda: {
            "data_gathering": "sop_coordinator",
            "product_review": "demand_planner",
            "demand_review": "demand_planner",
            "supply_review": "supply_planner",
            "production_review": "capacity_planner",
            "pre_sop": "sop_coordinator",
            "executive_sop": "executive",
        }
    )
    holidays: list[date] = Field(default_factory=list)
    #: Services whose data-status gates step 1.
    data_status_services: list[str] = Field(
        default_factory=lambda: ["demand", "supply", "capacity"]
    )
    #: Calls to peers: attempts per call (ServiceClient retries transient failures).
    peer_attempts: int = 3
    #: Thresholds that turn numbers of the pre-S&OP view into open issues.
    fill_rate_target: float = 0.98
    utilisation_limit: float = 1.0
    budget_tolerance: float = 0.05
    #: How often the overdue watcher announces steps past their due date (seconds).
    overdue_check_seconds: float = Field(default=300.0, gt=0)

    @field_validator("step_working_days")
    @classmethod
    def _every_step_has_a_day(cls, value: dict[str, int]) -> dict[str, int]:
        missing = [s for s in STEP_NAMES if s not in value]
        if missing:
            raise ValueError(f"step_working_days lacks {missing}")
        if any(not 1 <= value[s] <= 23 for s in STEP_NAMES):
            raise ValueError("step_working_days must be between 1 and 23")
        return value

    @field_validator("step_owner_roles")
    @classmethod
    def _every_step_has_an_owner(cls, value: dict[str, str]) -> dict[str, str]:
        missing = [s for s in STEP_NAMES if s not in value]
        if missing:
            raise ValueError(f"step_owner_roles lacks {missing}")
        return value


@lru_cache
def get_settings() -> CycleSettings:
    return CycleSettings()
