"""``python -m sop_capacity`` serves the API (with its relay and consumers) under uvicorn."""

from sop_shared.serve import serve

serve("sop_capacity.main:create_app", "sop_capacity.settings:get_settings")
