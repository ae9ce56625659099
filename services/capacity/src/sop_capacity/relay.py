"""``python -m sop_capacity.relay``: the outbox relay as its own process."""

from sop_shared.serve import run_relay

if __name__ == "__main__":
    run_relay("sop_capacity.settings:get_settings")
