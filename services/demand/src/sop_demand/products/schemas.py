from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sop_demand.products.models import Lifecycle
from sop_shared.repository import Page

CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-/]{0,63}$"


class ProductBase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    family: str = Field(min_length=1, max_length=100)
    category: str = Field(min_length=1, max_length=100)
    unit: str = Field(default="EA", min_length=1, max_length=20)
    price: float = Field(default=0.0, ge=0)
    cost: float = Field(default=0.0, ge=0)
    lifecycle: Lifecycle = Lifecycle.active
    launch_date: date | None = None
    eol_date: date | None = None

    @model_validator(mode="after")
    def _dates_in_order(self) -> ProductBase:
        if self.launch_date and self.eol_date and self.eol_date < self.launch_date:
            raise ValueError("eol_date must not be before launch_date")
        return self


class ProductCreate(ProductBase):
    code: str = Field(pattern=CODE_PATTERN, examples=["SKU-1001"])


class ProductUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    family: str | None = Field(default=None, min_length=1, max_length=100)
    category: str | None = Field(default=None, min_length=1, max_length=100)
    unit: str | None = Field(default=None, min_length=1, max_length=20)
    price: float | None = Field(default=None, ge=0)
    cost: float | None = Field(default=None, ge=0)
    lifecycle: Lifecycle | None = None
    launch_date: date | None = None
    eol_date: date | None = None


class ProductRead(ProductCreate):
    model_config = ConfigDict(extra="ignore", from_attributes=True)

    version: int


class ProductPage(Page[ProductRead]):
    pass
