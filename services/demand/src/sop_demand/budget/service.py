"""Demand budget: upserted per product or family × month from finance feeds."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session, col

from sop_demand.budget.models import DemandBudget
from sop_demand.budget.repository import BudgetRepository
from sop_demand.budget.schemas import BudgetLoadResult, BudgetPage, BudgetRead, BudgetRow
from sop_shared import bulk
from sop_shared.auth import Caller

ENDPOINT = "demand-budgets"


def load_budget(
    session: Session,
    *,
    body: bytes,
    content_type: str | None,
    idempotency_key: str | None,
    caller: Caller,
) -> BudgetLoadResult:
    """Upsert budget cells by (product|family, month); unknown products or families refuse all."""
    digest = bulk.body_hash(body)
    previous = bulk.replay(session, key=idempotency_key, endpoint=ENDPOINT, digest=digest)
    if previous is not None:
        return BudgetLoadResult.model_validate(previous)
    rows = bulk.parse_rows(body, content_type or "application/json", BudgetRow, key=lambda r: r.key)
    repo = BudgetRepository(session)
    known_products = repo.product_codes(r.product for r in rows if r.product)
    families = repo.families()
    problems = []
    for number, row in enumerate(rows, start=1):
        if row.product is not None and row.product not in known_products:
            problems.append((number, "product", f"unknown product {row.product!r}"))
        if row.family is not None and row.family not in families:
            problems.append((number, "family", f"unknown family {row.family!r}"))
    bulk.refuse_rows(problems, f"{len(problems)} invalid budget row(s)")
    existing = repo.by_keys(r.key for r in rows)
    created = 0
    now = datetime.now(UTC)
    for row in rows:
        cell = existing.get(row.key)
        if cell is None:
            level, node, month = row.key
            cell = DemandBudget(level=level, node=node, month=month)
            created += 1
        cell.quantity, cell.revenue = row.quantity, row.revenue
        cell.updated_by, cell.updated_at = caller.subject, now
        repo.add(cell)
    session.flush()
    result = BudgetLoadResult(rows=len(rows), created=created, updated=len(rows) - created)
    bulk.remember(
        session,
        key=idempotency_key,
        endpoint=ENDPOINT,
        digest=digest,
        status_code=200,
        response=result.model_dump(mode="json"),
    )
    return result


def list_budget(
    session: Session,
    *,
    level: str | None,
    node: str | None,
    year: int | None,
    limit: int,
    offset: int,
) -> BudgetPage:
    repo = BudgetRepository(session)
    query = repo.query(level=level, node=node, year=year)
    rows, total = repo.list_page(
        query.order_by(col(DemandBudget.level), col(DemandBudget.node)),
        order_by=col(DemandBudget.month),
        limit=limit,
        offset=offset,
    )
    return BudgetPage(
        items=[BudgetRead.model_validate(r) for r in rows], total=total, limit=limit, offset=offset
    )
