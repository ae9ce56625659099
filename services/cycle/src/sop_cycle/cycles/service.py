"""Cycle use cases: open a cycle with its seven steps, move steps through their gates,
react to upstream plans (ready / stale), and keep every change in the audit trail.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlmodel import Session, col, select

from sop_cycle.cycles import events
from sop_cycle.cycles.calendar import due_dates
from sop_cycle.cycles.models import Approval, Cycle, CycleStep, StepTransition
from sop_cycle.cycles.repository import CycleRepository, StepRepository, TransitionRepository
from sop_cycle.cycles.schemas import (
    ApprovalRead,
    CycleCreate,
    CycleDetail,
    CyclePage,
    CycleRead,
    GateCheck,
    PeerDataStatus,
    PlanRefRead,
    StepRead,
    StepUpdate,
    TransitionPage,
    TransitionRead,
)
from sop_cycle.cycles.workflow import (
    ADVANCEABLE,
    JOB_STEP,
    PLAN_STEP,
    TRANSITIONS,
    Action,
    StepStatus,
    consumer_steps,
    effective_status,
    is_overdue,
)
from sop_cycle.plans.schemas import CurrentPlans, PlanRef
from sop_cycle.plans.service import current_plans
from sop_cycle.scenarios.models import Scenario
from sop_cycle.settings import STEP_NAMES, CycleSettings
from sop_shared.auth import Caller, Role
from sop_shared.events.catalog import JobFailedData
from sop_shared.problems import Conflict, Forbidden, NotFound, PreconditionFailed

APPROVED = "approved"
#: The actor of what the calendar causes (overdue notices).
CLOCK = "system:clock"


def _now() -> datetime:
    return datetime.now(UTC)


# --- reading -------------------------------------------------------------------------


def get_cycle(session: Session, *, month: str, for_update: bool = False) -> Cycle:
    repo = CycleRepository(session)
    cycle = repo.get_for_update(month=month) if for_update else repo.get_by(month=month)
    if cycle is None:
        raise NotFound(f"Cycle {month} does not exist.", code="cycle-not-found")
    return cycle


def load_steps(session: Session, cycle: Cycle) -> list[CycleStep]:
    assert cycle.id is not None
    return StepRepository(session).for_cycle(cycle.id)


def find_step(steps: Sequence[CycleStep], name: str) -> CycleStep:
    for step in steps:
        if step.name == name:
            return step
    raise NotFound(f"Step {name!r} does not exist.", code="step-not-found")


def step_read(step: CycleStep, today: date) -> StepRead:
    return StepRead(
        name=step.name,
        seq=step.seq,
        status=effective_status(step.status, step.due_date, today),
        workflow_status=step.status,
        overdue=is_overdue(step.status, step.due_date, today),
        owner_role=step.owner_role,
        owner_user=step.owner_user,
        due_date=step.due_date,
        basis=step.basis,
        version=step.version,
        started_at=step.started_at,
        completed_at=step.completed_at,
        updated_at=step.updated_at,
    )


def plan_read(ref: PlanRef | None) -> PlanRefRead | None:
    """A recorded plan as the API shows it (cycle detail, pre-S&OP, scenario views)."""
    if ref is None:
        return None
    return PlanRefRead(
        kind=ref.kind,
        plan_id=ref.plan_id,
        version=ref.version,
        status=ref.status,
        upstream_plan_id=ref.upstream_plan_id,
        totals=ref.totals,
    )


def approval_of(session: Session, cycle: Cycle) -> Approval | None:
    return session.exec(select(Approval).where(Approval.cycle_id == cycle.id)).first()


def cycle_detail(session: Session, *, month: str, today: date) -> CycleDetail:
    cycle = get_cycle(session, month=month)
    approval = approval_of(session, cycle)
    plans = current_plans(session, cycle=month, scenario=approval.scenario if approval else "base")
    return CycleDetail(
        month=cycle.month,
        status=cycle.status,
        created_by=cycle.created_by,
        version=cycle.version,
        steps=[step_read(s, today) for s in load_steps(session, cycle)],
        current_plans={k: plan_read(plans.get(k)) for k in ("demand", "supply", "production")},
        approval=ApprovalRead.model_validate(approval) if approval else None,
    )


def list_cycles(session: Session, *, limit: int, offset: int) -> CyclePage:
    rows, total = CycleRepository(session).list_page(
        select(Cycle), order_by=col(Cycle.month).desc(), limit=limit, offset=offset
    )
    return CyclePage(
        items=[CycleRead.model_validate(r) for r in rows], total=total, limit=limit, offset=offset
    )


def list_steps(session: Session, *, month: str, today: date) -> list[StepRead]:
    return [step_read(s, today) for s in load_steps(session, get_cycle(session, month=month))]


def get_step(session: Session, *, month: str, step: str, today: date) -> StepRead:
    steps = load_steps(session, get_cycle(session, month=month))
    return step_read(find_step(steps, step), today)


def audit_trail(
    session: Session, *, month: str, step: str | None, limit: int, offset: int
) -> TransitionPage:
    cycle = get_cycle(session, month=month)
    assert cycle.id is not None
    rows, total = TransitionRepository(session).page(
        cycle_id=cycle.id, step=step, limit=limit, offset=offset
    )
    return TransitionPage(
        items=[TransitionRead.model_validate(r) for r in rows],
        total=total,
        limit=limit,
        offset=offset,
    )


# --- opening and editing ---------------------------------------------------------------


def add_base(session: Session, *, cycle_id: int, actor: str) -> None:
    """Every cycle has its base scenario (no event: the services plan it anyway)."""
    session.add(Scenario(cycle_id=cycle_id, code="base", name="Base plan", created_by=actor))


def open_cycle(
    session: Session, *, data: CycleCreate, actor: Caller, settings: CycleSettings
) -> Cycle:
    """A new cycle with its seven steps, due on the configured working days of the month.

    Plans recorded before the cycle was opened (events run ahead) make their steps ready.
    """
    repo = CycleRepository(session)
    if repo.get_by(month=data.month) is not None:
        raise Conflict(f"Cycle {data.month} already exists.", code="cycle-exists")
    cycle = repo.add(Cycle(month=data.month, created_by=actor.subject))
    session.flush()
    assert cycle.id is not None
    due = due_dates(data.month, settings.step_working_days, settings.holidays)
    for seq, name in enumerate(STEP_NAMES, start=1):
        session.add(
            CycleStep(
                cycle_id=cycle.id,
                name=name,
                seq=seq,
                owner_role=settings.step_owner_roles[name],
                due_date=due[name],
            )
        )
    add_base(session, cycle_id=cycle.id, actor=actor.subject)
    session.flush()
    plans = current_plans(session, cycle=data.month)
    for kind in ("demand", "supply", "production"):
        ref = plans.get(kind)
        if ref is not None:
            plans_changed(
                session,
                arrived=ref,
                actor=f"service:{ref.kind}",
                reason=f"{ref.kind} plan {ref.plan_id} v{ref.version} recorded before the cycle opened",
            )
    return cycle


def update_step(
    session: Session,
    *,
    month: str,
    step: str,
    data: StepUpdate,
    if_match: int | None,
    actor: Caller,
    today: date,
) -> StepRead:
    """Owner and due date; guarded by the step's ETag."""
    cycle = get_cycle(session, month=month, for_update=True)
    target = find_step(load_steps(session, cycle), step)
    _check_version(target, if_match)
    changes = data.model_dump(exclude_unset=True)
    for key, value in changes.items():
        if key == "owner_role" and value is None:
            continue
        setattr(target, key, str(value) if key == "owner_role" else value)
    target.version += 1
    target.updated_at = _now()
    session.add(target)
    session.flush()
    return step_read(target, today)


