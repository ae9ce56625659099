"""Imported by the forecast forkserver only (``pools.PRELOAD``): warms it up for its workers.

Importing this module runs the forecasting engine once on tiny series, which compiles
statsforecast's numba functions in the forkserver; every pool worker forked from it then
starts with them compiled. Nothing else should import it.
"""

import logging

from sop_demand.forecasting.engine import warm_up

try:
    warm_up()
except Exception:  # an exception here would kill the forkserver, and every pool with it
    logging.getLogger("sop.demand.forecasts").exception("forkserver warm-up failed")
