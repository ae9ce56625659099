"""Promotions and price plans: recorded per product or family, applied when a plan is built."""

from __future__ import annotations

from sqlmodel import Session, col, select

from sop_demand.products.models import Product
from sop_demand.promotions.models import Promotion
from sop_demand.promotions.repository import PromotionRepository
from sop_demand.promotions.schemas import PromotionCreate, PromotionPage, PromotionRead
from sop_shared import bulk
from sop_shared.auth import Caller
from sop_shared.problems import FieldError, NotFound, ValidationFailed


def create_promotion(
    session: Session, *, data: PromotionCreate, caller: Caller, idempotency_key: str | None = None
) -> PromotionRead:
    """Record it; a retry with the same ``Idempotency-Key`` returns the first answer."""
    digest = bulk.body_hash(data.model_dump_json().encode())
    previous = bulk.replay(session, key=idempotency_key, endpoint="promotions", digest=digest)
    if previous is not None:
        return PromotionRead.model_validate(previous)
    column = Product.code if data.level == "product" else Product.family
    if session.exec(select(Product.id).where(column == data.node)).first() is None:
        raise ValidationFailed(
            f"Unknown {data.level} {data.node!r}.",
            errors=[FieldError(field="body.node", message=f"unknown {data.level} {data.node!r}")],
        )
    promotion = PromotionRepository(session).add(
        Promotion(**data.model_dump(), created_by=caller.subject)
    )
    session.flush()
    read = PromotionRead.model_validate(promotion)
    bulk.remember(
        session,
        key=idempotency_key,
        endpoint="promotions",
        digest=digest,
        status_code=201,
        response=read.model_dump(mode="json"),
    )
    return read


def get_promotion(session: Session, *, promotion_id: int) -> Promotion:
    promotion = session.get(Promotion, promotion_id)
    if promotion is None:
        raise NotFound(f"Promotion {promotion_id} does not exist.")
    return promotion


def delete_promotion(session: Session, *, promotion_id: int) -> None:
    session.delete(get_promotion(session, promotion_id=promotion_id))
    session.flush()


def list_promotions(
    session: Session,
    *,
    level: str | None,
    node: str | None,
    month: str | None,
    limit: int,
    offset: int,
) -> PromotionPage:
    repo = PromotionRepository(session)
    rows, total = repo.list_page(
        repo.query(level=level, node=node, month=month),
        order_by=col(Promotion.id),
        limit=limit,
        offset=offset,
    )
    return PromotionPage(
        items=[PromotionRead.model_validate(r) for r in rows],
        total=total,
        limit=limit,
        offset=offset,
    )
