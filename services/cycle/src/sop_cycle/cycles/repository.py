from __future__ import annotations

from sop_cycle.cycles.models import Cycle
from sop_shared.repository import Repository


class CycleRepository(Repository[Cycle]):
    model = Cycle
