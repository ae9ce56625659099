"""Local copies of master data owned by another service, fed by its events."""
