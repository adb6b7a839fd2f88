"""enrollment.completed from training becomes development history, exactly once."""

import uuid
from datetime import date

from asn_shared.events import new_event, registry
from asn_testkit.events import publish, publish_many
from asn_testkit.metrics import events_handled
from asn_testkit.waiting import wait_for

HANDLER = "on_enrollment_completed"


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


def test_a_completion_delivered_twice_shows_in_the_profile_once_with_jp_per_year(api, org, service):
    person = api.employee(org["kelurahan"], org["lurah"]["code"])
    nip = person["nip"]
    definition = registry.get("enrollment.completed", 1)
    workshop = new_event(
        definition, completion(nip, org["kelurahan"], 24, 2026, "Workshop Transportasi")
    )
    course = new_event(definition, completion(nip, org["kelurahan"], 16, 2026, "E-learning TIK"))
    degree = new_event(definition, completion(nip, org["kelurahan"], 40, 2025, "Tugas Belajar"))
    publish_many(service.amqp_uri, [workshop, course, degree], times=2)  # at least once: twice

    def development():
        found = api.get(f"/employees/{nip}/profile").json()["development"]
        return found if len(found["activities"]) >= 3 else None

    wait_for(development, what="three activities in the profile")
    wait_for(lambda: events_handled(service.url, HANDLER) == 6, what="six deliveries handled")
    assert events_handled(service.url, HANDLER, "duplicate") == 3
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
    publish(service.amqp_uri, event=replay)
    wait_for(
        lambda: events_handled(service.url, HANDLER) == 7, what="the replayed completion handled"
    )
    # a new event id: only the enrollment id dedupes
    assert events_handled(service.url, HANDLER, "duplicate") == 3
    again = api.get(f"/employees/{nip}/profile").json()["development"]
    assert again["jp_per_year"] == history["jp_per_year"]
