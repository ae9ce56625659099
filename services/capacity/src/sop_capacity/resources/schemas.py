from __future__ import annotations

from pydantic import ConfigDict, Field

from sop_capacity.resources.models import ResourceKind
from sop_shared.bulk import BulkRow
from sop_shared.repository import Page
from sop_shared.types import Money

RESOURCE_CODE = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$"


class ResourceCreate(BulkRow):
    code: str = Field(pattern=RESOURCE_CODE, examples=["LINE-1"])
    name: str = Field(min_length=1, max_length=200)
    site: str = Field(min_length=1, max_length=64, examples=["PLANT-A"])
    kind: ResourceKind = ResourceKind.line
    labour_pool: str | None = Field(
        default=None,
        max_length=64,
        description="Code of the labour_pool resource whose crew staffs this resource",
    )
    overtime_hour_cost: Money = Field(
        default=0.0, description="Cost of one overtime hour when the resource is in no labour pool"
    )


class ResourceRead(ResourceCreate):
    model_config = ConfigDict(from_attributes=True, extra="ignore")

    version: int


class ResourcePage(Page[ResourceRead]):
    pass
