"""Imported by the forecast forkserver only (``pools.PRELOAD``): warms it up for its workers.

Importing this module runs the forecasting engine once on tiny series, which compiles
statsforecast's numba functions in the forkserver; every pool worker forked from it then
starts with them compiled. Nothing else should import it.
"""

import logging
import warnings

from sop_demand.forecasting.engine import warm_up

# statsmodels' autocorrelation divides by zero on a flat series (AutoTheta's seasonality
# test); the fit still works, and one warning per series flooded the service log.
warnings.filterwarnings("ignore", category=RuntimeWarning, module=r"statsmodels\.")

try:
    warm_up()
except Exception:  # an exception here would kill the forkserver, and every pool with it
    logging.getLogger("sop.demand.forecasts").exception("forkserver warm-up failed")
