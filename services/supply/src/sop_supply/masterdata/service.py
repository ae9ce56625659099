"""Master-data use cases: the bulk feeds (validated row by row, all-or-nothing, idempotent),
the list pages and the data-status gate answered to the cycle service.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import numpy as np
from pydantic import BaseModel
from sqlalchemy import func, select, tuple_
from sqlmodel import Session, SQLModel, col

from sop_shared.bulk import body_hash, copy_rows, parse_rows, remember, replay
from sop_shared.datastatus import DataCheck, DataStatus
from sop_shared.problems import FieldError, ValidationFailed
from sop_supply.masterdata import repository as repo
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
from sop_supply.masterdata.schemas import (
    BomRow,
    BulkResult,
    ContractRow,
    InventoryRow,
    ItemSiteRow,
    MaterialRow,
    OpenSupplyRow,
    SupplierRow,
    SupplyBudgetPage,
    SupplyBudgetRead,
    SupplyBudgetRow,
)
from sop_supply.planning.engine import BomCycleError, validate_bom
from sop_supply.sites.models import Site

R = TypeVar("R", bound=BaseModel)
P = TypeVar("P", bound=BaseModel)

#: (row number, field, message, problem code)
RowProblem = tuple[int, str, str, str]


@dataclass(frozen=True)
class Upload:
    """A raw bulk request: body, its media type and the optional Idempotency-Key."""

    body: bytes
    content_type: str | None
    idempotency_key: str | None


def refuse(problems: Sequence[RowProblem], summary: str, **extra: Any) -> None:
    """One all-or-nothing refusal naming every offending row (the first 100)."""
    if not problems:
        return
    codes = {p[3] for p in problems}
    row, field, message, _ = problems[0]
    raise ValidationFailed(
        f"{summary}: {len(problems)} problem(s); first: row {row}, {field}: {message}. "
        "Nothing was written.",
        code=codes.pop() if len(codes) == 1 else "invalid-rows",
        errors=[FieldError(row=r, field=f, message=m) for r, f, m, _ in problems[:100]],
        **extra,
    )


def _feed(
    session: Session,
    upload: Upload,
    *,
    resource: str,
    row_model: type[R],
    key: Callable[[R], Hashable],
    apply: Callable[[list[R]], BulkResult],
) -> BulkResult:
    """Replay a known Idempotency-Key, else parse, check and apply the batch in this transaction."""
    endpoint = f"supply:{resource}"
    try:
        upload.body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValidationFailed(
            "The body is not UTF-8 text.",
            errors=[FieldError(field="body", message=f"not UTF-8 at byte {exc.start}")],
        ) from exc
    digest = body_hash(upload.body)
    answer = replay(session, key=upload.idempotency_key, endpoint=endpoint, digest=digest)
    if answer is not None:
        return BulkResult.model_validate(answer)
    try:
        rows = parse_rows(
            upload.body, upload.content_type or "application/json", row_model, key=key
        )
    except csv.Error as exc:  # e.g. a NUL byte: the csv module refuses the text
        raise ValidationFailed(
            f"The CSV cannot be read: {exc}.", errors=[FieldError(field="body", message=str(exc))]
        ) from exc
    result = apply(rows)
    remember(
        session,
        key=upload.idempotency_key,
        endpoint=endpoint,
        digest=digest,
        status_code=200,
        response=result.model_dump(mode="json"),
    )
    return result


def _insert(session: Session, model: type[SQLModel], records: list[dict[str, Any]]) -> None:
    table = model.__table__  # type: ignore[attr-defined]
    now = datetime.now(UTC)
    columns = [*records[0], "updated_at"]
    copy_rows(session, table, columns, ((*r.values(), now) for r in records))


def _upsert(
    session: Session,
    model: type[SQLModel],
    key_columns: Sequence[str],
    records: list[dict[str, Any]],
    *,
    resource: str,
    replace_all: bool = False,
) -> BulkResult:
    """Rows with a known key are replaced, the others inserted (COPY on PostgreSQL).

    With ``replace_all`` the batch becomes the whole table: rows not in it are deleted.
    """
    table = model.__table__  # type: ignore[attr-defined]
    keys = [tuple(r[c] for c in key_columns) for r in records]
    if replace_all:
        updated = repo.count_existing(session, table, key_columns, keys)
        deleted = repo.delete_all(session, table) - updated
    else:
        updated = repo.delete_keys(session, table, key_columns, keys)
        deleted = 0
    _insert(session, model, records)
    return BulkResult(
        resource=resource,
        received=len(records),
        created=len(records) - updated,
        updated=updated,
        deleted=deleted,
    )


class Catalogue:
    """The codes a feed may refer to, loaded once per batch; collects row problems."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.problems: list[RowProblem] = []
        self._products: set[str] | None = None
        self._materials: set[str] | None = None
        self._sites: set[str] | None = None
        self._suppliers: set[str] | None = None

    @property
    def products(self) -> set[str]:
        if self._products is None:
            self._products = repo.product_codes(self.session)
        return self._products

    @property
    def materials(self) -> set[str]:
        if self._materials is None:
            self._materials = repo.material_codes(self.session)
        return self._materials

    def add(self, row: int, field: str, message: str, code: str) -> None:
        self.problems.append((row, field, message, code))

    def item(self, row: int, field: str, code: str) -> None:
        """A product of the read model or a material of this service."""
        if code not in self.products and code not in self.materials:
            self.add(row, field, f"unknown product or material {code!r}", "unknown-product")

    def site(self, row: int, code: str) -> None:
        if self._sites is None:
            self._sites = repo.site_codes(self.session)
        if code not in self._sites:
            self.add(row, "site", f"unknown site {code!r}", "unknown-site")

    def supplier(self, row: int, code: str) -> None:
        if self._suppliers is None:
            self._suppliers = repo.supplier_codes(self.session)
        if code not in self._suppliers:
            self.add(row, "supplier", f"unknown supplier {code!r}", "unknown-supplier")


