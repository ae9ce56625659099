from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from sop_shared.auth import READ_ROLES, Role, require_roles
from sop_shared.deps import SessionDep
from sop_shared.problems import problem_responses
from sop_supply.sites import service
from sop_supply.sites.schemas import SiteCreate, SitePage, SiteRead

router = APIRouter(prefix="/sites", tags=["sites"], responses=problem_responses(401, 403, 422))


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=SiteRead,
    responses=problem_responses(409),
    dependencies=[require_roles(Role.supply_planner, Role.integration)],
)
def create_site(data: SiteCreate, session: SessionDep) -> SiteRead:
    return SiteRead.model_validate(service.create_site(session, data=data))


@router.get("", response_model=SitePage, dependencies=[require_roles(*READ_ROLES)])
def list_sites(
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
) -> SitePage:
    return service.list_sites(session, limit=limit, offset=offset)


@router.get(
    "/{code}",
    response_model=SiteRead,
    responses=problem_responses(404),
    dependencies=[require_roles(*READ_ROLES)],
)
def get_site(code: str, session: SessionDep) -> SiteRead:
    return SiteRead.model_validate(service.get_site(session, code=code))
