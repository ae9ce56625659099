from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header

from sop_capacity.api.params import Limit, Offset
from sop_capacity.ingest import BulkResult
from sop_capacity.workforce import service
from sop_capacity.workforce.schemas import WorkforcePage, WorkforceRead, WorkforceRow
from sop_shared.auth import READ_ROLES, Role, require_roles
from sop_shared.bulk import IdempotencyKey, RawBody, bulk_openapi
from sop_shared.deps import SessionDep
from sop_shared.problems import problem_responses

router = APIRouter(
    prefix="/workforce", tags=["workforce"], responses=problem_responses(401, 403, 422)
)


@router.post(
    "/bulk",
    response_model=BulkResult,
    responses=problem_responses(409, 413),
    dependencies=[require_roles(Role.capacity_planner, Role.integration)],
    openapi_extra=bulk_openapi(WorkforceRow),
    summary="Load crew parameters per labour pool (CSV, JSON lines or JSON array), all or nothing",
)
def bulk_upsert_workforce(
    raw: RawBody,
    session: SessionDep,
    idempotency_key: IdempotencyKey = None,
    content_type: Annotated[str | None, Header()] = None,
) -> BulkResult:
    return service.bulk_upsert(
        session, raw=raw, content_type=content_type, idempotency_key=idempotency_key
    )


@router.get("", response_model=WorkforcePage, dependencies=[require_roles(*READ_ROLES)])
def list_workforce(session: SessionDep, limit: Limit = 100, offset: Offset = 0) -> WorkforcePage:
    return service.list_workforce(session, limit=limit, offset=offset)


@router.get(
    "/{pool}",
    response_model=WorkforceRead,
    responses=problem_responses(404),
    dependencies=[require_roles(*READ_ROLES)],
)
def get_workforce(pool: str, session: SessionDep) -> WorkforceRead:
    return WorkforceRead.model_validate(service.get_workforce(session, pool=pool))
