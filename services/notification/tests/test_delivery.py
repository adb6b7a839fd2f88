"""End to end: the service as a real process, with real PostgreSQL and RabbitMQ, a real SMTP
server and real webhook receivers."""

import json

from sqlalchemy import func, select

from asn_shared.persistence import make_engine
from asn_testkit.auth import admin_http
from asn_testkit.metrics import metric, scrape
from asn_testkit.waiting import wait_for
from notification.models import Delivery


def official(service, role: str, name: str, email: str, **fields: str) -> dict:
    body = {"role": role, "name": name, "email": email, **fields}
    response = admin_http.post(f"{service.url}/officials", json=body, timeout=5)
    assert response.status_code == 201, response.text
    return response.json()


def deliveries(service, **filters) -> list[dict]:
    response = admin_http.get(f"{service.url}/deliveries", params=filters, timeout=5)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def test_assessment_reaches_the_employee_by_email_in_bahasa_indonesia(
    start_notification, publish_event, smtp_server, samples, tap
):
    service = start_notification()
    events = tap("notification")
    publish_event("employee.registered", samples.employee(email="old-address@plaju.test"))
    # the assessment carries a newer version of her record: its address is the one used
    assessment = publish_event(
        "assessment.recorded", samples.assessment(samples.employee(version=2))
    )

    [(envelope, message)] = wait_for(smtp_server.messages, what="the e-mail")
    assert envelope["rcpt_tos"] == ["siti@plaju.test"]
    assert message["To"] == "Siti Rahmawati <siti@plaju.test>"
    assert message["From"] == "Kompas ASN <noreply@kompas-asn.test>"
    assert message["Subject"] == (
        "Hasil penilaian kompetensi Anda: JPM 72,5% (Masih Memenuhi Syarat)"
    )
    # a copy sent again after a crash carries the same ids, for the mail system to drop
    assert message["Message-ID"] == f"<{message['X-Kompas-Delivery']}@kompas-asn>"
    body = message.get_content()
    assert body.startswith("Yth. Siti Rahmawati,")
    assert "tanggal 26 November 2026 untuk jabatan Lurah Plaju Ulu" in body
    assert "Job Person Match (JPM): 72,5%, kategori Masih Memenuhi Syarat." in body
    assert "- M.01 Integritas: standar 2, capaian 2, gap 0" in body
    assert "- M.03 Komunikasi: standar 2, capaian 1,5, gap -0,5" in body
    assert "Kompetensi yang perlu dikembangkan: Komunikasi." in body

    # the same message waits in her inbox, unread, and can be marked read
    inbox = admin_http.get(f"{service.url}/recipients/{samples.SITI_NIP}/inbox", timeout=5).json()
    assert inbox["total"] == 1 and inbox["unread"] == 1
    [note] = inbox["items"]
    assert note["subject"] == message["Subject"] and note["read"] is False
    assert "gap -0,5" in note["body"]
    marked = admin_http.patch(
        f"{service.url}/recipients/{samples.SITI_NIP}/inbox/{note['id']}",
        json={"read": True},
        timeout=5,
    )
    assert marked.status_code == 200 and marked.json()["read"] is True
    inbox = admin_http.get(
        f"{service.url}/recipients/{samples.SITI_NIP}/inbox?unread=true", timeout=5
    )
    assert inbox.json()["total"] == 0 and inbox.json()["unread"] == 0
    assert admin_http.get(f"{service.url}/recipients/{samples.BUDI_NIP}/inbox").json()["total"] == 0

    # the log holds one e-mail and one inbox delivery, and both were announced
    logged = deliveries(service, event_id=assessment.id)
    assert sorted((d["channel"], d["status"], d["attempts"]) for d in logged) == [
        ("email", "delivered", 1),
        ("inbox", "delivered", 1),
    ]
    events.until(lambda: len(events.seen) >= 2)
    seen = [event for _, event in events.seen]
    assert {e["type"] for e in seen} == {"id.kompasasn.notification.notification.delivered.v1"}
    assert {e["data"]["channel"] for e in seen} == {"email", "inbox"}
    assert {e["data"]["source_event_id"] for e in seen} == {assessment.id}
    assert all(e["data"]["recipient"] == samples.SITI_NIP for e in seen)


