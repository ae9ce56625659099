"""Consumer groups of the supply service."""
