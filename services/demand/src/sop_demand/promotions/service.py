"""Promotions and price plans: recorded per product or family, applied when a plan is built."""

from __future__ import annotations

from sqlmodel import Session, col, select

from sop_demand.products.models import Product
from sop_demand.promotions.models import Promotion
from sop_demand.promotions.repository import PromotionRepository
from sop_demand.promotions.schemas import PromotionCreate, PromotionPage, PromotionRead
from sop_shared.auth import Caller
from sop_shared.problems import FieldError, NotFound, ValidationFailed


def create_promotion(session: Session, *, data: PromotionCreate, caller: Caller) -> Promotion:
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
    return promotion


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
