"""``python -m sop_demand.consumers``: the consumer groups without the API (scaled deployments).

Start several to share a forecast run: each takes its share of the families through the
``demand.forecast`` consumer group.
"""

from sop_demand.forecasts.pools import use_forkserver
from sop_shared.serve import run_consumers

use_forkserver()
run_consumers("sop_demand.settings:get_settings", "sop_demand.consumers.handlers:consumers")
