"""The training service as a real ``nameko run`` process, against real PostgreSQL and
RabbitMQ: events in from plain kombu clients, events out read from a queue of our own."""

from datetime import date, timedelta

from asn_testkit import openapi
from asn_testkit.auth import admin_http
from asn_testkit.metrics import events_handled
from asn_testkit.waiting import wait_for


def by_code(items):
    return {item["programme_code"]: item for item in items}


def test_an_assessment_yields_one_proposal_even_delivered_twice_and_a_newer_one_supersedes_it(
    training_service, api, training_events, publish_event, build
):
    api.post("/programmes", build.programme("KOM-3", 2_400_000, {"M.03": 3}), expect=201)
    api.post(
        "/programmes",
        build.programme("TIM-INT", 3_000_000, {"M.01": 3, "M.02": 3}, jp=30),
        expect=201,
    )
    results = [
        build.result("M.01", 3, 2),
        build.result("M.02", 3, 2),
        build.result("M.03", 3, 2.5),
        build.result("M.05", 3, 3),
    ]
    first = build.assessment(results)
    publish_event("assessment.recorded", first, times=2)  # at-least-once: the same event twice

    created = training_events.wait("proposal.created")[0]["data"]
    wait_for(
        lambda: events_handled(training_service.url, "on_assessment_recorded", "duplicate") == 1,
        what="the second delivery",
    )
    training_events.settle()
    assert len(training_events.named("proposal.created")) == 1
    assert api.get("/proposals", employee_nip=build.NIP)["total"] == 1

    assert created["status"] == "pending_budget"
    assert created["unit_code"] == "KEC-PLAJU" and created["fiscal_year"] == date.today().year
    assert created["assessment_id"] == str(first["assessment_id"])
    assert (created["total_cost_rupiah"], created["total_jp"], created["jp_before"]) == (
        5_400_000,
        54,
        0,
    )
    items = by_code(created["items"])
    assert items["TIM-INT"]["competency_codes"] == ["M.01", "M.02"]  # one programme, two gaps
    assert items["TIM-INT"]["reasons"] == [
        {"competency_code": "M.01", "gap": -1.0, "rule": "closes_gap"},
        {"competency_code": "M.02", "gap": -1.0, "rule": "closes_gap"},
    ]
    assert items["KOM-3"]["reasons"] == [
        {"competency_code": "M.03", "gap": -0.5, "rule": "closes_gap"}
    ]
    assert items["KOM-3"]["batch"]["starts_on"] == str(build.day(1))
    stored = api.get(f"/proposals/{created['proposal_id']}")
    assert stored["items"][0]["reasons"][0]["explanation"].startswith("Menutup kesenjangan")

    newer = build.assessment([build.result("M.03", 3, 2)], supersedes=first["assessment_id"])
    publish_event("assessment.recorded", newer)
    cancelled = training_events.wait("proposal.cancelled")[0]["data"]
    assert cancelled["proposal_id"] == created["proposal_id"]
    assert cancelled["reason"] == "superseded" and cancelled["status"] == "cancelled"
    replacement = training_events.wait("proposal.created", 2)[1]["data"]
    assert replacement["supersedes"] == created["proposal_id"]
    assert [i["programme_code"] for i in replacement["items"]] == ["KOM-3"]

    older = build.assessment(results, assessed_on=date.today() - timedelta(days=60))
    publish_event("assessment.recorded", older)  # an older result arriving late: no effect
    publish_event("assessment.recorded", first)  # the superseded one, re-announced: no effect
    history = build.assessment([build.result("M.03", 3, 1)], current=False)
    publish_event("assessment.recorded", history)  # recorded as history only: no effect
    wait_for(
        lambda: events_handled(training_service.url, "on_assessment_recorded", "handled") == 6,
        what="the late assessments",
    )
    training_events.settle()
    assert len(training_events.named("proposal.created")) == 2
    assert training_service.log().count("older assessment ignored") == 2
    assert api.get(f"/proposals/{replacement['proposal_id']}")["status"] == "pending_budget"


