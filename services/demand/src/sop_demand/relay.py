"""``python -m sop_demand.relay``: the outbox relay as its own process."""

from sop_shared.serve import run_relay

if __name__ == "__main__":
    run_relay("sop_demand.settings:get_settings")
