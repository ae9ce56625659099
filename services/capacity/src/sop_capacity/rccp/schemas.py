from __future__ import annotations

from pydantic import BaseModel, Field


class LoadCell(BaseModel):
    """Rough-cut load of one resource-month against its regular hours."""

    resource: str
    month: str
    available_hours: float | None = Field(
        description="Regular hours; null where only a crew limits"
    )
    load_hours: float
    utilisation: float | None = Field(description="load / available; null when not defined")
    overloaded: bool
    idle: bool
    unavailable: bool = Field(description="Switched off by the scenario")


class CrewLoad(BaseModel):
    """Hours a labour pool's resources need against today's crew (headcount x hours)."""

    pool: str
    month: str
    crew_hours: float
    load_hours: float
    utilisation: float | None
    overloaded: bool


class Contributor(BaseModel):
    product: str
    site: str
    hours: float
    share: float = Field(description="Share of the resource-month's load")


class OverloadRead(BaseModel):
    resource: str
    month: str
    load_hours: float
    available_hours: float
    utilisation: float | None
    products: list[Contributor]


class Unassigned(BaseModel):
    product: str
    site: str
    quantity: float = Field(description="Required over the horizon with no method to make it")


class RoughCutRead(BaseModel):
    supply_plan_id: str
    months: list[str]
    cells: list[LoadCell]
    crews: list[CrewLoad]
    overloads: list[OverloadRead]
    unassigned: list[Unassigned]
    warnings: list[str]
