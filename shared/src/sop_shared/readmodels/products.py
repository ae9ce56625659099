"""The product read model kept by supply and capacity from ``product.changed`` events.

Demand owns products; the others keep this copy so they can refuse unknown
products without calling demand inside a transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict
from sqlmodel import Field, Session, SQLModel, col, select

from sop_shared.auth import READ_ROLES, require_roles
from sop_shared.deps import SessionDep
from sop_shared.events.catalog import ProductChangedData
from sop_shared.events.envelope import CloudEvent, topic_for
from sop_shared.inbox import ConsumerSpec
from sop_shared.problems import FieldError, Unprocessable, problem_responses
from sop_shared.repository import Page, Repository

PRODUCT_CHANGED = "sop.demand.product.changed.v1"


class ProductRef(SQLModel, table=True):
    __tablename__ = "product_ref"

    code: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    family: str = Field(max_length=100, index=True)
    category: str = Field(max_length=100)
    unit: str = Field(max_length=20)
    price: float = 0.0
    cost: float = 0.0
    lifecycle: str = Field(max_length=20)
    version: int
    deleted: bool = False
    updated_at: datetime = Field(default_factory=lambda: datetime.now(UTC))


def apply_product_changed(session: Session, event: CloudEvent) -> None:
    """Upsert the copy unless the event is older than what we hold (stale-version guard)."""
    data = ProductChangedData.model_validate(event.data)
    row = session.get(ProductRef, data.code)
    if row is not None and row.version >= data.version:
        return
    row = row or ProductRef(
        code=data.code,
        name=data.name,
        family=data.family,
        category=data.category,
        unit=data.unit,
        lifecycle=data.lifecycle,
        version=data.version,
    )
    row.name, row.family, row.category = data.name, data.family, data.category
    row.unit, row.price, row.cost = data.unit, data.price, data.cost
    row.lifecycle, row.version, row.deleted = data.lifecycle, data.version, data.deleted
    row.updated_at = datetime.now(UTC)
    session.add(row)


def product_consumer() -> ConsumerSpec:
    """The consumer group that keeps this service's product copy current."""
    return ConsumerSpec(
        purpose="products",
        topics=[topic_for("demand")],
        handlers={PRODUCT_CHANGED: apply_product_changed},
    )


def known_products(session: Session, codes: Iterable[str]) -> dict[str, ProductRef]:
    wanted = set(codes)
    if not wanted:
        return {}
    rows = session.exec(
        select(ProductRef).where(
            col(ProductRef.code).in_(wanted), col(ProductRef.deleted).is_(False)
        )
    ).all()
    return {r.code: r for r in rows}


def require_products(
    session: Session, codes: Iterable[str], *, field: str = "product"
) -> dict[str, ProductRef]:
    """Return the known products or refuse the whole request naming each unknown code."""
    wanted = list(dict.fromkeys(codes))
    found = known_products(session, wanted)
    unknown = [c for c in wanted if c not in found]
    if unknown:
        raise Unprocessable(
            f"{len(unknown)} unknown product(s): {', '.join(unknown[:10])}",
            code="unknown-product",
            errors=[
                FieldError(field=field, message=f"unknown product {c!r}") for c in unknown[:100]
            ],
        )
    return found


class ProductRefRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    family: str
    category: str
    unit: str
    lifecycle: str
    version: int


class ProductRefPage(Page[ProductRefRead]):
    pass


class ProductRefRepository(Repository[ProductRef]):
    model = ProductRef


def list_product_refs(
    session: Session, *, family: str | None, limit: int, offset: int
) -> ProductRefPage:
    query = select(ProductRef).where(col(ProductRef.deleted).is_(False))
    if family:
        query = query.where(ProductRef.family == family)
    rows, total = ProductRefRepository(session).list_page(
        query, order_by=col(ProductRef.code), limit=limit, offset=offset
    )
    return ProductRefPage(
        items=[ProductRefRead.model_validate(r) for r in rows],
        total=total,
        limit=limit,
        offset=offset,
    )


router = APIRouter(
    prefix="/products", tags=["products"], responses=problem_responses(401, 403, 422)
)


@router.get(
    "",
    response_model=ProductRefPage,
    summary="Products known to this service (read model fed by demand's events)",
    dependencies=[require_roles(*READ_ROLES)],
)
def list_products(
    session: SessionDep,
    family: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=2_000_000_000)] = 0,
) -> ProductRefPage:
    return list_product_refs(session, family=family, limit=limit, offset=offset)