# --- feeds -----------------------------------------------------------------------------------


def ingest_materials(session: Session, *, upload: Upload) -> BulkResult:
    def apply(rows: list[MaterialRow]) -> BulkResult:
        check = Catalogue(session)
        for i, r in enumerate(rows, start=1):
            if r.code in check.products:
                check.add(
                    i, "code", f"{r.code!r} is a product, not a material", "code-is-a-product"
                )
        refuse(check.problems, "Materials refused")
        records = [r.model_dump() for r in rows]
        return _upsert(session, Material, ("code",), records, resource="materials")

    return _feed(
        session,
        upload,
        resource="materials",
        row_model=MaterialRow,
        key=lambda r: r.code,
        apply=apply,
    )


def ingest_suppliers(session: Session, *, upload: Upload) -> BulkResult:
    def apply(rows: list[SupplierRow]) -> BulkResult:
        records = [r.model_dump() for r in rows]
        return _upsert(session, Supplier, ("code",), records, resource="suppliers")

    return _feed(
        session,
        upload,
        resource="suppliers",
        row_model=SupplierRow,
        key=lambda r: r.code,
        apply=apply,
    )


def ingest_item_sites(session: Session, *, upload: Upload) -> BulkResult:
    def apply(rows: list[ItemSiteRow]) -> BulkResult:
        check = Catalogue(session)
        for i, r in enumerate(rows, start=1):
            check.item(i, "product", r.product)
            check.site(i, r.site)
        refuse(check.problems, "Item-site parameters refused")
        records = [r.model_dump() for r in rows]
        return _upsert(session, ItemSite, ("product", "site"), records, resource="item-sites")

    return _feed(
        session,
        upload,
        resource="item-sites",
        row_model=ItemSiteRow,
        key=lambda r: (r.product, r.site),
        apply=apply,
    )


def ingest_inventory(session: Session, *, upload: Upload) -> BulkResult:
    def apply(rows: list[InventoryRow]) -> BulkResult:
        check = Catalogue(session)
        for i, r in enumerate(rows, start=1):
            check.item(i, "product", r.product)
            check.site(i, r.site)
            if r.quality_hold > r.on_hand:
                check.add(
                    i,
                    "quality_hold",
                    f"quality_hold {r.quality_hold:g} exceeds on_hand {r.on_hand:g} "
                    "(on hand includes the stock on hold)",
                    "invalid-inventory",
                )
        refuse(check.problems, "Inventory snapshots refused")
        records = [r.model_dump() for r in rows]
        return _upsert(
            session, InventorySnapshot, ("product", "site", "month"), records, resource="inventory"
        )

    return _feed(
        session,
        upload,
        resource="inventory",
        row_model=InventoryRow,
        key=lambda r: (r.product, r.site, r.month),
        apply=apply,
    )


