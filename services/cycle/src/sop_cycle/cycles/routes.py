from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from sop_cycle.cycles import service
from sop_cycle.cycles.schemas import CycleCreate, CyclePage, CycleRead
from sop_shared.auth import READ_ROLES, Caller, Role, require_roles
from sop_shared.deps import SessionDep
from sop_shared.problems import problem_responses

router = APIRouter(prefix="/cycles", tags=["cycles"], responses=problem_responses(401, 403, 422))

Coordinator = Annotated[Caller, require_roles(Role.sop_coordinator)]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=CycleRead,
    responses=problem_responses(409),
)
def open_cycle(data: CycleCreate, session: SessionDep, caller: Coordinator) -> CycleRead:
    return CycleRead.model_validate(service.open_cycle(session, data=data, actor=caller))


@router.get("", response_model=CyclePage, dependencies=[require_roles(*READ_ROLES)])
def list_cycles(
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> CyclePage:
    return service.list_cycles(session, limit=limit, offset=offset)


@router.get(
    "/{month}",
    response_model=CycleRead,
    responses=problem_responses(404),
    dependencies=[require_roles(*READ_ROLES)],
)
def get_cycle(month: str, session: SessionDep) -> CycleRead:
    return CycleRead.model_validate(service.get_cycle(session, month=month))
