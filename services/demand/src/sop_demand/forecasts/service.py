"""Forecast runs: a job split into one partition per product family.

``request_run`` writes the run, its job (``total_parts`` = families) and one
``partition.requested`` event per family in the request's transaction. Whichever replica's
consumer receives a family's event runs ``run_partition``: it reads that family's history,
calls ``select_and_forecast``, stores forecasts, model choices and family totals, and counts
the part done. The last part adds the category totals and closes the run. With Kafka
disabled, the same partitions run one after another in a background job of this process.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from sop_demand.forecasting import select_and_forecast
from sop_demand.forecasting.reconcile import bottom_up
from sop_demand.forecasts import events
from sop_demand.forecasts.models import (
    ForecastPartition,
    ForecastRun,
    ForecastSelection,
    ForecastTotal,
    ForecastValue,
    RunStatus,
)
from sop_demand.forecasts.repository import ForecastRunRepository
from sop_demand.forecasts.schemas import (
    ForecastRunCreate,
    ForecastRunPage,
    ForecastRunRead,
    ForecastValuePage,
    ForecastValueRead,
    SelectionPage,
    SelectionRead,
    TotalPage,
    TotalRead,
)
from sop_demand.months import add_months, month_range, to_timestamps
from sop_demand.products.models import Product
from sop_shared.auth import Caller
from sop_shared.db import transaction
from sop_shared.jobs import Job, JobState, complete_part, create_job
from sop_shared.problems import Conflict, NotFound, Unprocessable
from sop_shared.streaming import LineFormat, stream_query

log = logging.getLogger("sop.demand.forecasts")

LOCAL_JOB_KIND = "forecast-run-local"
LEVELS = (80, 95)


def request_run(
    session: Session, *, data: ForecastRunCreate, caller: Caller, partitioned: bool
) -> ForecastRun:
    """Create the run and its job; queue one partition per family (202 for the caller)."""
    repo = ForecastRunRepository(session)
    running = repo.in_progress(data.cycle)
    job = session.get(Job, running.job_id) if running is not None else None
    if running is not None and job is not None and job.state == JobState.failed:
        # its job died (e.g. the process stopped during a local run): the run did too
        running.status, running.error = RunStatus.failed, job.error
        running.finished_at = datetime.now(UTC)
        session.add(running)
        running = None
    if running is not None:
        raise Conflict(
            f"Forecast run {running.id} of cycle {data.cycle} is still {running.status}.",
            code="forecast-run-in-progress",
            run_id=str(running.id),
        )
    history_end = data.history_end or add_months(data.cycle, -1)
    if history_end >= data.cycle:
        raise Unprocessable(
            "history_end must be before the cycle month.", code="invalid-history-end"
        )
    families = repo.families_with_history(history_end)
    if data.families is not None:
        unknown = sorted(set(data.families) - set(families))
        if unknown:
            raise Unprocessable(
                f"No history up to {history_end} for famil(ies) {', '.join(unknown)}.",
                code="no-history",
            )
        families = sorted(set(data.families))
    if not families:
        raise Unprocessable(
            f"There is no sales history up to {history_end} to forecast from.", code="no-history"
        )
    run_id = uuid.uuid4()
    job = create_job(
        session,
        kind=events.JOB_KIND if partitioned else LOCAL_JOB_KIND,
        params={"run_id": str(run_id), "cycle": data.cycle, "families": families},
        created_by=caller.subject,
        total_parts=len(families),
    )
    run = repo.add(
        ForecastRun(
            id=run_id,
            cycle=data.cycle,
            history_end=history_end,
            horizon=data.horizon,
            season_length=data.season_length,
            n_windows=data.n_windows,
            job_id=job.id,
            families=len(families),
            created_by=caller.subject,
        )
    )
    session.flush()
    if partitioned:
        for family in families:
            events.partition_requested(session, run, family)
    return run


def forecast_family(
    history: pd.DataFrame,
    hierarchy: pd.DataFrame,
    run: ForecastRun,
    *,
    n_jobs: int,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(values, selections, family totals) of one family, ready to store."""
    frame = pd.DataFrame(
        {
            "unique_id": history["product"].to_numpy(),
            "ds": to_timestamps(history["month"]).to_numpy(),
            "y": history["y"].to_numpy(dtype=float),
        }
    )
    result = select_and_forecast(
        frame,
        run.horizon,
        season_length=run.season_length,
        levels=LEVELS,
        n_windows=run.n_windows,
        history_end=pd.Timestamp(f"{run.history_end}-01"),
        n_jobs=n_jobs,
    )
    fc = result.forecasts
    values = pd.DataFrame(
        {
            "product": fc["unique_id"].astype(str).to_numpy(),
            "month": pd.to_datetime(fc["ds"]).dt.strftime("%Y-%m").to_numpy(),
            "mean": fc["mean"].to_numpy(dtype=float),
            "lo_80": fc["lo_80"].to_numpy(dtype=float),
            "hi_80": fc["hi_80"].to_numpy(dtype=float),
            "lo_95": fc["lo_95"].to_numpy(dtype=float),
            "hi_95": fc["hi_95"].to_numpy(dtype=float),
        }
    )
    sel = result.selections
    selections = pd.DataFrame(
        {
            "product": sel["unique_id"].astype(str).to_numpy(),
            "demand_class": sel["demand_class"].astype(str).to_numpy(),
            "tier": sel["tier"].astype(str).to_numpy(),
            "model": sel["model"].astype(str).to_numpy(),
            "metric": sel["metric"].to_numpy(),
            "score": sel["score"].to_numpy(dtype=float),
            "scores": sel["scores"].to_numpy(),
            "n_obs": sel["n_obs"].to_numpy(dtype=np.int64),
        }
    )
    totals = bottom_up(
        values.rename(columns={"product": "unique_id", "month": "ds"}),
        hierarchy.rename(columns={"product": "unique_id"}),
        levels=("family",),
    )
    totals = totals[totals["level"] == "family"].rename(columns={"ds": "month"})
    return values, selections, totals


