"""What KEDA's RabbitMQ trigger reads: the management API asked as KEDA asks it (a regex over
queue names, summed) counts a service's waiting events and nothing else."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote

import requests
from k8s_manifests import SERVICES, named, render
from kombu import Connection

from asn_shared.cli import installed_services
from asn_shared.topology import declare_service_topology, subscriptions_of
from asn_testkit.units import unit_state
from asn_testkit.waiting import wait_for


def queues_matching(broker, vhost: str, trigger: dict) -> dict[str, int]:
    """Queue name -> messages, as KEDA's scaler requests them with useRegex (one page)."""
    answer = requests.get(
        f"{broker.management_url}/api/queues/{quote(vhost, safe='')}",
        params={
            "page": 1,
            "use_regex": "true",
            "pagination": "false",
            "name": trigger["queueName"],
            "page_size": 100,
        },
        auth=(broker.user, broker.password),
        timeout=10,
    )
    answer.raise_for_status()
    page = answer.json()
    assert page["page_count"] <= 1, "KEDA refuses a regex matching more than one page"
    return {queue["name"]: queue.get("messages", 0) for queue in page["items"]}


def test_the_trigger_sums_the_events_waiting_in_a_services_handler_queues(
    broker, vhost, amqp_uri, publish_event
) -> None:
    services = installed_services()
    with Connection(amqp_uri) as connection:
        for service_cls in services.values():
            declare_service_topology(connection, service_cls)
    triggers = {
        name: scaler["spec"]["triggers"][0]["metadata"]
        for name, scaler in named(render("production"), "ScaledObject").items()
    }
    for service in SERVICES:
        handler_queues = {s.queue_name for s in subscriptions_of(services[service])}
        assert set(queues_matching(broker, vhost, triggers[service])) == handler_queues

    # no service runs: three unit.registered events wait in every queue bound to them
    for code in ("U1", "U2", "U3"):
        publish_event("unit.registered", unit_state(code, None, datetime.now(UTC)))
    expected = {
        service: 3
        * sum(s.event_name == "unit.registered" for s in subscriptions_of(services[service]))
        for service in SERVICES
    }
    assert expected["training"] and expected["budget"] and not expected["competency"]

    def summed() -> dict[str, int]:
        return {
            service: sum(queues_matching(broker, vhost, triggers[service]).values())
            for service in SERVICES
        }

    # the management API refreshes its counts every few seconds
    wait_for(lambda: summed() == expected, what=f"the triggers to count {expected}")
