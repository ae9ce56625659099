from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Response, status

from sop_capacity.ingest import BulkResult
from sop_capacity.resources import service
from sop_capacity.resources.models import ResourceKind
from sop_capacity.resources.schemas import ResourceCreate, ResourcePage, ResourceRead
from sop_shared.auth import READ_ROLES, Role, require_roles
from sop_shared.bulk import IdempotencyKey, RawBody, bulk_openapi
from sop_shared.deps import SessionDep
from sop_shared.etag import set_etag
from sop_shared.problems import problem_responses

router = APIRouter(
    prefix="/resources", tags=["resources"], responses=problem_responses(401, 403, 422)
)

WRITERS = (Role.capacity_planner, Role.integration)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ResourceRead,
    responses=problem_responses(409),
    dependencies=[require_roles(*WRITERS)],
)
def create_resource(data: ResourceCreate, session: SessionDep, response: Response) -> ResourceRead:
    resource = service.create_resource(session, data=data)
    set_etag(response, resource.version)
    response.headers["Location"] = f"/api/v1/resources/{resource.code}"
    return ResourceRead.model_validate(resource)


@router.post(
    "/bulk",
    response_model=BulkResult,
    responses=problem_responses(409, 413),
    dependencies=[require_roles(*WRITERS)],
    openapi_extra=bulk_openapi(ResourceCreate),
    summary="Create or update many resources (CSV, JSON lines or JSON array), all or nothing",
)
def bulk_upsert_resources(
    raw: RawBody,
    session: SessionDep,
    idempotency_key: IdempotencyKey = None,
    content_type: Annotated[str | None, Header()] = None,
) -> BulkResult:
    return service.bulk_upsert(
        session, raw=raw, content_type=content_type, idempotency_key=idempotency_key
    )


@router.get("", response_model=ResourcePage, dependencies=[require_roles(*READ_ROLES)])
def list_resources(
    session: SessionDep,
    site: str | None = None,
    kind: ResourceKind | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=2_000_000_000)] = 0,
) -> ResourcePage:
    return service.list_resources(session, site=site, kind=kind, limit=limit, offset=offset)


@router.get(
    "/{code}",
    response_model=ResourceRead,
    responses=problem_responses(404),
    dependencies=[require_roles(*READ_ROLES)],
)
def get_resource(code: str, session: SessionDep, response: Response) -> ResourceRead:
    resource = service.get_resource(session, code=code)
    set_etag(response, resource.version)
    return ResourceRead.model_validate(resource)
