from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from sop_demand.api.params import MONTH_PATTERN, MonthQuery
from sop_demand.quality import service
from sop_demand.quality.schemas import DataQualityReport
from sop_shared.auth import READ_ROLES, require_roles
from sop_shared.datastatus import DataStatus
from sop_shared.deps import SessionDep
from sop_shared.problems import problem_responses

router = APIRouter(tags=["data-quality"], responses=problem_responses(401, 403, 422))


@router.get(
    "/data-quality",
    response_model=DataQualityReport,
    dependencies=[require_roles(*READ_ROLES)],
    summary="Gaps, negative and outlying values, products without history, last month loaded",
)
def get_data_quality(
    session: SessionDep,
    months: Annotated[int, Query(ge=1, le=120, description="Window length")] = 24,
    month_to: MonthQuery = None,
) -> DataQualityReport:
    return service.data_quality(session, months=months, month_to=month_to)


@router.get(
    "/data-status",
    response_model=DataStatus,
    dependencies=[require_roles(*READ_ROLES)],
    summary="Is the month's demand data in and clean? (gate of cycle step 1)",
)
def get_data_status(
    request: Request,
    session: SessionDep,
    month: Annotated[str, Query(pattern=MONTH_PATTERN, description="YYYY-MM")],
) -> DataStatus:
    return service.data_status(
        session, month=month, service=request.app.state.settings.service_name
    )