def test_the_same_event_delivered_twice_to_two_replicas_is_sent_once(
    start_notification, publish_event, smtp_server, samples, notification_db
):
    first, second = start_notification(), start_notification()
    publish_event("employee.registered", samples.employee())
    assessment = publish_event("assessment.recorded", samples.assessment())
    # at-least-once delivery: the same event again, to competing replicas
    publish_event(event=assessment, times=3)

    wait_for(smtp_server.messages, what="the e-mail")
    wait_for(
        lambda: sum(r.log().count("duplicate event ignored") for r in (first, second)) == 3,
        what="three duplicates ignored",
    )
    engine = make_engine(notification_db, pool_size=1)
    with engine.connect() as connection:
        rows = connection.execute(
            select(Delivery.channel, func.count(), func.max(Delivery.attempts))
            .where(Delivery.event_id == assessment.id)
            .group_by(Delivery.channel)
        ).all()
    engine.dispose()
    assert sorted(rows) == [("email", 1, 1), ("inbox", 1, 1)]
    assert len(smtp_server.messages()) == 1


def test_a_signed_webhook_that_fails_twice_is_retried_and_logged(
    start_notification, publish_event, webhook_receiver, tap, samples
):
    service = start_notification()
    receiver = webhook_receiver(fail="2")
    created = admin_http.post(
        f"{service.url}/subscriptions",
        json={"name": "Inspektorat Kota", "url": receiver.url, "patterns": ["budget.*"]},
        timeout=5,
    )
    assert created.status_code == 201, created.text
    receiver.trust(created.json()["secret"])
    events = tap("notification")

    publish_event("employee.registered", samples.employee())
    publish_event("proposal.cancelled", _cancelled(samples))  # matches no pattern: not forwarded
    rejected = publish_event("budget.rejected", samples.budget_rejected())

    received = wait_for(lambda: len(receiver.requests()) == 3 and receiver.requests())
    assert [r["status"] for r in received] == [503, 503, 200]
    assert all(r["signature_valid"] for r in received)
    assert {json.loads(r["body"])["id"] for r in received} == {rejected.id}
    body = json.loads(received[-1]["body"])
    assert body["type"] == "id.kompasasn.budget.budget.rejected.v1"
    assert body["data"]["requested_rupiah"] == 5_260_000
    assert received[-1]["headers"]["X-Kompas-Signature"].startswith("sha256=")

    [logged] = wait_for(lambda: deliveries(service, channel="webhook", status="delivered"))
    assert logged["attempts"] == 3 and logged["event_id"] == rejected.id
    assert logged["address"] == receiver.url
    detail = admin_http.get(f"{service.url}/deliveries/{logged['id']}", timeout=5).json()
    assert [a["succeeded"] for a in detail["attempt_log"]] == [False, False, True]
    assert detail["attempt_log"][0]["error"].startswith("HTTP 503")
    assert len(deliveries(service, channel="webhook")) == 1
    metrics = scrape(service.url)
    attempts = "asn_notification_attempts_total"
    assert metric(metrics, attempts, channel="webhook", status="pending") == 2
    assert metric(metrics, attempts, channel="webhook", status="delivered") == 1

    events.until(lambda: len(events.matching(_webhook)) >= 3)
    webhooks = events.matching(_webhook)
    outcomes = [(e["type"].split(".")[-2], e["data"]["attempts"]) for e in webhooks]
    assert outcomes == [("failed", 1), ("failed", 2), ("delivered", 3)]
    assert all(e["data"]["recipient"] == receiver.url for e in webhooks)
    assert [e["data"].get("parked") for e in webhooks] == [False, False, None]


