"""Consumer groups of the capacity service."""
