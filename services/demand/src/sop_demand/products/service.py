"""Product use cases: create, change (guarded by version), bulk upsert from ERP feeds, list."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session

from sop_demand.products import events
from sop_demand.products.models import Product
from sop_demand.products.repository import ProductRepository
from sop_demand.products.schemas import (
    ProductBulkResult,
    ProductCreate,
    ProductUpdate,
    ProductUpsert,
)
from sop_shared import bulk
from sop_shared.bulk import refuse_rows
from sop_shared.problems import (
    Conflict,
    FieldError,
    NotFound,
    PreconditionFailed,
    Unprocessable,
    ValidationFailed,
)

#: Columns that may be NULL; a null for any other field means "keep" (or the default).
NULLABLE = frozenset({"launch_date", "eol_date", "analog_code", "launch_curve", "successor_code"})
REQUIRED_NEW = ("name", "family", "category")


def get_product(session: Session, *, code: str) -> Product:
    product = ProductRepository(session).get_by(code=code)
    if product is None:
        raise NotFound(f"Product {code!r} does not exist.")
    return product


def _reference_problems(
    code: str, values: dict[str, Any], known: set[str]
) -> list[tuple[str, str]]:
    """(field, message) for an analog or successor that is itself or unknown."""
    out = []
    for field, role in (("analog_code", "analog"), ("successor_code", "successor")):
        ref = values.get(field)
        if ref is None:
            continue
        if ref == code:
            out.append((field, f"a product cannot be its own {role}"))
        elif ref not in known:
            out.append((field, f"unknown product {ref!r}"))
    launch, eol = values.get("launch_date"), values.get("eol_date")
    if launch and eol and eol < launch:
        out.append(("eol_date", "eol_date must not be before launch_date"))
    return out


def _refuse_references(code: str, values: dict[str, Any], known: set[str]) -> None:
    problems = _reference_problems(code, values, known)
    if problems:
        raise ValidationFailed(
            f"{problems[0][0]}: {problems[0][1]}.",
            errors=[FieldError(field=f"body.{f}", message=m) for f, m in problems],
        )


def create_product(session: Session, *, data: ProductCreate) -> Product:
    repo = ProductRepository(session)
    if repo.get_by(code=data.code) is not None:
        raise Conflict(f"Product {data.code!r} already exists.", code="product-exists")
    values = data.model_dump()
    refs = [v for v in (data.analog_code, data.successor_code) if v]
    _refuse_references(data.code, values, repo.existing_codes(refs))
    product = repo.add(Product(**values))
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
    changes = {
        k: v
        for k, v in data.model_dump(exclude_unset=True).items()
        if v is not None or k in NULLABLE
    }
    merged = {**product.model_dump(), **changes}
    refs = [merged[f] for f in ("analog_code", "successor_code") if merged.get(f)]
    known = repo.existing_codes(refs)
    problems = _reference_problems(code, merged, known)
    if problems:
        field, message = problems[0]
        if field == "eol_date":
            raise Unprocessable(f"{message}.", code="invalid-dates")
        raise ValidationFailed(
            f"{field}: {message}.",
            errors=[FieldError(field=f"body.{f}", message=m) for f, m in problems],
        )
    for key, value in changes.items():
        setattr(product, key, value)
    product.version += 1
    product.updated_at = datetime.now(UTC)
    repo.add(product)
    session.flush()
    events.product_changed(session, product)
    return product


def _differs(current: Any, new: Any) -> bool:
    if isinstance(current, float) or isinstance(new, float):
        if current is None or new is None:
            return current is not new
        return abs(float(current) - float(new)) > 1e-12
    if isinstance(current, list) or isinstance(new, list):
        return [float(x) for x in current or []] != [float(x) for x in new or []] or (
            (current is None) != (new is None)
        )
    return bool(current != new)


def upsert_products(session: Session, *, rows: Sequence[ProductUpsert]) -> ProductBulkResult:
    """Create or change products by code, all-or-nothing; events only for real changes."""
    repo = ProductRepository(session)
    codes = [r.code for r in rows]
    existing = repo.by_codes(codes, for_update=True)
    refs = {v for r in rows for v in (r.analog_code, r.successor_code) if v}
    known = set(codes) | repo.existing_codes(refs - set(codes))
    problems: list[tuple[int, str, str]] = []
    planned: list[tuple[ProductUpsert, dict[str, Any]]] = []
    for number, row in enumerate(rows, start=1):
        given = {
            k: v
            for k, v in row.model_dump(exclude_unset=True).items()
            if k != "code" and (v is not None or k in NULLABLE)
        }
        current = existing.get(row.code)
        if current is None:
            missing = [f for f in REQUIRED_NEW if f not in given]
            problems.extend((number, f, "required for a new product") for f in missing)
            merged = dict(given)
        else:
            merged = {**current.model_dump(), **given}
        problems.extend((number, f, m) for f, m in _reference_problems(row.code, merged, known))
        planned.append((row, given))
    refuse_rows(problems, f"{len(problems)} invalid product row(s)")

    created = updated = 0
    changed: list[str] = []
    for row, given in planned:
        current = existing.get(row.code)
        if current is None:
            product = repo.add(Product(code=row.code, **given))
            created += 1
        else:
            diff = {k: v for k, v in given.items() if _differs(getattr(current, k), v)}
            if not diff:
                continue
            for key, value in diff.items():
                setattr(current, key, value)
            current.version += 1
            current.updated_at = datetime.now(UTC)
            product = repo.add(current)
            updated += 1
        changed.append(product.code)
        events.product_changed(session, product)
    session.flush()
    return ProductBulkResult(
        rows=len(rows),
        created=created,
        updated=updated,
        unchanged=len(rows) - created - updated,
        changed_codes=changed[:1000],
    )


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


def bulk_upsert(
    session: Session, *, body: bytes, content_type: str | None, idempotency_key: str | None
) -> ProductBulkResult:
    """Parse, validate and apply an ERP product feed once per ``Idempotency-Key``."""
    endpoint = "products.bulk"
    digest = bulk.body_hash(body)
    previous = bulk.replay(session, key=idempotency_key, endpoint=endpoint, digest=digest)
    if previous is not None:
        return ProductBulkResult.model_validate(previous)
    rows = bulk.parse_rows(
        body, content_type or "application/json", ProductUpsert, key=lambda r: r.code
    )
    result = upsert_products(session, rows=rows)
    bulk.remember(
        session,
        key=idempotency_key,
        endpoint=endpoint,
        digest=digest,
        status_code=200,
        response=result.model_dump(mode="json"),
    )
    return result
