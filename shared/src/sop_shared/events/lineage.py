"""Scenario isolation: an event's envelope, its payload and the plan it was computed from
must all name the same cycle and scenario; a consumer refuses (dead-letters) one that mixes.
"""

from __future__ import annotations

from sop_shared.events.envelope import CloudEvent
from sop_shared.inbox.runner import EventRejected


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
