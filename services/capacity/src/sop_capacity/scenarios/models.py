from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from sop_shared.jsontype import JsonColumnType


class ScenarioSetting(SQLModel, table=True):
    """What a cycle's scenario changes for capacity, as last announced by the cycle service.

    ``unavailable_resources`` is ``[{resource, months: [YYYY-MM]}]``; ``overtime_allowed``
    None means "as in the base plan". ``parameters`` keeps the whole announcement.
    """

    __tablename__ = "scenario_setting"

    cycle: str = Field(primary_key=True, max_length=7)
    scenario: str = Field(primary_key=True, max_length=40)
    name: str = Field(default="", max_length=200)
    status: str = Field(default="active", max_length=20)
    overtime_allowed: bool | None = None
    unavailable_resources: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JsonColumnType, nullable=False)
    )
    parameters: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JsonColumnType, nullable=False)
    )
    event_time: datetime = Field(default_factory=lambda: datetime.now(UTC))
    updated_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
