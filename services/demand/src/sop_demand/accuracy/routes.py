from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import AfterValidator, Field

from sop_demand.accuracy import service
from sop_demand.accuracy.schemas import AccuracyReport, FvaReport
from sop_demand.api.params import MonthQuery
from sop_shared.auth import READ_ROLES, require_roles
from sop_shared.deps import SessionDep
from sop_shared.problems import problem_responses
from sop_shared.types import distinct

MAX_LAG = 36  # the longest forecast horizon

router = APIRouter(
    prefix="/forecast-accuracy",
    tags=["forecast-accuracy"],
    responses=problem_responses(401, 403, 422),
)

GroupBy = Annotated[
    list[Literal["cycle", "product", "family", "lag", "month"]],
    AfterValidator(distinct),
    Query(
        description="Group by these (repeat the parameter, each once); none: one overall row",
        json_schema_extra={"uniqueItems": True},
    ),
]
Lags = Annotated[
    list[Annotated[int, Field(ge=1, le=MAX_LAG)]],
    Query(description=f"Lags in months (1 = the cycle month), 1 to {MAX_LAG}"),
]


@router.get(
    "",
    response_model=AccuracyReport,
    dependencies=[require_roles(*READ_ROLES)],
    summary="WAPE, MAPE, sMAPE, bias, MASE of the frozen forecasts against actuals",
)
def get_forecast_accuracy(
    session: SessionDep,
    by: GroupBy = [],  # noqa: B006  (FastAPI copies query defaults)
    lag: Lags = [1, 2, 3],  # noqa: B006
    family: str | None = None,
    product: str | None = None,
    month_from: MonthQuery = None,
    month_to: MonthQuery = None,
) -> AccuracyReport:
    return service.accuracy_report(
        session,
        by=by,
        lags=sorted(set(lag)),
        family=family,
        product=product,
        month_from=month_from,
        month_to=month_to,
    )


@router.get(
    "/value-added",
    response_model=FvaReport,
    dependencies=[require_roles(*READ_ROLES)],
    summary="Forecast value added of the review and consensus layers over the baseline",
)
def get_forecast_value_added(
    session: SessionDep,
    by: GroupBy = [],  # noqa: B006
    lag: Lags = [1, 2, 3],  # noqa: B006
    metric: Literal["wape", "mape", "smape", "bias", "mase"] = "wape",
    family: str | None = None,
    product: str | None = None,
    month_from: MonthQuery = None,
    month_to: MonthQuery = None,
) -> FvaReport:
    return service.fva_report(
        session,
        by=by,
        lags=sorted(set(lag)),
        metric=metric,
        family=family,
        product=product,
        month_from=month_from,
        month_to=month_to,
    )