def test_budget_rejected_waitlists_the_proposal_and_proposes_a_free_alternative(
    api, training_events, publish_event, build
):
    api.post("/programmes", build.programme("KOM-ADV", 4_800_000, {"M.03": 4}), expect=201)
    elearning = build.programme(
        "KOM-EL", 0, {"M.03": 3}, form="nonklasikal", activity="e_learning", jp=None
    )
    del elearning["jp"]  # the e-learning default JP
    elearning["batches"] = [
        {
            "starts_on": str(build.day(0)),
            "ends_on": str(build.day(20)),
            "online": True,
            "capacity": 500,
        }
    ]
    assert api.post("/programmes", elearning, expect=201)["jp"] == 10
    publish_event("assessment.recorded", build.assessment([build.result("M.03", 4, 2)]))
    original = training_events.wait("proposal.created")[0]["data"]
    assert [i["programme_code"] for i in original["items"]] == ["KOM-ADV"]

    publish_event("budget.rejected", build.rejection(original, 4_800_000))

    waitlisted = training_events.wait("proposal.waitlisted")[0]["data"]
    assert waitlisted["proposal_id"] == original["proposal_id"]
    assert waitlisted["status"] == "waitlisted" and waitlisted["reason"] == "insufficient_funds"
    assert [i["programme_code"] for i in waitlisted["waitlisted_items"]] == ["KOM-ADV"]
    alternative = training_events.wait("proposal.created", 2)[1]["data"]
    assert waitlisted["alternative_proposal_id"] == alternative["proposal_id"]
    assert alternative["alternative_of"] == original["proposal_id"]
    assert alternative["total_cost_rupiah"] == 0
    assert alternative["items"][0]["programme_code"] == "KOM-EL"
    assert alternative["items"][0]["reasons"] == [
        {"competency_code": "M.03", "gap": -2.0, "rule": "cheaper_alternative"}
    ]
    assert api.get(f"/proposals/{original['proposal_id']}")["status"] == "waitlisted"
    assert api.get("/proposals", status="pending_budget")["total"] == 1

    # a second rejection in the same process is handled like the first
    publish_event("budget.rejected", build.rejection(alternative, 0))
    again = training_events.wait("proposal.waitlisted", 2)[1]["data"]
    assert again["proposal_id"] == alternative["proposal_id"]
    assert api.get("/proposals", status="pending_budget")["total"] == 0


def test_a_partial_reservation_approves_what_it_paid_then_completion_fills_the_jp_ledger(
    training_service, api, training_events, publish_event, build
):
    body = build.programme("KOM-3", 2_400_000, {"M.03": 3})
    body["batches"].append(
        {
            "starts_on": str(build.day(5)),
            "ends_on": str(build.day(7)),
            "place": "Palembang",
            "capacity": 5,
        }
    )
    body["batches"][0]["capacity"] = 1
    first_batch, second_batch = api.post("/programmes", body, expect=201)["batches"]
    colleague = "199001012015032002"
    publish_event("employee.registered", build.employee(nip=colleague, unit="KEC-PLAJU"))
    wait_for(
        lambda: admin_http.get(f"{api.url}/employees/{colleague}/jp", timeout=5).ok,
        what="the colleague to be known",
    )
    taken = {
        "employee_nip": colleague,
        "programme_code": "KOM-3",
        "batch_id": first_batch["batch_id"],
    }
    direct = api.post("/enrollments", taken, expect=201)
    assert direct["batch"]["seats_left"] == 0 and direct["proposal_id"] is None

    api.post("/programmes", build.programme("PK-8", 1_500_000, {"M.08": 3}), expect=201)
    results = [build.result("M.03", 3, 2), build.result("M.08", 3, 2)]
    publish_event("assessment.recorded", build.assessment(results))
    proposal = training_events.wait("proposal.created")[0]["data"]
    items = by_code(proposal["items"])
    reservation = {  # the budget pays for KOM-3 only
        **build.budget_position(),
        "reservation_id": "6a1f3f38-4a4e-4b7e-9a4b-0f2d1c9e8b71",
        "proposal_id": proposal["proposal_id"],
        "item_ids": [items["KOM-3"]["item_id"]],
        "rejected_item_ids": [items["PK-8"]["item_id"]],
        "partial": True,
        "amount_rupiah": 2_400_000,
    }
    publish_event("budget.reserved", reservation)
    approved = training_events.wait("proposal.approved")[0]["data"]
    assert approved["status"] == "partially_approved" and approved["reserved_rupiah"] == 2_400_000
    assert [i["programme_code"] for i in approved["approved_items"]] == ["KOM-3"]
    waitlisted = training_events.wait("proposal.waitlisted")[0]["data"]
    assert [i["programme_code"] for i in waitlisted["waitlisted_items"]] == ["PK-8"]
    assert waitlisted["alternative_proposal_id"] is None  # nothing cheaper develops M.08

    (enrolment,) = api.post(f"/proposals/{proposal['proposal_id']}/enrollments", expect=201)
    assert enrolment["batch"]["batch_id"] == second_batch["batch_id"]  # the first was full
    training_events.wait("enrollment.created", 2)
    cancelled = api.post(f"/enrollments/{direct['enrollment_id']}/cancel")
    assert cancelled["status"] == "cancelled" and cancelled["batch"]["seats_left"] == 1
    listed = api.get("/enrollments", employee_nip=colleague)
    assert [e["status"] for e in listed["items"]] == ["cancelled"]
    again = api.post(f"/proposals/{proposal['proposal_id']}/enrollments", expect=409)
    assert again["detail"] == "Usulan berstatus enrolled tidak dapat menjadi enrolled."

    done = api.post(f"/enrollments/{enrolment['enrollment_id']}/complete", {})
    assert done["status"] == "completed"
    completed = training_events.wait("enrollment.completed")[0]["data"]
    assert completed["proposal_id"] == proposal["proposal_id"]
    assert completed["jp"] == 24 and completed["cost_rupiah"] == 2_400_000
    assert completed["ended_on"] == second_batch["ends_on"]
    assert completed["jp_year"] == date.fromisoformat(second_batch["ends_on"]).year

    ledger = api.get(f"/employees/{build.NIP}/jp")
    assert (ledger["jp"], ledger["shortfall_jp"]) == (24, 0)
    assert ledger["entries"][0]["source"] == "enrollment"
    assert api.get(f"/proposals/{proposal['proposal_id']}")["status"] == "completed"
    under = api.get("/jp/under-minimum", unit_code="KEC-PLAJU")["units"]
    assert [e["nip"] for e in under[0]["employees"]] == [colleague]
    assert under[0]["employees"][0]["shortfall_jp"] == 20


