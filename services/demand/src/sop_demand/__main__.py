"""``python -m sop_demand`` serves the API (with its relay and consumers) under uvicorn."""

from sop_shared.serve import serve

serve("sop_demand.main:create_app", "sop_demand.settings:get_settings")
