from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Response, status

from sop_demand.api.params import Limit, MonthQuery, Offset, RowId
from sop_demand.promotions import service
from sop_demand.promotions.schemas import PromotionCreate, PromotionPage, PromotionRead
from sop_shared.auth import READ_ROLES, Caller, Role, require_roles
from sop_shared.bulk import IdempotencyKey
from sop_shared.deps import SessionDep
from sop_shared.problems import problem_responses

router = APIRouter(
    prefix="/promotions", tags=["promotions"], responses=problem_responses(401, 403, 422)
)
WRITERS = (Role.demand_planner, Role.integration)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=PromotionRead,
    responses=problem_responses(409),
    summary="Record a promotion or a price plan (product or family, month range)",
)
def create_promotion(
    data: PromotionCreate,
    session: SessionDep,
    response: Response,
    caller: Caller = require_roles(*WRITERS),
    idempotency_key: IdempotencyKey = None,
) -> PromotionRead:
    promotion = service.create_promotion(
        session, data=data, caller=caller, idempotency_key=idempotency_key
    )
    response.headers["Location"] = f"/api/v1/promotions/{promotion.id}"
    return promotion


@router.get("", response_model=PromotionPage, dependencies=[require_roles(*READ_ROLES)])
def list_promotions(
    session: SessionDep,
    level: Literal["product", "family"] | None = None,
    node: str | None = None,
    month: MonthQuery = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> PromotionPage:
    return service.list_promotions(
        session, level=level, node=node, month=month, limit=limit, offset=offset
    )


@router.get(
    "/{promotion_id}",
    response_model=PromotionRead,
    responses=problem_responses(404),
    dependencies=[require_roles(*READ_ROLES)],
)
def get_promotion(promotion_id: RowId, session: SessionDep) -> PromotionRead:
    return PromotionRead.model_validate(service.get_promotion(session, promotion_id=promotion_id))


@router.delete(
    "/{promotion_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(404),
    dependencies=[require_roles(*WRITERS)],
    summary="Withdraw a promotion (plans already built keep their numbers)",
)
def delete_promotion(promotion_id: RowId, session: SessionDep) -> Response:
    service.delete_promotion(session, promotion_id=promotion_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