def _check_version(step: CycleStep, if_match: int | None) -> None:
    if if_match is not None and if_match != step.version:
        raise PreconditionFailed(
            f"Step {step.name} is at version {step.version}, not {if_match}.",
            current_version=step.version,
        )


# --- transitions -------------------------------------------------------------------------


def move_step(
    session: Session,
    cycle: Cycle,
    step: CycleStep,
    to: StepStatus,
    *,
    action: Action,
    actor: str,
    reason: str | None,
    event_id: str | None = None,
    basis: dict[str, Any] | None = None,
) -> None:
    """Change a step's status, write the audit row and queue ``step.changed``."""
    now = _now()
    session.add(
        StepTransition(
            cycle_id=cycle.id,  # type: ignore[arg-type]
            step=step.name,
            action=str(action),
            from_status=step.status,
            to_status=str(to),
            actor=actor,
            reason=reason,
            event_id=event_id,
            at=now,
        )
    )
    step.status = str(to)
    step.version += 1
    step.updated_at = now
    if to == StepStatus.in_progress and step.started_at is None:
        step.started_at = now
    step.completed_at = now if to == StepStatus.completed else None
    if basis is not None:
        step.basis = dict(basis)
    session.add(step)
    events.step_changed(session, month=cycle.month, step=step, actor=actor, reason=reason)
    events.step_notice(
        session, month=cycle.month, step=step, action=action, actor=actor, reason=reason, at=now
    )


