"""Process pools for statsforecast in a service process: a forkserver, not a plain fork.

statsforecast runs its models in ``multiprocessing`` pools, which fork by default on Linux.
A service process also runs threads (Kafka consumers, the outbox relay, the job poller,
uvicorn); a fork copies the locks those threads hold, and the child can wait on one forever
(seen in the forecast-run benchmark: a partition hung, its pool worker asleep on a futex).
A forkserver is a fresh single-threaded process that forks the workers instead; preloading
the forecasting engine there, and running it once on tiny series (``forecasts.preload``,
~1 s once per service process), keeps each worker's start as cheap as a fork: without it every
worker of every pool compiled statsforecast's numba functions again (seconds each when the
machine is loaded).
"""

from __future__ import annotations

import multiprocessing

PRELOAD = ["sop_demand.forecasts.preload"]


def use_forkserver() -> None:
    """Make the default pool context a forkserver (idempotent; before any pool is made)."""
    if multiprocessing.get_start_method(allow_none=True) != "forkserver":
        multiprocessing.set_start_method("forkserver", force=True)
    multiprocessing.set_forkserver_preload(PRELOAD)
