"""Prometheus metrics every service exposes at ``GET /metrics``."""

from prometheus_client import Counter, Gauge, Histogram

EVENTS_HANDLED = Counter(
    "asn_events_handled_total",
    "Events taken off a queue, by outcome: handled, duplicate, skipped, retried, dead_lettered.",
    ["service", "event", "handler", "outcome"],
)
HANDLER_FAILURES = Counter(
    "asn_event_handler_failures_total",
    "Event handler runs that raised.",
    ["service", "event", "handler"],
)
HANDLER_LATENCY = Histogram(
    "asn_event_handler_duration_seconds",
    "Time an event handler took, successful or not.",
    ["service", "event", "handler"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
OUTBOX_BACKLOG = Gauge(
    "asn_outbox_backlog",
    "Outbox rows committed but not yet confirmed by the broker.",
    ["service"],
)
OUTBOX_PUBLISHED = Counter(
    "asn_outbox_published_total",
    "Outbox rows published and confirmed by the broker.",
    ["service"],
)
HTTP_REQUESTS = Counter(
    "asn_http_requests_total",
    "HTTP requests answered, by route and status code.",
    ["service", "method", "route", "status"],
)