def mark_stale_from(
    session: Session,
    cycle: Cycle,
    steps: Sequence[CycleStep],
    first: str,
    *,
    actor: str,
    reason: str,
    event_id: str | None = None,
) -> list[str]:
    """Mark ``first`` and every later *completed* step stale; returns the steps that changed.

    Stale means "completed on inputs that have changed": a step that was never completed
    (not started, ready, in progress) has nothing to be stale about.
    """
    changed = []
    start = STEP_NAMES.index(first)
    for step in steps:
        if STEP_NAMES.index(step.name) >= start and step.status == StepStatus.completed:
            move_step(
                session,
                cycle,
                step,
                StepStatus.stale,
                action=Action.stale,
                actor=actor,
                reason=reason,
                event_id=event_id,
            )
            changed.append(step.name)
    return changed


def _may_act(caller: Caller, step: CycleStep) -> bool:
    allowed = {Role.sop_coordinator, Role.admin}
    with contextlib.suppress(ValueError):
        allowed.add(Role(step.owner_role))
    return bool(caller.roles & allowed)


def gate_checks(
    step: CycleStep,
    steps: Sequence[CycleStep],
    plans: CurrentPlans,
    data_status: list[PeerDataStatus] | None,
) -> list[GateCheck]:
    """What must hold before ``step`` can be completed (each check named, with detail)."""
    open_before = [s.name for s in steps if s.seq < step.seq and s.status != StepStatus.completed]
    checks = [
        GateCheck(
            name="previous_steps_completed",
            ok=not open_before,
            detail=f"not completed: {', '.join(open_before)}" if open_before else None,
        )
    ]
    demand, supply, production = plans.demand, plans.supply, plans.production
    if step.name == "data_gathering":
        if not data_status:
            checks.append(
                GateCheck(name="data_status", ok=False, detail="no data status was fetched")
            )
        for status in data_status or []:
            detail = status.detail or (
                f"last month loaded {status.last_month_loaded}, needed {status.month}"
            )
            checks.append(
                GateCheck(
                    name=f"data_status.{status.service}",
                    ok=status.ready,
                    detail=None if status.ready else detail,
                )
            )
    elif step.name == "demand_review":
        checks.append(
            GateCheck(
                name="demand_plan_submitted",
                ok=demand is not None,
                detail=None if demand else "no submitted demand plan for the base scenario",
            )
        )
    elif step.name == "supply_review":
        checks.append(
            GateCheck(
                name="supply_plan_for_demand_plan",
                ok=supply is not None,
                detail=None
                if supply
                else (
                    f"no supply plan computed from demand plan {demand.plan_id} v{demand.version}"
                    if demand
                    else "no submitted demand plan yet"
                ),
            )
        )
    elif step.name == "production_review":
        checks.append(
            GateCheck(
                name="production_plan_for_supply_plan",
                ok=production is not None,
                detail=None
                if production
                else (
                    f"no production plan computed from supply plan {supply.plan_id}"
                    if supply
                    else "no supply plan yet"
                ),
            )
        )
    elif step.name == "pre_sop":
        checks.append(
            GateCheck(
                name="supply_plan_constrained",
                ok=plans.settled,
                detail=None
                if plans.settled
                else "supply has not yet answered the production plan with a constrained plan",
            )
        )
    return checks


