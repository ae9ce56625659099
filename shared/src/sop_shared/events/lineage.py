"""Scenario isolation: an event's envelope, its payload and the plan it was computed from
must all name the same cycle and scenario; a consumer refuses (dead-letters) one that mixes.
"""

from __future__ import annotations

from sop_shared.events.envelope import CloudEvent
from sop_shared.inbox.runner import EventRejected
from sop_shared.problems import FieldError, Unprocessable


def check_lineage(
    event: CloudEvent,
    *,
    cycle: str,
    scenario: str,
    upstream: tuple[str, str] | None = None,
    upstream_name: str = "upstream plan",
) -> None:
    """Raise :class:`EventRejected` naming the mix when (cycle, scenario) of the envelope's
    extensions, of the payload and of the upstream plan (when known) differ."""
    claims = {"payload": (cycle, scenario)}
    if event.sopcycle is not None or event.sopscenario is not None:
        claims["envelope"] = (event.sopcycle or cycle, event.sopscenario or scenario)
    if upstream is not None:
        claims[upstream_name] = upstream
    if len(set(claims.values())) > 1:
        said = "; ".join(f"{name}: cycle {c} scenario {s}" for name, (c, s) in claims.items())
        raise EventRejected(f"lineage mixes scenarios in {event.type} {event.id}: {said}")


def require_run_scenario(
    *, upstream: str, plan_id: object, of: tuple[str, str], run: tuple[str, str]
) -> None:
    """A planner's run for (cycle, scenario) ``run`` refuses an ``upstream`` plan (e.g.
    "demand plan") of another cycle or scenario ``of``: 422 ``scenario-mismatch``."""
    if of == run:
        return
    raise Unprocessable(
        f"{upstream.capitalize()} {plan_id} is of cycle {of[0]} scenario {of[1]!r}; a run for "
        f"{run[0]} {run[1]!r} would mix scenarios. Plan that scenario's own {upstream}.",
        code="scenario-mismatch",
        errors=[
            FieldError(field="body.scenario", message=f"the {upstream} is of scenario {of[1]!r}")
        ],
    )
