"""``python -m sop_demand.consumers``: the consumer groups without the API (scaled deployments).

Start several to share a forecast run: each takes its share of the families through the
``demand.forecast`` consumer group.
"""

from sop_shared.serve import run_consumers

run_consumers("sop_demand.settings:get_settings", "sop_demand.consumers.handlers:consumers")