def transition(
    session: Session,
    *,
    month: str,
    step: str,
    action: Action,
    actor: Caller,
    reason: str | None,
    if_match: int | None,
    today: date,
    data_status: list[PeerDataStatus] | None = None,
) -> StepRead:
    """Start, complete (through the step's gates) or reopen a step.

    ``data_status`` (the peers' answers for step 1) is fetched by the caller before this
    transaction begins: no REST call ever runs inside it.
    """
    cycle = get_cycle(session, month=month, for_update=True)
    if cycle.status == APPROVED:
        raise Conflict(f"Cycle {month} is approved; its steps are frozen.", code="cycle-approved")
    steps = load_steps(session, cycle)
    target = find_step(steps, step)
    if not _may_act(actor, target):
        raise Forbidden(
            f"Step {step} is owned by {target.owner_role}; only its owner or the "
            "S&OP coordinator may move it.",
            required_roles=sorted({target.owner_role, Role.sop_coordinator, Role.admin}),
        )
    _check_version(target, if_match)
    sources, to = TRANSITIONS[action]
    if StepStatus(target.status) not in sources:
        raise Conflict(
            f"Cannot {action} step {step} from {target.status}.",
            code="invalid-transition",
            status_now=target.status,
            allowed_from=sorted(str(s) for s in sources),
        )
    who = actor.subject
    if action == Action.complete:
        plans = current_plans(session, cycle=month)
        checks = gate_checks(target, steps, plans, data_status)
        failed = [c for c in checks if not c.ok]
        if failed:
            raise Conflict(
                f"Step {step} cannot be completed: "
                + "; ".join(f"{c.name}: {c.detail}" for c in failed),
                code="gate-not-met",
                gates=[c.model_dump() for c in checks],
            )
        move_step(
            session,
            cycle,
            target,
            to,
            action=action,
            actor=who,
            reason=reason,
            basis=plans.basis(),
        )
    elif action == Action.reopen:
        move_step(session, cycle, target, to, action=action, actor=who, reason=reason)
        later_completed = [
            s for s in steps if s.seq > target.seq and s.status == StepStatus.completed
        ]
        if later_completed:
            mark_stale_from(
                session,
                cycle,
                steps,
                later_completed[0].name,
                actor=who,
                reason=f"{step} reopened: {reason}",
            )
    else:
        move_step(session, cycle, target, to, action=action, actor=who, reason=reason)
    session.flush()
    return step_read(target, today)


