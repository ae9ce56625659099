"""Builders: plain functions returning persisted rows (Polar ``random_objects`` style)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel import Session

from sop_demand.history.models import SalesHistory
from sop_demand.products.models import Product


def product(
    session: Session,
    code: str,
    *,
    family: str = "FAM",
    category: str = "CAT",
    price: float = 10.0,
    lifecycle: str = "active",
    **fields: Any,
) -> Product:
    row = Product(
        code=code,
        name=fields.pop("name", code),
        family=family,
        category=category,
        price=price,
        lifecycle=lifecycle,
        **fields,
    )
    session.add(row)
    session.commit()  # releases the savepoint: a failing request rolls back only its own work
    return row


def sales(
    session: Session,
    code: str,
    quantities: dict[str, float],
    *,
    site: str = "S1",
    channel: str = "",
    price: float = 10.0,
) -> None:
    """``{"2026-01": 100, ...}`` as history rows at ``price`` per unit."""
    for month, qty in quantities.items():
        session.add(
            SalesHistory(
                product=code,
                site=site,
                channel=channel,
                month=month,
                quantity=qty,
                revenue=qty * price,
            )
        )
    session.commit()  # releases the savepoint: a failing request rolls back only its own work


def d(text: str) -> date:
    return date.fromisoformat(text)
