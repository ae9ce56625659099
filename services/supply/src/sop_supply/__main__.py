"""``python -m sop_supply`` serves the API (with its relay and consumers) under uvicorn."""

from sop_shared.serve import serve

serve("sop_supply.main:create_app", "sop_supply.settings:get_settings")
