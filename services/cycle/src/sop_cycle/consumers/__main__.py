"""``python -m sop_cycle.consumers``: the cycle's consumer groups without the API."""

from sop_shared.serve import run_consumers

if __name__ == "__main__":
    run_consumers("sop_cycle.settings:get_settings", "sop_cycle.consumers.handlers:consumers")
