"""Queries over the supply master data; no commits."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Table, delete, func, select, tuple_
from sqlmodel import Session, col

from sop_shared.readmodels.products import ProductRef
from sop_shared.repository import Repository
from sop_supply.masterdata.models import (
    BomLine,
    Contract,
    InventorySnapshot,
    ItemSite,
    Material,
    OpenSupply,
    Supplier,
    SupplyBudget,
)
from sop_supply.sites.models import Site

CHUNK = 500


class MaterialRepository(Repository[Material]):
    model = Material


class SupplierRepository(Repository[Supplier]):
    model = Supplier


class ItemSiteRepository(Repository[ItemSite]):
    model = ItemSite


class InventoryRepository(Repository[InventorySnapshot]):
    model = InventorySnapshot


class OpenSupplyRepository(Repository[OpenSupply]):
    model = OpenSupply


class BomRepository(Repository[BomLine]):
    model = BomLine


class ContractRepository(Repository[Contract]):
    model = Contract


class SupplyBudgetRepository(Repository[SupplyBudget]):
    model = SupplyBudget


def product_codes(session: Session) -> set[str]:
    query = select(col(ProductRef.code)).where(col(ProductRef.deleted).is_(False))
    return set(session.execute(query).scalars())


def product_families(session: Session) -> dict[str, str]:
    query = select(col(ProductRef.code), col(ProductRef.family)).where(
        col(ProductRef.deleted).is_(False)
    )
    return {row.code: row.family for row in session.execute(query)}


def material_codes(session: Session) -> set[str]:
    return set(session.execute(select(col(Material.code))).scalars())


def material_families(session: Session) -> set[str]:
    return set(session.execute(select(col(Material.family)).distinct()).scalars())


def site_codes(session: Session) -> set[str]:
    return set(session.execute(select(col(Site.code))).scalars())


def supplier_codes(session: Session) -> set[str]:
    return set(session.execute(select(col(Supplier.code))).scalars())


def _key_condition(table: Table, columns: Sequence[str], keys: Sequence[tuple[Any, ...]]) -> Any:
    if len(columns) == 1:
        return table.c[columns[0]].in_([k[0] for k in keys])
    return tuple_(*(table.c[c] for c in columns)).in_(keys)


def count_existing(
    session: Session, table: Table, columns: Sequence[str], keys: Iterable[tuple[Any, ...]]
) -> int:
    keys = list(keys)
    total = 0
    for i in range(0, len(keys), CHUNK):
        cond = _key_condition(table, columns, keys[i : i + CHUNK])
        total += int(
            session.execute(select(func.count()).select_from(table).where(cond)).scalar_one()
        )
    return total


def delete_keys(
    session: Session, table: Table, columns: Sequence[str], keys: Iterable[tuple[Any, ...]]
) -> int:
    """Delete the rows whose key is in ``keys``; returns how many went."""
    keys = list(keys)
    deleted = 0
    for i in range(0, len(keys), CHUNK):
        cond = _key_condition(table, columns, keys[i : i + CHUNK])
        deleted += _rowcount(session.execute(delete(table).where(cond)))
    return deleted


def delete_all(session: Session, table: Table) -> int:
    return _rowcount(session.execute(delete(table)))


def bom_edges(session: Session) -> list[tuple[str, str]]:
    return [(p, m) for p, m in session.execute(select(col(BomLine.product), col(BomLine.material)))]


def latest_inventory_month(session: Session) -> str | None:
    return session.execute(select(func.max(InventorySnapshot.month))).scalar_one()


def bom_edges_of(session: Session, parents: Iterable[str]) -> list[tuple[str, str]]:
    parents = list(parents)
    out: list[tuple[str, str]] = []
    for i in range(0, len(parents), CHUNK):
        query = select(col(BomLine.product), col(BomLine.material)).where(
            col(BomLine.product).in_(parents[i : i + CHUNK])
        )
        out.extend((p, m) for p, m in session.execute(query))
    return out


def _rowcount(result: Any) -> int:
    return int(result.rowcount or 0)