def ingest_open_supply(session: Session, *, upload: Upload, replace: bool) -> BulkResult:
    """Open orders by ``order_ref``; ``replace`` makes the batch the whole open order book."""

    def apply(rows: list[OpenSupplyRow]) -> BulkResult:
        check = Catalogue(session)
        for i, r in enumerate(rows, start=1):
            check.item(i, "product", r.product)
            check.site(i, r.site)
            if r.supplier is not None:
                check.supplier(i, r.supplier)
        refuse(check.problems, "Open supply refused")
        records = [r.model_dump() for r in rows]
        return _upsert(
            session,
            OpenSupply,
            ("order_ref",),
            records,
            resource="open-supply",
            replace_all=replace,
        )

    return _feed(
        session,
        upload,
        resource="open-supply:replace" if replace else "open-supply",
        row_model=OpenSupplyRow,
        key=lambda r: r.order_ref,
        apply=apply,
    )


def ingest_boms(session: Session, *, upload: Upload) -> BulkResult:
    """The batch replaces the whole bill of material of every product it names.

    The resulting BOM (lines kept plus the batch) must have no cycle; a cycle is refused
    naming it (``A -> B -> A``) and the batch rows that close it.
    """

    def apply(rows: list[BomRow]) -> BulkResult:
        check = Catalogue(session)
        for i, r in enumerate(rows, start=1):
            check.item(i, "product", r.product)
            check.item(i, "material", r.material)
        refuse(check.problems, "Bill of material refused")
        parents = {r.product for r in rows}
        kept = [(p, m) for p, m in repo.bom_edges(session) if p not in parents]
        batch = [(r.product, r.material) for r in rows]
        try:
            validate_bom(np.array(kept + batch, dtype=str).reshape(-1, 2))
        except BomCycleError as exc:
            cycle = [str(node) for node in exc.path]
            edges = set(zip(cycle, cycle[1:], strict=False))
            problems = [
                (i, "material", f"closes the cycle {' -> '.join(cycle)}", "bom-cycle")
                for i, edge in enumerate(batch, start=1)
                if edge in edges
            ]
            refuse(
                problems,
                f"The bill of material would contain a cycle {' -> '.join(cycle)}",
                cycle=cycle,
            )
        table = BomLine.__table__  # type: ignore[attr-defined]
        existing = set(repo.bom_edges_of(session, parents))
        repo.delete_keys(session, table, ("product",), [(p,) for p in parents])
        _insert(session, BomLine, [r.model_dump() for r in rows])
        updated = len(existing & set(batch))
        return BulkResult(
            resource="boms",
            received=len(rows),
            created=len(rows) - updated,
            updated=updated,
            deleted=len(existing - set(batch)),
        )

    return _feed(
        session,
        upload,
        resource="boms",
        row_model=BomRow,
        key=lambda r: (r.product, r.material),
        apply=apply,
    )


def ingest_contracts(session: Session, *, upload: Upload) -> BulkResult:
    def apply(rows: list[ContractRow]) -> BulkResult:
        check = Catalogue(session)
        for i, r in enumerate(rows, start=1):
            check.supplier(i, r.supplier)
            check.item(i, "material", r.material)
            if r.min_volume > r.max_volume:
                check.add(
                    i,
                    "min_volume",
                    f"committed minimum {r.min_volume:g} exceeds the maximum {r.max_volume:g}",
                    "invalid-contract",
                )
            if r.period_end < r.period_start:
                check.add(
                    i,
                    "period_end",
                    f"period ends ({r.period_end}) before it starts ({r.period_start})",
                    "invalid-contract",
                )
        refuse(check.problems, "Contracts refused")
        records = [r.model_dump() for r in rows]
        return _upsert(session, Contract, ("code",), records, resource="contracts")

    return _feed(
        session,
        upload,
        resource="contracts",
        row_model=ContractRow,
        key=lambda r: r.code,
        apply=apply,
    )


def ingest_supply_budget(session: Session, *, upload: Upload) -> BulkResult:
    def apply(rows: list[SupplyBudgetRow]) -> BulkResult:
        check = Catalogue(session)
        families = set(repo.product_families(session).values()) | repo.material_families(session)
        for i, r in enumerate(rows, start=1):
            if (r.product is None) == (r.family is None):
                check.add(i, "product", "give either product or family", "invalid-budget")
            elif r.product is not None:
                check.item(i, "product", r.product)
            elif r.family not in families:
                check.add(i, "family", f"unknown family {r.family!r}", "unknown-family")
        refuse(check.problems, "Supply budget refused")
        records = [
            {
                "level": "product" if r.product is not None else "family",
                "code": r.product if r.product is not None else r.family,
                "month": r.month,
                "volume": r.volume,
                "value": r.value,
            }
            for r in rows
        ]
        return _upsert(
            session, SupplyBudget, ("level", "code", "month"), records, resource="supply-budget"
        )

    return _feed(
        session,
        upload,
        resource="supply-budget",
        row_model=SupplyBudgetRow,
        key=lambda r: (r.product, r.family, r.month),
        apply=apply,
    )


