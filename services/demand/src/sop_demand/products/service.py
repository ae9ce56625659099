"""Product use cases: create, change (guarded by version) and list."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session

from sop_demand.products import events
from sop_demand.products.models import Product
from sop_demand.products.repository import ProductRepository
from sop_demand.products.schemas import ProductCreate, ProductUpdate
from sop_shared.problems import Conflict, NotFound, PreconditionFailed, Unprocessable


def get_product(session: Session, *, code: str) -> Product:
    product = ProductRepository(session).get_by(code=code)
    if product is None:
        raise NotFound(f"Product {code!r} does not exist.")
    return product


def create_product(session: Session, *, data: ProductCreate) -> Product:
    repo = ProductRepository(session)
    if repo.get_by(code=data.code) is not None:
        raise Conflict(f"Product {data.code!r} already exists.", code="product-exists")
    product = repo.add(Product(**data.model_dump()))
    session.flush()
    events.product_changed(session, product)
    return product


def update_product(
    session: Session, *, code: str, data: ProductUpdate, if_match: int | None
) -> Product:
    repo = ProductRepository(session)
    product = repo.get_for_update(code=code)
    if product is None:
        raise NotFound(f"Product {code!r} does not exist.")
    if if_match is not None and if_match != product.version:
        raise PreconditionFailed(
            f"Product {code!r} is at version {product.version}, not {if_match}.",
            current_version=product.version,
        )
    changes = data.model_dump(exclude_unset=True)
    for key, value in changes.items():
        setattr(product, key, value)
    if product.launch_date and product.eol_date and product.eol_date < product.launch_date:
        raise Unprocessable("eol_date must not be before launch_date.", code="invalid-dates")
    product.version += 1
    product.updated_at = datetime.now(UTC)
    repo.add(product)
    session.flush()
    events.product_changed(session, product)
    return product


def list_products(
    session: Session,
    *,
    family: str | None,
    category: str | None,
    lifecycle: str | None,
    limit: int,
    offset: int,
) -> tuple[list[Product], int]:
    return ProductRepository(session).list_filtered(
        family=family, category=category, lifecycle=lifecycle, limit=limit, offset=offset
    )
