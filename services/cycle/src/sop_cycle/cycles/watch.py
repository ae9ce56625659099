"""The overdue watcher: a background worker of the cycle process that announces, every
``overdue_check_seconds``, the steps whose due date has passed (``announce_overdue``).
Its own short transaction per round; a failed round is logged and retried next round.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import date

from sqlalchemy.engine import Engine

from sop_cycle.cycles.service import announce_overdue
from sop_shared.db import transaction

log = logging.getLogger("sop.cycle.overdue")


def check_overdue(engine: Engine, *, today: date | None = None) -> list[tuple[str, str]]:
    """One round: announce what became overdue, in one committed transaction."""
    with transaction(engine) as session:
        return announce_overdue(session, today=today or date.today())


def overdue_watcher(engine: Engine, interval: float) -> Callable[[threading.Event], None]:
    def run(stop: threading.Event) -> None:
        while True:
            try:
                announced = check_overdue(engine)
                if announced:
                    log.info("overdue steps announced: %s", announced)
            except Exception:  # a database hiccup must not kill the watcher
                log.exception("overdue check failed; retrying in %s s", interval)
            if stop.wait(interval):
                return

    return run
