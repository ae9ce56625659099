"""Prometheus metrics, defined once per process and labelled by service."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

HTTP_REQUESTS = Counter(
    "sop_http_requests_total", "HTTP requests served", ["service", "method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "sop_http_request_duration_seconds",
    "HTTP request latency",
    ["service", "method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
OUTBOX_PUBLISHED = Counter("sop_outbox_published_total", "Outbox rows sent to Kafka", ["service"])
OUTBOX_FAILURES = Counter("sop_outbox_failures_total", "Failed relay attempts", ["service"])
OUTBOX_PENDING = Gauge("sop_outbox_pending", "Outbox rows not yet published", ["service"])
OUTBOX_OLDEST_AGE = Gauge(
    "sop_outbox_oldest_unpublished_seconds", "Age of the oldest unpublished outbox row", ["service"]
)
EVENTS_CONSUMED = Counter(
    "sop_events_consumed_total", "Events handled by consumers", ["consumer", "outcome"]
)
JOBS = Counter("sop_jobs_total", "Background jobs by final state", ["service", "kind", "state"])
DEAD_LETTERS = Gauge("sop_dead_letters", "Dead-lettered events not yet replayed", ["service"])
CONSUMER_PAUSED = Gauge(
    "sop_consumer_paused",
    "1 while a consumer waits out an outage (partitions paused, nothing committed)",
    ["consumer"],
)