def plans_changed(
    session: Session,
    *,
    arrived: PlanRef,
    actor: str,
    reason: str,
    event_id: str | None = None,
) -> None:
    """An upstream plan arrived for the base scenario: the steps that rested on an older
    plan of that kind (its own review step and the later ones) reopen, and its step moves
    forward.

    * A step completed on an older plan goes ``stale`` (its owner is notified), and so does
      every later completed step. The plan's own step then becomes ``ready`` on the new
      plan (its input is here), so e.g. a completed demand review is reviewed again.
    * A later step that was merely ``ready`` on the older plan goes back to ``not_started``
      until its own new input arrives (``retract``); steps in progress keep their status.

    Approved cycles are frozen: their plans are still recorded, their steps do not move.
    """
    if arrived.scenario != "base":
        return
    cycle = CycleRepository(session).get_for_update(month=arrived.cycle)
    if cycle is None or cycle.status == APPROVED:
        return
    plans = current_plans(session, cycle=arrived.cycle)
    current = plans.get(arrived.kind)
    if current is None or current.identity() != arrived.identity():
        return  # a plan of an older chain (e.g. supply computed from a superseded demand plan)
    steps = load_steps(session, cycle)
    identity = arrived.identity()
    consumers = consumer_steps(arrived.kind, arrived.status)
    outdated = [s for s in steps if s.name in consumers and s.basis.get(arrived.kind) != identity]
    first_completed = next((s for s in outdated if s.status == StepStatus.completed), None)
    if first_completed is not None:
        mark_stale_from(
            session,
            cycle,
            steps,
            first_completed.name,
            actor=actor,
            reason=reason,
            event_id=event_id,
        )
    basis = plans.basis()
    own = find_step(steps, PLAN_STEP[arrived.kind])
    advancing = [own, *([find_step(steps, "pre_sop")] if plans.settled else [])]
    for step in outdated:
        if step.status == StepStatus.ready and step not in advancing:
            move_step(
                session,
                cycle,
                step,
                StepStatus.not_started,
                action=Action.retract,
                actor=actor,
                reason=reason,
                event_id=event_id,
            )
    for step in advancing:
        _advance(session, cycle, step, basis, actor=actor, reason=reason, event_id=event_id)
    session.flush()


def announce_overdue(session: Session, *, today: date) -> list[tuple[str, str]]:
    """Announce every open step of an open cycle whose due date passed before ``today``,
    once per due date: an ``overdue`` audit row (status unchanged, reason "due <date>, not
    completed") and a ``step.overdue`` notice. The audit trail is the record of what was
    announced, so moving the due date and missing it again announces again. Returns the
    (cycle, step) pairs announced."""
    announced = []
    late = StepRepository(session).past_due(today=today, exclude_status=APPROVED)
    done = TransitionRepository(session).reasons(
        cycle_ids={c.id for c, _ in late if c.id is not None}, action=str(Action.overdue)
    )
    for cycle, step in late:
        assert cycle.id is not None
        reason = f"due {step.due_date.isoformat()}, not completed"
        if (cycle.id, step.name, reason) in done:
            continue
        now = _now()
        session.add(
            StepTransition(
                cycle_id=cycle.id,
                step=step.name,
                action=str(Action.overdue),
                from_status=step.status,
                to_status=step.status,
                actor=CLOCK,
                reason=reason,
                at=now,
            )
        )
        events.step_notice(
            session,
            month=cycle.month,
            step=step,
            action=Action.overdue,
            actor=CLOCK,
            reason=reason,
            at=now,
        )
        announced.append((cycle.month, step.name))
    session.flush()
    return announced


def job_failed(session: Session, *, data: JobFailedData, actor: str, event_id: str) -> None:
    """A planning job of the base chain failed for good: the step its plan feeds shows
    ``blocked``, with the job's error as the reason, instead of waiting silently."""
    step_name = JOB_STEP.get(data.kind)
    if step_name is None or not data.cycle or (data.scenario or "base") != "base":
        return
    cycle = CycleRepository(session).get_for_update(month=data.cycle)
    if cycle is None or cycle.status == APPROVED:
        return
    step = find_step(load_steps(session, cycle), step_name)
    if step.status == StepStatus.blocked:
        return
    move_step(
        session,
        cycle,
        step,
        StepStatus.blocked,
        action=Action.block,
        actor=actor,
        reason=f"{data.kind} job {data.job_id} failed after {data.attempts} attempt(s): "
        f"{data.error}"[:2000],
        event_id=event_id,
    )
    session.flush()


def _advance(
    session: Session,
    cycle: Cycle,
    step: CycleStep,
    basis: dict[str, Any],
    *,
    actor: str,
    reason: str,
    event_id: str | None,
) -> None:
    if StepStatus(step.status) in ADVANCEABLE:
        move_step(
            session,
            cycle,
            step,
            StepStatus.ready,
            action=Action.advance,
            actor=actor,
            reason=reason,
            event_id=event_id,
            basis=basis,
        )
    elif step.status == StepStatus.ready and step.basis != basis:
        step.basis = dict(basis)  # still ready, now on the newer plans
        session.add(step)
