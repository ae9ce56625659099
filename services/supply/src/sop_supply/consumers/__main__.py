"""``python -m sop_supply.consumers``: the consumer groups without the API (scaled deployments)."""

from sop_shared.serve import run_consumers

run_consumers("sop_supply.settings:get_settings", "sop_supply.consumers.handlers:consumers")
