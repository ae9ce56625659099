"""``/dead-letters``: what the consumers of this service could not apply, and their replay."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from sop_shared.auth import Role, require_roles
from sop_shared.inbox.runner import count_dead_letters, list_dead_letters, replay_dead_letters
from sop_shared.problems import problem_responses


class DeadLetterRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    consumer: str
    topic: str
    partition: int
    offset: int
    key: str | None
    event_id: str | None
    event_type: str | None
    reason: str = Field(description="validation, domain or error")
    error: str
    created_at: datetime
    replay_attempts: int
    replay_error: str | None
    replayed_at: datetime | None


class DeadLetterPage(BaseModel):
    items: list[DeadLetterRead]
    total: int


class ReplayRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ids: list[Annotated[int, Field(ge=1, le=2**31 - 1)]] | None = Field(
        default=None, max_length=1000, description="Dead letters to replay; all pending if null"
    )
    consumer: str | None = Field(
        default=None, max_length=200, pattern=r"^[A-Za-z0-9._-]+$", examples=["supply.plans"]
    )


class ReplayResult(BaseModel):
    id: int
    consumer: str
    event_id: str | None
    outcome: str = Field(description="applied, duplicate, ignored or failed")
    error: str | None


class ReplayAnswer(BaseModel):
    results: list[ReplayResult]
    pending: int = Field(description="Dead letters still not replayed after this call")


router = APIRouter(
    prefix="/dead-letters",
    tags=["dead-letters"],
    responses=problem_responses(401, 403),
    dependencies=[require_roles(Role.admin)],
)


@router.get(
    "",
    response_model=DeadLetterPage,
    summary="Events this service's consumers dead-lettered, newest first",
)
def get_dead_letters(
    request: Request,
    include_replayed: bool = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> DeadLetterPage:
    rows, total = list_dead_letters(
        request.app.state.read_engine, include_replayed=include_replayed, limit=limit
    )
    return DeadLetterPage(items=[DeadLetterRead.model_validate(r) for r in rows], total=total)


@router.post(
    "/replay",
    response_model=ReplayAnswer,
    responses=problem_responses(422),
    summary="Re-apply dead letters (after the cause was fixed); each one in its own transaction",
)
def replay(request: Request, body: ReplayRequest) -> ReplayAnswer:
    state = request.app.state
    service = state.settings.service_name
    outcomes = replay_dead_letters(
        state.engine, state.consumer_handlers, service=service, ids=body.ids, consumer=body.consumer
    )
    return ReplayAnswer(
        results=[ReplayResult(**asdict(o)) for o in outcomes],
        pending=count_dead_letters(state.engine, service),
    )
