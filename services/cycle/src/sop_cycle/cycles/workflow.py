"""The rules of a cycle's seven steps, free of the database: which transition is allowed
from which status, what ``overdue`` means, and which steps consume which upstream plan.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from sop_cycle.settings import STEP_NAMES


class StepStatus(StrEnum):
    not_started = "not_started"
    in_progress = "in_progress"
    ready = "ready"
    completed = "completed"
    stale = "stale"
    #: The plan job that feeds the step failed for good (see the transition's reason); a
    #: plan that arrives later, or a planner starting the step, moves it on.
    blocked = "blocked"
    #: Never stored: shown instead of an open status once the due date has passed.
    overdue = "overdue"


class Action(StrEnum):
    """What caused a transition; every one lands in the audit trail."""

    start = "start"
    complete = "complete"
    reopen = "reopen"
    advance = "advance"  # an upstream plan arrived: the step's input is ready
    stale = "stale"  # an upstream plan changed after the step was completed
    send_back = "send_back"  # executives sent the plan back to this step
    approve = "approve"  # executives approved the plan (completes executive_sop)
    #: an upstream plan changed before a ready step was started: its input is gone until
    #: the new plan arrives (ready → not_started)
    retract = "retract"
    #: the due date passed with the step open (status unchanged; announced once per due date)
    overdue = "overdue"
    block = "block"  # the job computing the step's plan failed for good


S = StepStatus
#: Manual transitions: allowed source statuses and the target status.
TRANSITIONS: dict[Action, tuple[frozenset[StepStatus], StepStatus]] = {
    Action.start: (frozenset({S.not_started, S.ready, S.stale, S.blocked}), S.in_progress),
    Action.complete: (
        frozenset({S.not_started, S.in_progress, S.ready, S.stale, S.blocked}),
        S.completed,
    ),
    Action.reopen: (frozenset({S.completed, S.stale}), S.in_progress),
}
#: Statuses an arriving plan moves forward to ``ready``.
ADVANCEABLE = frozenset({S.not_started, S.in_progress, S.stale, S.blocked})
OPEN = frozenset({S.not_started, S.in_progress, S.ready})

PLAN_KINDS = ("demand", "supply", "production")
#: The step whose plan each kind of planning job computes (``job.failed`` blocks it).
JOB_STEP = {"supply-plan": "supply_review", "production-plan": "production_review"}
#: The step whose input each plan kind is.
PLAN_STEP = {
    "demand": "demand_review",
    "supply": "supply_review",
    "production": "production_review",
}


def step_index(name: str) -> int:
    return STEP_NAMES.index(name)


def effective_status(stored: str, due: date, today: date) -> StepStatus:
    """``overdue`` when an open step is past its due date; otherwise the stored status.

    A stale step stays ``stale`` (the more urgent news); its ``overdue`` flag still says it.
    """
    status = StepStatus(stored)
    if status in OPEN and today > due:
        return StepStatus.overdue
    return status


def is_overdue(stored: str, due: date, today: date) -> bool:
    return StepStatus(stored) != StepStatus.completed and today > due


def consumer_steps(kind: str, status: str) -> tuple[str, ...]:
    """Steps whose work rests on a plan of ``kind``: the plan's own review step and every
    later one. A newer plan makes those completed on an older one stale.

    A constrained supply plan is the answer to the production plan (CONTRACTS.md loop), so
    it only concerns the steps after production review, not supply or production review.
    """
    if kind == "supply" and status == "constrained":
        start = step_index("production_review") + 1
    else:
        start = step_index(PLAN_STEP[kind])
    return STEP_NAMES[start:]