def _finite(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if np.isfinite(number) else None


def run_partition(session: Session, *, run_id: uuid.UUID, family: str, n_jobs: int = -1) -> bool:
    """Forecast one family of a run; False when there was nothing (left) to do.

    Idempotent: a family already done is skipped, so a redelivered event (or a replay of
    the run's events) never stores a family twice or counts its part twice.
    """
    repo = ForecastRunRepository(session)
    run = session.get(ForecastRun, run_id)
    if run is None:
        log.warning("forecast partition for unknown run %s ignored", run_id)
        return False
    if run.status == RunStatus.failed or repo.partition_done(run_id, family):
        return False
    started = time.perf_counter()
    products = repo.family_products(family)
    hierarchy = products.assign(family=family)[["product", "family"]]
    history = repo.family_history(family, products["product"].tolist(), run.history_end)
    try:
        if history.empty:
            values = selections = totals = pd.DataFrame()
        else:
            values, selections, totals = forecast_family(history, hierarchy, run, n_jobs=n_jobs)
    except Exception as exc:  # a model failure fails the run, it is not retried forever
        log.exception("forecast of family %s in run %s failed", family, run_id)
        _fail(session, run, family, f"family {family}: {exc}")
        return True
    if not values.empty:
        repo.write_values(
            zip(
                [run_id] * len(values),
                values["product"].tolist(),
                values["month"].tolist(),
                values["mean"].tolist(),
                values["lo_80"].tolist(),
                values["hi_80"].tolist(),
                values["lo_95"].tolist(),
                values["hi_95"].tolist(),
                strict=True,
            )
        )
        repo.write_selections(
            [
                {
                    "run_id": run_id,
                    "product": r["product"],
                    "family": family,
                    "demand_class": r["demand_class"],
                    "tier": r["tier"],
                    "model": r["model"][:200],
                    "metric": r["metric"] if isinstance(r["metric"], str) else None,
                    "score": _finite(r["score"]),
                    "scores": {str(k): _finite(v) for k, v in (r["scores"] or {}).items()},
                    "n_obs": int(r["n_obs"]),
                }
                for r in selections.to_dict("records")
            ]
        )
        repo.write_totals(
            [
                {"run_id": run_id, "level": "family", "node": family, "month": m, "mean": float(v)}
                for m, v in zip(totals["month"], totals["mean"], strict=True)
            ]
        )
    session.add(
        ForecastPartition(
            run_id=run_id,
            family=family,
            status="done",
            series=len(selections),
            seconds=round(time.perf_counter() - started, 3),
        )
    )
    session.flush()
    job = complete_part(session, run.job_id, result={"run_id": str(run_id)})
    if job.started_at is None:
        job.started_at = run.created_at
        session.add(job)
    if job.state == JobState.succeeded:
        _finish(session, run, job)
    elif run.status == RunStatus.queued:
        run.status = RunStatus.running
        session.add(run)
    return True


def _finish(session: Session, run: ForecastRun, job: Job) -> None:
    """Last part: category totals over every family, counts, and the run closed."""
    repo = ForecastRunRepository(session)
    repo.clear_category_totals(run.id)
    repo.write_totals(repo.category_totals(run.id))
    run.series, run.families = repo.counts(run.id)
    run.status = RunStatus.succeeded
    run.finished_at = datetime.now(UTC)
    session.add(run)
    job.result = {
        "run_id": str(run.id),
        "cycle": run.cycle,
        "series": run.series,
        "families": run.families,
    }
    job.message = f"{run.series} series forecast in {run.families} families"
    session.add(job)


def _fail(session: Session, run: ForecastRun, family: str, error: str) -> None:
    session.add(
        ForecastPartition(run_id=run.id, family=family, status="failed", error=error[:2000])
    )
    run.status = RunStatus.failed
    run.error = error[:2000]
    run.finished_at = datetime.now(UTC)
    session.add(run)
    job = session.get(Job, run.job_id)
    if job is not None:
        job.state = JobState.failed
        job.error = error[:4000]
        job.finished_at = datetime.now(UTC)
        session.add(job)


def run_locally(n_jobs: int) -> Callable[..., dict[str, Any] | None]:
    """Job work for a process without Kafka: every family in turn, one transaction each."""

    def work(engine: Engine, job_id: uuid.UUID, report: Callable[..., None]) -> dict[str, Any]:
        with Session(engine) as session:
            job = session.get(Job, job_id)
            assert job is not None
            run_id = uuid.UUID(str(job.params["run_id"]))
            families = [str(f) for f in job.params.get("families", [])]
        for i, family in enumerate(families, start=1):
            with transaction(engine) as session:
                run_partition(session, run_id=run_id, family=family, n_jobs=n_jobs)
            report(i / max(len(families), 1), f"family {family} done")
        with Session(engine) as session:
            run = session.get(ForecastRun, run_id)
            assert run is not None
            if run.status == RunStatus.failed:
                raise RuntimeError(run.error or "forecast run failed")
            return {
                "run_id": str(run.id),
                "cycle": run.cycle,
                "series": run.series,
                "families": run.families,
            }

    return work


# ----------------------------------------------------------------------------- reads


def get_run(session: Session, *, run_id: uuid.UUID) -> ForecastRun:
    run = session.get(ForecastRun, run_id)
    if run is None:
        raise NotFound(f"Forecast run {run_id} does not exist.")
    return run


def list_runs(
    session: Session, *, cycle: str | None, status: str | None, limit: int, offset: int
) -> ForecastRunPage:
    query = select(ForecastRun)
    if cycle:
        query = query.where(ForecastRun.cycle == cycle)
    if status:
        query = query.where(ForecastRun.status == status)
    rows, total = ForecastRunRepository(session).list_page(
        query, order_by=col(ForecastRun.created_at).desc(), limit=limit, offset=offset
    )
    return ForecastRunPage(
        items=[ForecastRunRead.model_validate(r) for r in rows],
        total=total,
        limit=limit,
        offset=offset,
    )


VALUE_FIELDS = ("product", "month", "mean", "lo_80", "hi_80", "lo_95", "hi_95")


def read_values(
    session: Session,
    *,
    run_id: uuid.UUID,
    product: str | None,
    family: str | None,
    fmt: LineFormat,
    limit: int,
    offset: int,
) -> ForecastValuePage | Any:
    get_run(session, run_id=run_id)
    query = select(*(getattr(ForecastValue, f) for f in VALUE_FIELDS)).where(
        ForecastValue.run_id == run_id
    )
    if product:
        query = query.where(ForecastValue.product == product)
    if family:
        query = query.where(
            col(ForecastValue.product).in_(select(Product.code).where(Product.family == family))
        )
    query = query.order_by(col(ForecastValue.product), col(ForecastValue.month))
    if fmt != "json":
        return stream_query(
            session, query, columns=VALUE_FIELDS, fmt=fmt, filename=f"forecast-{run_id}"
        )
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(query.limit(limit).offset(offset)).all()
    return ForecastValuePage(
        items=[ForecastValueRead(**dict(zip(VALUE_FIELDS, r, strict=True))) for r in rows],
        total=int(total),
        limit=limit,
        offset=offset,
    )


def list_selections(
    session: Session,
    *,
    run_id: uuid.UUID,
    family: str | None,
    model: str | None,
    demand_class: str | None,
    limit: int,
    offset: int,
) -> SelectionPage:
    get_run(session, run_id=run_id)
    query = select(ForecastSelection).where(ForecastSelection.run_id == run_id)
    if family:
        query = query.where(ForecastSelection.family == family)
    if model:
        query = query.where(ForecastSelection.model == model)
    if demand_class:
        query = query.where(ForecastSelection.demand_class == demand_class)
    rows, total = ForecastRunRepository(session).list_page(
        query, order_by=col(ForecastSelection.product), limit=limit, offset=offset
    )
    return SelectionPage(
        items=[SelectionRead.model_validate(r) for r in rows],
        total=total,
        limit=limit,
        offset=offset,
    )


def list_totals(
    session: Session,
    *,
    run_id: uuid.UUID,
    level: str | None,
    node: str | None,
    limit: int,
    offset: int,
) -> TotalPage:
    get_run(session, run_id=run_id)
    query = select(ForecastTotal).where(ForecastTotal.run_id == run_id)
    if level:
        query = query.where(ForecastTotal.level == level)
    if node:
        query = query.where(ForecastTotal.node == node)
    query = query.order_by(col(ForecastTotal.level), col(ForecastTotal.node))
    rows, total = ForecastRunRepository(session).list_page(
        query, order_by=col(ForecastTotal.month), limit=limit, offset=offset
    )
    return TotalPage(
        items=[TotalRead.model_validate(r) for r in rows], total=total, limit=limit, offset=offset
    )


def months_of(run: ForecastRun) -> list[str]:
    return month_range(add_months(run.history_end, 1), run.horizon)
