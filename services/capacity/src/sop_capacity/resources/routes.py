from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from sop_capacity.resources import service
from sop_capacity.resources.schemas import ResourceCreate, ResourcePage, ResourceRead
from sop_shared.auth import READ_ROLES, Role, require_roles
from sop_shared.deps import SessionDep
from sop_shared.problems import problem_responses

router = APIRouter(
    prefix="/resources", tags=["resources"], responses=problem_responses(401, 403, 422)
)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ResourceRead,
    responses=problem_responses(409),
    dependencies=[require_roles(Role.capacity_planner, Role.integration)],
)
def create_resource(data: ResourceCreate, session: SessionDep) -> ResourceRead:
    return ResourceRead.model_validate(service.create_resource(session, data=data))


@router.get("", response_model=ResourcePage, dependencies=[require_roles(*READ_ROLES)])
def list_resources(
    session: SessionDep,
    site: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> ResourcePage:
    return service.list_resources(session, site=site, limit=limit, offset=offset)


@router.get(
    "/{code}",
    response_model=ResourceRead,
    responses=problem_responses(404),
    dependencies=[require_roles(*READ_ROLES)],
)
def get_resource(code: str, session: SessionDep) -> ResourceRead:
    return ResourceRead.model_validate(service.get_resource(session, code=code))
