"""Reading what a running service counts, from its Prometheus ``GET /metrics``."""

from __future__ import annotations

import requests
from prometheus_client.parser import text_string_to_metric_families


def scrape(url: str) -> str:
    """The text exposition of the service at ``url`` (which must answer 200)."""
    response = requests.get(f"{url}/metrics", timeout=10)
    response.raise_for_status()
    return response.text


def metric(exposition: str, name: str, **labels: str) -> float | None:
    """The value of the sample ``name`` whose labels are exactly ``labels``, or None."""
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return sample.value
    return None


def metric_sum(exposition: str, name: str, **labels: str) -> float:
    """The sum of the samples ``name`` whose labels include ``labels`` (0 if there is none)."""
    return sum(
        sample.value
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
        if sample.name == name and labels.items() <= sample.labels.items()
    )


def events_handled(url: str, handler: str, outcome: str = "handled") -> float:
    """Events the service at ``url`` took off its queues for ``handler`` with ``outcome``
    (``handled`` counts duplicates too; ``duplicate``, ``retried``, ``dead_lettered``...)."""
    return metric_sum(scrape(url), "asn_events_handled_total", handler=handler, outcome=outcome)
