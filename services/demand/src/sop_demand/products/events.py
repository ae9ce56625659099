"""Events of the products feature: ``product.changed`` for the read models of other services."""

from __future__ import annotations

from sqlmodel import Session

from sop_demand.products.models import Product
from sop_shared.events.catalog import ProductChangedData
from sop_shared.outbox import publish

PRODUCT_CHANGED = "sop.demand.product.changed.v1"


def product_changed(session: Session, product: Product) -> None:
    publish(
        session,
        domain="demand",
        type=PRODUCT_CHANGED,
        subject=product.code,
        key=product.code,
        version=product.version,
        data=ProductChangedData(
            code=product.code,
            name=product.name,
            family=product.family,
            category=product.category,
            unit=product.unit,
            price=product.price,
            cost=product.cost,
            lifecycle=str(product.lifecycle),
            launch_date=product.launch_date.isoformat() if product.launch_date else None,
            eol_date=product.eol_date.isoformat() if product.eol_date else None,
            version=product.version,
        ),
    )