def test_the_http_api_refuses_bad_input_and_illegal_transitions_clearly(
    training_service, api, training_events, publish_event, build
):
    bad = api.post(
        "/programmes",
        {"code": "X", "title": "", "form": "daring", "cost_rupiah": -5, "competencies": []},
        expect=400,
    )
    assert set(bad["errors"]) == {"title", "form", "cost_rupiah", "competencies"}
    activities = {a["code"]: a for a in api.get("/activities")}
    assert activities["seminar"] == {
        "code": "seminar",
        "form": "klasikal",
        "name": "Seminar, konferensi, sarasehan",
        "default_jp": 8,
    }
    assert api.call("PUT", "/activities/seminar", json={"default_jp": 6})["default_jp"] == 6
    seminar = build.programme("SEM-1", 0, {"M.03": 2}, activity="seminar")
    del seminar["jp"]
    assert api.post("/programmes", seminar, expect=201)["jp"] == 6  # the edited default
    assert api.get("/programmes", competency_code="M.03")["total"] == 1
    assert api.get("/programmes", competency_code="M.08")["total"] == 0
    wrong_form = build.programme("SEM-2", 0, {"M.03": 2}, activity="coaching")
    assert api.post("/programmes", wrong_form, expect=422)["errors"] == {
        "activity": ["Belongs to form nonklasikal."]
    }
    assert "sudah ada" in api.post("/programmes", seminar, expect=409)["detail"]

    record = {
        "employee_nip": build.NIP,
        "title": "Seminar Pelayanan Publik Digital",
        "form": "klasikal",
        "activity": "seminar",
        "minutes": 135,
        "started_on": str(build.day(0)),
        "ended_on": str(build.day(0)),
        "evidence": "Sertifikat No. 12/SEM/2026",
        "competency_codes": ["M.05"],
    }
    api.post("/development-records", record, expect=422)  # not known yet
    publish_event("employee.registered", build.employee(version=2))
    publish_event("employee.updated", {**build.employee(version=1), "name": "Nama Lama"})
    wait_for(
        lambda: events_handled(training_service.url, "on_employee_updated", "handled") == 1,
        what="both employee events",
    )
    entry = api.post("/development-records", record, expect=201)
    assert (entry["jp"], entry["source"]) == (3, "direct")  # 135 minutes = 3 JP
    completed = training_events.wait("enrollment.completed")[0]["data"]
    assert completed["proposal_id"] is None and completed["programme_code"] is None
    assert completed["enrollment_id"] == entry["entry_id"]
    ledger = api.get(f"/employees/{build.NIP}/jp")
    assert ledger["employee_name"] == "Rina Marlina"  # version 2 kept over the late version 1
    assert ledger["jp"] == 3 and ledger["shortfall_jp"] == 17

    publish_event("assessment.recorded", build.assessment([build.result("M.03", 2, 1)]))
    proposal_id = training_events.wait("proposal.created")[0]["data"]["proposal_id"]
    early = api.post(f"/proposals/{proposal_id}/approve", {}, expect=409)
    assert early["current_status"] == "pending_budget"
    assert "waitlisted atau partially_approved" in early["detail"]
    api.post(f"/proposals/{proposal_id}/enrollments", expect=409)
    cancelled = api.post(f"/proposals/{proposal_id}/cancel", {"reason": "pindah tugas"})
    assert cancelled["status"] == "cancelled"
    assert training_events.wait("proposal.cancelled")[0]["data"]["reason"] == "pindah tugas"
    again = api.post(f"/proposals/{proposal_id}/cancel", {"reason": "lagi"}, expect=409)
    assert again["detail"] == "Usulan berstatus cancelled tidak dapat menjadi cancelled."
    api.post(f"/proposals/{proposal_id}/cancel", {}, expect=400)
    api.get("/proposals/not-a-uuid", expect=404)
    assert api.get("/proposals", status="nonsense", expect=400)["errors"]["status"]

    document = openapi.document(api.url)
    assert {"/programmes", "/proposals/{proposal_id}/cancel", "/jp/under-minimum"} <= set(
        document["paths"]
    )