def test_a_receiver_that_always_fails_ends_parked_and_can_be_resent(
    start_notification, publish_event, webhook_receiver, tap, samples
):
    service = start_notification(WEBHOOK_MAX_ATTEMPTS="3")
    receiver = webhook_receiver(fail="always")
    created = admin_http.post(
        f"{service.url}/subscriptions",
        json={"name": "BKN regional", "url": receiver.url, "patterns": ["#"]},
        timeout=5,
    ).json()
    receiver.trust(created["secret"])
    events = tap("notification")
    publish_event("budget.rejected", samples.budget_rejected())

    [parked] = wait_for(lambda: deliveries(service, status="parked"), what="a parked delivery")
    assert parked["attempts"] == 3 and parked["channel"] == "webhook"
    assert parked["last_error"].startswith("HTTP 503")
    assert len(receiver.requests()) == 3
    events.until(lambda: len(events.matching(_webhook)) >= 3)
    assert [e["data"]["parked"] for e in events.matching(_webhook)] == [False, False, True]

    receiver.fail("0")
    resent = admin_http.post(f"{service.url}/deliveries/{parked['id']}/resend", timeout=5)
    assert resent.status_code == 202 and resent.json()["attempt_limit"] == 6
    [delivered] = wait_for(lambda: deliveries(service, status="delivered", channel="webhook"))
    assert delivered["id"] == parked["id"] and delivered["attempts"] == 4
    assert len(receiver.requests()) == 4 and receiver.requests()[-1]["status"] == 200
    conflict = admin_http.post(f"{service.url}/deliveries/{parked['id']}/resend", timeout=5)
    assert conflict.status_code == 409
    assert conflict.headers["Content-Type"] == "application/problem+json"


def test_budget_rejection_reaches_unit_operator_and_bkpsdm_in_their_languages(
    start_notification, publish_event, smtp_server, samples
):
    service = start_notification()
    publish_event("employee.registered", samples.employee())  # makes the unit's name known
    official(service, "unit_operator", "Rina Operator", "rina@plaju.test", unit_code="PLJ-KEL-PU")
    admin = official(service, "bkpsdm_admin", "Andi Admin", "andi@bkpsdm.test", language="en")
    official(service, "unit_operator", "Operator Lain", "lain@plaju.test", unit_code="PLJ-KEL-TB")
    employee = f"{service.url}/employees/{samples.SITI_NIP}"
    wait_for(lambda: admin_http.get(employee, timeout=5).status_code == 200, what="the employee")
    publish_event("budget.rejected", samples.budget_rejected())

    messages = wait_for(lambda: len(smtp_server.messages()) == 2 and smtp_server.messages())
    by_address = {envelope["rcpt_tos"][0]: message for envelope, message in messages}
    assert set(by_address) == {"rina@plaju.test", "andi@bkpsdm.test"}
    indonesian, english = by_address["rina@plaju.test"], by_address["andi@bkpsdm.test"]
    assert indonesian["Subject"] == (
        "Anggaran pelatihan Kelurahan Plaju Ulu tahun 2026 tidak mencukupi"
    )
    assert "senilai Rp 5.260.000 untuk unit Kelurahan Plaju Ulu" in indonesian.get_content()
    assert "Tersedia: Rp 2.500.000" in indonesian.get_content()
    assert english["Subject"] == ("Training budget of Kelurahan Plaju Ulu for 2026 is insufficient")
    assert "Available: Rp 2.500.000" in english.get_content()
    inbox = admin_http.get(f"{service.url}/recipients/{admin['id']}/inbox", timeout=5)
    assert inbox.json()["unread"] == 1


def _webhook(event: dict) -> bool:
    return event["data"]["channel"] == "webhook"


def _cancelled(samples) -> dict:
    data = samples.proposal()
    return {
        key: data[key]
        for key in ("proposal_id", "employee_nip", "employee_name", "unit_code", "fiscal_year")
    } | {"status": "cancelled", "reason": "dibatalkan operator"}
