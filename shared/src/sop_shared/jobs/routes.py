from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from sop_shared.auth import READ_ROLES, require_roles
from sop_shared.deps import SessionDep
from sop_shared.jobs.runner import find_job
from sop_shared.problems import problem_responses


class JobRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    kind: str
    state: str
    params: dict[str, Any]
    total_parts: int
    done_parts: int
    progress: float
    message: str | None
    result: dict[str, Any] | None
    error: str | None
    created_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


router = APIRouter(prefix="/jobs", tags=["jobs"], responses=problem_responses(401, 403))


@router.get(
    "/{job_id}",
    response_model=JobRead,
    responses=problem_responses(404),
    dependencies=[require_roles(*READ_ROLES)],
    summary="State, progress and result of a background job",
)
def get_job(job_id: uuid.UUID, session: SessionDep) -> JobRead:
    return JobRead.model_validate(find_job(session, job_id))