# --- pages -----------------------------------------------------------------------------------


def page(
    session: Session,
    model: type[SQLModel],
    *,
    filters: dict[str, Any],
    order_by: Sequence[str],
    limit: int,
    offset: int,
) -> tuple[list[Any], int]:
    """One page of ``model`` rows matching the equality ``filters`` that are not None."""
    query = select(model)
    for name, value in filters.items():
        if value is not None:
            query = query.where(getattr(model, name) == value)
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    ordered = query.order_by(*(getattr(model, c) for c in order_by)).limit(limit).offset(offset)
    return list(session.execute(ordered).scalars().all()), int(total)


def list_page(
    session: Session,
    model: type[SQLModel],
    page_model: type[P],
    *,
    filters: dict[str, Any],
    order_by: Sequence[str],
    limit: int,
    offset: int,
) -> P:
    rows, total = page(
        session, model, filters=filters, order_by=order_by, limit=limit, offset=offset
    )
    return page_model.model_validate(
        {"items": rows, "total": total, "limit": limit, "offset": offset}, from_attributes=True
    )


def list_supply_budget(
    session: Session,
    *,
    level: str | None,
    code: str | None,
    month: str | None,
    limit: int,
    offset: int,
) -> SupplyBudgetPage:
    rows, total = page(
        session,
        SupplyBudget,
        filters={"level": level, "code": code, "month": month},
        order_by=["level", "code", "month"],
        limit=limit,
        offset=offset,
    )
    return SupplyBudgetPage(
        items=[
            SupplyBudgetRead(
                product=r.code if r.level == "product" else None,
                family=r.code if r.level == "family" else None,
                month=r.month,
                volume=r.volume,
                value=r.value,
            )
            for r in rows
        ],
        total=total,
        limit=limit,
        offset=offset,
    )


# --- data status -----------------------------------------------------------------------------


def data_status(session: Session, *, month: str) -> DataStatus:
    """Is the supply data of ``month`` loaded? (the cycle's step-1 gate, see CONTRACTS.md)

    Ready when sites and item-site parameters exist, every item-site has an inventory
    snapshot as of ``month`` and every bill-of-material line and item-site refers to codes
    still known (products can be retired by demand after the feed).
    """
    counts = {
        name: session.execute(select(func.count()).select_from(model)).scalar_one()
        for name, model in (("sites", Site), ("item_sites", ItemSite))
    }
    item_sites = counts["item_sites"]
    snapshot = select(col(InventorySnapshot.product), col(InventorySnapshot.site)).where(
        col(InventorySnapshot.month) == month
    )
    covered = session.execute(
        select(func.count())
        .select_from(ItemSite)
        .where(
            tuple_(ItemSite.product, ItemSite.site).in_(snapshot)  # type: ignore[arg-type]
        )
    ).scalar_one()
    known = repo.product_codes(session) | repo.material_codes(session)
    item_codes = set(session.execute(select(col(ItemSite.product)).distinct()).scalars())
    stale = sorted(item_codes - known)
    checks = [
        DataCheck(name="sites", ok=counts["sites"] > 0, detail=f"{counts['sites']} site(s)"),
        DataCheck(
            name="item_site_parameters",
            ok=item_sites > 0,
            detail=f"{item_sites} item-site(s) with supply parameters",
        ),
        DataCheck(
            name="inventory_snapshot",
            ok=item_sites > 0 and covered == item_sites,
            detail=f"{covered} of {item_sites} item-site(s) have stock as of {month}",
        ),
        DataCheck(
            name="known_items",
            ok=not stale,
            detail="every item-site refers to a known product or material"
            if not stale
            else f"{len(stale)} unknown: {', '.join(stale[:10])}",
        ),
    ]
    return DataStatus(
        service="supply",
        month=month,
        ready=all(c.ok for c in checks),
        last_month_loaded=repo.latest_inventory_month(session),
        checks=checks,
    )
