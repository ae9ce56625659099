from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from sop_demand.products import service
from sop_demand.products.schemas import (
    ProductBulkResult,
    ProductCreate,
    ProductPage,
    ProductRead,
    ProductUpdate,
    ProductUpsert,
)
from sop_shared.auth import READ_ROLES, Role, require_roles
from sop_shared.bulk import IdempotencyKey, RawBody, bulk_openapi
from sop_shared.deps import SessionDep
from sop_shared.etag import IfMatchHeader, parse_if_match, set_etag
from sop_shared.problems import problem_responses

router = APIRouter(
    prefix="/products", tags=["products"], responses=problem_responses(401, 403, 422)
)

WRITERS = (Role.demand_planner, Role.integration)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ProductRead,
    responses=problem_responses(409),
    dependencies=[require_roles(*WRITERS)],
)
def create_product(data: ProductCreate, session: SessionDep, response: Response) -> ProductRead:
    product = service.create_product(session, data=data)
    set_etag(response, product.version)
    response.headers["Location"] = f"/api/v1/products/{product.code}"
    return ProductRead.model_validate(product)


@router.get("", response_model=ProductPage, dependencies=[require_roles(*READ_ROLES)])
def list_products(
    session: SessionDep,
    family: str | None = None,
    category: str | None = None,
    lifecycle: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=2_000_000_000)] = 0,
) -> ProductPage:
    items, total = service.list_products(
        session, family=family, category=category, lifecycle=lifecycle, limit=limit, offset=offset
    )
    return ProductPage(
        items=[ProductRead.model_validate(p) for p in items],
        total=total,
        limit=limit,
        offset=offset,
    )


@router.get(
    "/{code}",
    response_model=ProductRead,
    responses=problem_responses(404),
    dependencies=[require_roles(*READ_ROLES)],
)
def get_product(code: str, session: SessionDep, response: Response) -> ProductRead:
    product = service.get_product(session, code=code)
    set_etag(response, product.version)
    return ProductRead.model_validate(product)


@router.patch(
    "/{code}",
    response_model=ProductRead,
    responses=problem_responses(404, 412),
    dependencies=[require_roles(*WRITERS)],
)
def update_product(
    code: str,
    data: ProductUpdate,
    session: SessionDep,
    response: Response,
    if_match: IfMatchHeader = None,
) -> ProductRead:
    product = service.update_product(
        session, code=code, data=data, if_match=parse_if_match(if_match)
    )
    set_etag(response, product.version)
    return ProductRead.model_validate(product)


@router.post(
    "/bulk",
    response_model=ProductBulkResult,
    responses=problem_responses(409, 413),
    dependencies=[require_roles(*WRITERS)],
    openapi_extra=bulk_openapi(ProductUpsert),
    summary="Create or change many products by code (ERP feed: JSON, JSON lines or CSV)",
)
def upsert_products(
    request: Request,
    body: RawBody,
    session: SessionDep,
    idempotency_key: IdempotencyKey = None,
) -> ProductBulkResult:
    """All-or-nothing; a retry with the same ``Idempotency-Key`` returns the first answer."""
    return service.bulk_upsert(
        session,
        body=body,
        content_type=request.headers.get("content-type"),
        idempotency_key=idempotency_key,
    )
