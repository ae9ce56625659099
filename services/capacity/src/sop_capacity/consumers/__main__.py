"""``python -m sop_capacity.consumers``: the consumer groups without the API (scaled deployments)."""

from sop_shared.serve import run_consumers

run_consumers("sop_capacity.settings:get_settings", "sop_capacity.consumers.handlers:consumers")
