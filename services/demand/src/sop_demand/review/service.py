"""Product review views: an NPI's forecast from its analog, and the NPI funnel."""

from __future__ import annotations

import uuid

import numpy as np
from sqlmodel import Session, col, select

from sop_demand.forecasts.models import ForecastRun, RunStatus
from sop_demand.forecasts.repository import ForecastRunRepository
from sop_demand.forecasts.service import months_of
from sop_demand.months import month_index
from sop_demand.plans.repository import PlanRepository
from sop_demand.products.service import get_product
from sop_demand.review.effects import launch_curve_factor, review
from sop_demand.review.schemas import FunnelCell, FunnelLaunch, NpiForecast, NpiFunnel, NpiMonth
from sop_shared.problems import NotFound, Unprocessable


def _run(session: Session, run_id: uuid.UUID | None, cycle: str | None) -> ForecastRun:
    if run_id is not None:
        run = session.get(ForecastRun, run_id)
        if run is None or run.status != RunStatus.succeeded:
            raise NotFound(f"No succeeded forecast run {run_id}.")
        return run
    if cycle is not None:
        found = ForecastRunRepository(session).for_cycle(cycle)
    else:
        found = session.exec(
            select(ForecastRun)
            .where(ForecastRun.status == RunStatus.succeeded)
            .order_by(col(ForecastRun.cycle).desc(), col(ForecastRun.created_at).desc())
        ).first()
    if found is None:
        raise Unprocessable(
            "There is no succeeded forecast run to derive NPI volumes from.", code="no-forecast"
        )
    return found


def npi_forecast(
    session: Session, *, code: str, run_id: uuid.UUID | None, cycle: str | None
) -> NpiForecast:
    """The NPI's months: analog forecast × scaling × launch curve, and × probability."""
    product = get_product(session, code=code)
    if product.lifecycle != "npi" or not product.analog_code:
        raise Unprocessable(
            f"Product {code!r} is not an NPI with an analog product.", code="not-an-npi"
        )
    run = _run(session, run_id, cycle)
    months = months_of(run)
    products = PlanRepository(session).products_frame()
    pair = products[products["code"].isin([code, product.analog_code])].reset_index(drop=True)
    baseline = ForecastRunRepository(session).values_frame(run.id, months=months)
    out = review(pair, baseline, months)
    mine = out[out["product"] == code].reset_index(drop=True)
    analog = (
        baseline[baseline["product"] == product.analog_code]
        .set_index("month")["mean"]
        .reindex(months)
        .fillna(0.0)
        .to_numpy()
    )
    row = pair[pair["code"] == code]
    launch_month = row["launch_month"].iloc[0]
    grid = mine[["product", "month"]].assign(m=np.arange(len(months)) + month_index(months[0]))
    launch = np.full(
        len(months), month_index(launch_month) if launch_month else month_index(months[0])
    )
    curve = launch_curve_factor(row, grid, launch)
    return NpiForecast(
        product=code,
        analog=product.analog_code,
        scaling_factor=product.scaling_factor,
        launch_month=launch_month,
        launch_probability=product.launch_probability,
        forecast_run_id=run.id,
        months=[
            NpiMonth(
                month=m,
                analog_forecast=float(a),
                curve=float(c),
                if_launched=float(n),
                expected=float(e),
            )
            for m, a, c, n, e in zip(
                months, analog, curve, mine["npi"], mine["adjusted"], strict=True
            )
        ],
    )


def npi_funnel(session: Session, *, run_id: uuid.UUID | None, cycle: str | None) -> NpiFunnel:
    """Every NPI over the run's horizon: volume if launched and probability-weighted."""
    run = _run(session, run_id, cycle)
    months = months_of(run)
    products = PlanRepository(session).products_frame()
    baseline = ForecastRunRepository(session).values_frame(run.id, months=months)
    out = review(products, baseline, months)
    npi_codes = set(products.loc[products["lifecycle"] == "npi", "code"])
    npi = out[out["product"].isin(npi_codes)].copy()
    npi["revenue"] = npi["adjusted"] * npi["price"]
    per_product = npi.groupby("product", as_index=False)[["npi", "adjusted", "revenue"]].sum()
    info = products.set_index("code")
    launches = [
        FunnelLaunch(
            product=r["product"],
            family=str(info.at[r["product"], "family"]),
            analog=_or_none(info.at[r["product"], "analog_code"]),
            launch_month=_or_none(info.at[r["product"], "launch_month"]),
            launch_probability=float(info.at[r["product"], "launch_probability"]),
            volume_if_launched=float(r["npi"]),
            expected_volume=float(r["adjusted"]),
            expected_revenue=float(r["revenue"]),
        )
        for r in per_product.to_dict("records")
    ]
    cells = npi.groupby(["family", "month"], as_index=False)[["adjusted", "revenue"]].sum()
    return NpiFunnel(
        forecast_run_id=run.id,
        months=months,
        launches=sorted(launches, key=lambda x: (x.launch_month or "", x.product)),
        by_family_month=[
            FunnelCell(
                family=r["family"],
                month=r["month"],
                expected_volume=float(r["adjusted"]),
                expected_revenue=float(r["revenue"]),
            )
            for r in cells.to_dict("records")
        ],
        expected_volume=float(npi["adjusted"].sum()),
        volume_if_all_launched=float(npi["npi"].sum()),
    )


def _or_none(value: object) -> str | None:
    return None if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)
