"""enrollment.completed from training becomes development history, exactly once."""

import uuid
from datetime import date

from kombu import Connection, Exchange, Producer
from prometheus_client.parser import text_string_to_metric_families

from asn_shared.events import new_event, registry


def completion(nip: str, unit: str, jp: int, year: int, title: str) -> dict:
    return {
        "enrollment_id": uuid.uuid4(),
        "proposal_id": uuid.uuid4(),
        "employee_nip": nip,
        "unit_code": unit,
        "programme_code": "PRG-01",
        "programme_title": title,
        "form": "klasikal",
        "activity": "pelatihan teknis",
        "jp": jp,
        "started_on": date(year, 3, 2),
        "ended_on": date(year, 3, 5),
        "jp_year": year,
        "competency_codes": ["M.05"],
        "cost_rupiah": 2_500_000,
    }


def handled(api, outcome: str) -> float:
    labels = {
        "service": "competency",
        "event": "enrollment.completed",
        "handler": "on_enrollment_completed",
        "outcome": outcome,
    }
    for family in text_string_to_metric_families(api.get("/metrics").text):
        for sample in family.samples:
            if sample.name == "asn_events_handled_total" and sample.labels == labels:
                return sample.value
    return 0.0


def publish(amqp_uri: str, events, times: int = 1) -> None:
    exchange = Exchange("training.events", "topic", durable=True)
    with Connection(amqp_uri) as connection:
        producer = Producer(connection, exchange=exchange)
        for event in events:
            for _ in range(times):
                producer.publish(event.to_json(), routing_key=event.name, **event.amqp_properties())


def test_a_completion_delivered_twice_shows_in_the_profile_once_with_jp_per_year(
    api, org, service, h
):
    person = api.employee(org["kelurahan"], org["lurah"]["code"])
    nip = person["nip"]
    definition = registry.get("enrollment.completed", 1)
    workshop = new_event(
        definition, completion(nip, org["kelurahan"], 24, 2026, "Workshop Transportasi")
    )
    course = new_event(definition, completion(nip, org["kelurahan"], 16, 2026, "E-learning TIK"))
    degree = new_event(definition, completion(nip, org["kelurahan"], 40, 2025, "Tugas Belajar"))
    publish(service.amqp_uri, [workshop, course, degree], times=2)  # at least once: twice

    def development():
        found = api.get(f"/employees/{nip}/profile").json()["development"]
        return found if len(found["activities"]) >= 3 else None

    h.wait_for(development, what="three activities in the profile")
    h.wait_for(lambda: handled(api, "handled") == 6, what="six deliveries handled")
    assert handled(api, "duplicate") == 3
    history = api.get(f"/employees/{nip}/profile").json()["development"]
    assert len(history["activities"]) == 3
    assert history["jp_per_year"] == [{"year": 2025, "jp": 40}, {"year": 2026, "jp": 40}]
    workshop_row = next(a for a in history["activities"] if a["jp"] == 24)
    assert workshop_row == {
        "enrollment_id": str(workshop.data["enrollment_id"]),
        "programme_code": "PRG-01",
        "programme_title": "Workshop Transportasi",
        "form": "klasikal",
        "activity": "pelatihan teknis",
        "jp": 24,
        "started_on": "2026-03-02",
        "ended_on": "2026-03-05",
        "jp_year": 2026,
        "competency_codes": ["M.05"],
    }

    # the same enrollment under a new event id (a producer's retry) still counts once
    replay = new_event(definition, dict(workshop.data))
    publish(service.amqp_uri, [replay])
    h.wait_for(lambda: handled(api, "handled") == 7, what="the replayed completion handled")
    assert handled(api, "duplicate") == 3  # a new event id: only the enrollment id dedupes
    again = api.get(f"/employees/{nip}/profile").json()["development"]
    assert again["jp_per_year"] == history["jp_per_year"]
