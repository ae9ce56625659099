"""``python -m sop_cycle`` serves the API (with its relay and consumers) under uvicorn."""

from sop_shared.serve import serve

serve("sop_cycle.main:create_app", "sop_cycle.settings:get_settings")
