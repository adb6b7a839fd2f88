"""The HTTP API of a running service: documents, validation, subscriptions, rules, templates."""

import uuid

from asn_testkit import openapi
from asn_testkit.auth import admin_http
from asn_testkit.waiting import wait_for


def test_the_http_api_documents_itself_and_names_every_bad_field(start_notification):
    url = start_notification().url

    document = openapi.document(url)
    assert {
        "/subscriptions",
        "/subscriptions/{subscription_id}",
        "/recipients/{recipient}/inbox",
        "/recipients/{recipient}/inbox/{message_id}",
        "/deliveries",
        "/deliveries/{delivery_id}",
        "/deliveries/{delivery_id}/resend",
        "/officials",
        "/rules",
        "/templates/{key}/{language}",
        "/employees/{nip}",
    } <= set(document["paths"])
    listing = document["paths"]["/deliveries"]["get"]
    assert listing["parameters"] and "200" in listing["responses"]

    # subscriptions: the secret is shown once, at creation
    bad = admin_http.post(
        f"{url}/subscriptions",
        json={"name": "x", "url": "not a url", "patterns": ["budget.**"]},
        timeout=5,
    )
    assert bad.status_code == 400 and set(bad.json()["errors"]) == {"url", "patterns"}
    created = admin_http.post(
        f"{url}/subscriptions",
        json={
            "name": "Inspektorat",
            "url": "http://127.0.0.1:9/inspektorat",
            "patterns": ["budget.*"],
        },
        timeout=5,
    )
    assert created.status_code == 201 and len(created.json()["secret"]) >= 32
    subscription = created.json()["id"]
    listed = admin_http.get(f"{url}/subscriptions", timeout=5).json()
    assert listed["total"] == 1 and "secret" not in listed["items"][0]
    one = admin_http.get(f"{url}/subscriptions/{subscription}", timeout=5).json()
    assert one["patterns"] == ["budget.*"] and "secret" not in one
    assert admin_http.delete(f"{url}/subscriptions/{subscription}", timeout=5).status_code == 204
    assert admin_http.get(f"{url}/subscriptions?active=true", timeout=5).json()["total"] == 0
    gone = admin_http.delete(f"{url}/subscriptions/{uuid.uuid4()}", timeout=5)
    assert gone.status_code == 404 and gone.headers["Content-Type"] == "application/problem+json"

    # officials
    no_unit = admin_http.post(
        f"{url}/officials",
        json={"role": "unit_operator", "name": "Rina", "email": "rina@plaju.test"},
        timeout=5,
    )
    assert no_unit.status_code == 400 and set(no_unit.json()["errors"]) == {"unit_code"}
    wrong = admin_http.post(
        f"{url}/officials", json={"role": "camat", "name": "", "email": "x"}, timeout=5
    )
    assert set(wrong.json()["errors"]) == {"role", "name", "email"}
    rina = admin_http.post(
        f"{url}/officials",
        json={
            "role": "unit_operator",
            "name": "Rina",
            "email": "rina@plaju.test",
            "unit_code": "U",
        },
        timeout=5,
    ).json()
    renamed = admin_http.patch(
        f"{url}/officials/{rina['id']}",
        json={"name": "Rina Marlina", "email": "rina.m@plaju.test", "language": "en"},
        timeout=5,
    )
    assert renamed.status_code == 200, renamed.text
    assert (renamed.json()["name"], renamed.json()["email"], renamed.json()["unit_code"]) == (
        "Rina Marlina",
        "rina.m@plaju.test",
        "U",
    )
    listed = admin_http.get(f"{url}/officials", timeout=5).json()["items"]
    assert [o["name"] for o in listed if o["id"] == rina["id"]] == ["Rina Marlina"]
    unitless = admin_http.patch(
        f"{url}/officials/{rina['id']}", json={"unit_code": None}, timeout=5
    )
    assert unitless.status_code == 400 and set(unitless.json()["errors"]) == {"unit_code"}
    bad = admin_http.patch(f"{url}/officials/{rina['id']}", json={"email": "x"}, timeout=5)
    assert bad.status_code == 400 and set(bad.json()["errors"]) == {"email"}
    assert admin_http.delete(f"{url}/officials/{rina['id']}", timeout=5).status_code == 204
    gone = admin_http.patch(f"{url}/officials/{rina['id']}", json={"name": "X"}, timeout=5)
    assert gone.status_code == 404

    # rules: the defaults are seeded, and are data that can change
    rules = admin_http.get(f"{url}/rules", timeout=5).json()
    who = {(rule["event_type"], rule["audience"]) for rule in rules}
    assert {
        ("assessment.recorded", "employee"),
        ("proposal.created", "supervisor"),
        ("proposal.waitlisted", "employee"),
        ("enrollment.completed", "employee"),
        ("budget.rejected", "unit_operator"),
        ("budget.threshold_reached", "bkpsdm_admin"),
    } <= who
    rule = next(r for r in rules if r["event_type"] == "enrollment.completed")
    changed = admin_http.patch(
        f"{url}/rules/{rule['id']}", json={"channels": ["inbox"], "active": False}, timeout=5
    )
    assert changed.json()["channels"] == ["inbox"] and changed.json()["active"] is False
    retemplated = admin_http.patch(
        f"{url}/rules/{rule['id']}", json={"template": "assessment_result"}, timeout=5
    )
    assert retemplated.json()["template"] == "assessment_result"
    no_template = admin_http.patch(f"{url}/rules/{rule['id']}", json={"template": "x"}, timeout=5)
    assert no_template.status_code == 400 and set(no_template.json()["errors"]) == {"template"}
    for_employee = {"audience": "employee", "channels": ["email"]}
    unknown_event = admin_http.post(
        f"{url}/rules",
        json={**for_employee, "event_type": "payroll.paid", "template": "x"},
        timeout=5,
    )
    assert unknown_event.status_code == 400 and "event_type" in unknown_event.json()["errors"]
    twice = admin_http.post(
        f"{url}/rules",
        json={**for_employee, "event_type": "assessment.recorded", "template": "assessment_result"},
        timeout=5,
    )
    assert twice.status_code == 409

    # templates: Jinja2 that does not compile is refused, naming the field
    broken = admin_http.put(
        f"{url}/templates/budget_threshold/id",
        json={"subject": "ok", "body": "{% if x %}never closed"},
        timeout=5,
    )
    assert broken.status_code == 400 and set(broken.json()["errors"]) == {"body"}
    replaced = admin_http.put(
        f"{url}/templates/budget_threshold/id",
        json={
            "subject": "Anggaran {{ unit_name }}",
            "body": "{{ data.available_rupiah | rupiah }}",
        },
        timeout=5,
    )
    assert replaced.status_code == 200 and replaced.json()["subject"] == "Anggaran {{ unit_name }}"
    french = {"subject": "x", "body": "y"}
    assert admin_http.put(f"{url}/templates/x/fr", json=french, timeout=5).status_code == 404
    templates = admin_http.get(f"{url}/templates", timeout=5).json()
    assert {(t["key"], t["language"]) for t in templates} >= {
        ("assessment_result", "id"),
        ("assessment_result", "en"),
    }

    # the delivery log and the inbox
    assert admin_http.get(f"{url}/deliveries?status=lost", timeout=5).status_code == 400
    assert admin_http.get(f"{url}/deliveries?per_page=20", timeout=5).json()["total"] == 0
    assert admin_http.get(f"{url}/deliveries/{uuid.uuid4()}", timeout=5).status_code == 404
    assert admin_http.post(f"{url}/deliveries/{uuid.uuid4()}/resend", timeout=5).status_code == 404
    missing = admin_http.patch(
        f"{url}/recipients/198609262015052001/inbox/{uuid.uuid4()}", json={"read": True}
    )
    assert missing.status_code == 404
    assert admin_http.get(f"{url}/employees/198609262015052001", timeout=5).status_code == 404


def test_events_about_not_yet_known_employees_are_delivered_once_they_are_known(
    start_notification, publish_event, smtp_server, samples
):
    start_notification()
    publish_event("proposal.created", samples.proposal())  # before anyone was registered
    publish_event("employee.registered", samples.employee())
    publish_event("employee.registered", samples.supervisor())

    messages = wait_for(lambda: len(smtp_server.messages()) == 2 and smtp_server.messages())
    subjects = {envelope["rcpt_tos"][0]: message["Subject"] for envelope, message in messages}
    assert subjects == {
        "siti@plaju.test": "Usulan pengembangan kompetensi tahun 2026 untuk Anda",
        "budi@plaju.test": "Usulan pengembangan kompetensi untuk Siti Rahmawati",
    }
