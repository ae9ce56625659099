from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from sop_capacity.api.params import MONTH_PATTERN
from sop_capacity.datastatus import service
from sop_shared.auth import READ_ROLES, require_roles
from sop_shared.datastatus import DataStatus
from sop_shared.deps import SessionDep
from sop_shared.problems import problem_responses

router = APIRouter(
    prefix="/data-status", tags=["data-status"], responses=problem_responses(401, 403, 422)
)


@router.get(
    "",
    response_model=DataStatus,
    dependencies=[require_roles(*READ_ROLES)],
    summary="Is the capacity master data loaded for the cycle (step-1 gate)?",
)
def get_data_status(
    session: SessionDep,
    month: Annotated[str, Query(pattern=MONTH_PATTERN, description="Month of the actuals")],
) -> DataStatus:
    return service.data_status(session, month=month)
