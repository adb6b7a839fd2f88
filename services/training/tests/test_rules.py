"""The planning rules across the service, as a real ``nameko run`` process against real
PostgreSQL and RabbitMQ: which year a proposal plans, development never proposed twice, the
current assessment per jabatan, what an assessment led to, and who pays an approved item."""

import uuid
from datetime import date, timedelta

from asn_testkit.metrics import events_handled

YEAR = date.today().year


def batch(starts: date, ends: date, capacity: int = 30) -> dict:
    return {"starts_on": str(starts), "ends_on": str(ends), "place": "Plaju", "capacity": capacity}


def reserve_all(build, proposal: dict) -> dict:
    """The budget's answer paying for every item of ``proposal``."""
    return {
        **build.budget_position(),
        "fiscal_year": proposal["fiscal_year"],
        "reservation_id": str(uuid.uuid4()),
        "proposal_id": proposal["proposal_id"],
        "item_ids": [i["item_id"] for i in proposal["items"]],
        "rejected_item_ids": [],
        "partial": False,
        "amount_rupiah": proposal["total_cost_rupiah"],
    }


def test_a_batch_ending_next_year_plans_next_year_and_leaves_this_years_20_jp_to_a_top_up(
    api, training_events, publish_event, build
):
    # the only batch closing the gap starts on 31 December and ends in January: next year's
    across = build.programme(
        "KOMUNIKASI-LINTAS",
        2_000_000,
        {"M.03": 3},
        batches=[batch(date(YEAR, 12, 31), date(YEAR + 1, 1, 2))],
    )
    api.post("/programmes", across, expect=201)
    seminar = build.programme("SEMINAR-PELAYANAN", 500_000, {"M.03": 2}, jp=20)
    api.post("/programmes", seminar, expect=201)

    first = build.assessment([build.result("M.03", 3, 2)])
    publish_event("assessment.recorded", first)
    proposal = training_events.wait("proposal.created")[0]["data"]
    assert proposal["fiscal_year"] == YEAR + 1
    assert [i["programme_code"] for i in proposal["items"]] == ["KOMUNIKASI-LINTAS"]
    assert "tahun depan" in api.get(f"/proposals/{proposal['proposal_id']}")["status_reason"]
    review = training_events.wait("assessment.reviewed")[0]["data"]
    assert (review["fiscal_year"], review["next_year"]) == (YEAR + 1, True)
    assert review["jp"]["finding"] == "not_planned"

    publish_event("budget.reserved", reserve_all(build, proposal))
    training_events.wait("proposal.approved")

    # reassessed: M.03 is booked (not proposed again), and the 24 JP booked end next year, so
    # this year's 20 JP still need a top-up
    again = build.assessment([build.result("M.03", 3, 2)], supersedes=first["assessment_id"])
    publish_event("assessment.recorded", again)
    top_up = training_events.wait("proposal.created", 2)[1]["data"]
    assert top_up["fiscal_year"] == YEAR
    assert [i["programme_code"] for i in top_up["items"]] == ["SEMINAR-PELAYANAN"]
    assert top_up["items"][0]["reasons"][0]["rule"] == "jp_top_up"
    review = api.get(f"/assessments/{again['assessment_id']}/review")
    assert review["outcome"] == "proposed" and review["proposal_id"] == top_up["proposal_id"]
    assert [(c["competency_code"], c["finding"]) for c in review["competencies"]] == [
        ("M.03", "already_booked")
    ]
    assert review["jp"] == {"counted": 0, "minimum": 20, "finding": "top_up_proposed"}


def test_a_reassessment_with_the_same_gaps_proposes_nothing_already_booked_or_completed(
    training_service, api, training_events, publish_event, build
):
    api.post("/programmes", build.programme("INTEGRITAS-3", 2_400_000, {"M.01": 3}), expect=201)
    api.post("/programmes", build.programme("KERJASAMA-3", 1_800_000, {"M.02": 3}), expect=201)
    results = [build.result("M.01", 3, 2), build.result("M.02", 3, 2)]
    first = build.assessment(results)
    publish_event("assessment.recorded", first)
    proposal = training_events.wait("proposal.created")[0]["data"]
    publish_event("budget.reserved", reserve_all(build, proposal))
    training_events.wait("proposal.approved")
    (enrolment, _) = api.post(f"/proposals/{proposal['proposal_id']}/enrollments", expect=201)
    api.post(f"/enrollments/{enrolment['enrollment_id']}/complete", {})  # one completed

    again = build.assessment(results, supersedes=first["assessment_id"])
    publish_event("assessment.recorded", again)
    review = training_events.wait("assessment.reviewed", 2)[1]["data"]
    training_events.settle(quiet=0.5)
    assert len(training_events.named("proposal.created")) == 1  # nothing new to reserve
    assert review["outcome"] == "no_proposal" and review["proposal_id"] is None
    assert {c["competency_code"]: c["finding"] for c in review["competencies"]} == {
        "M.01": "no_programme",  # its programme was completed: not proposed again
        "M.02": "already_booked",  # enrolled, not yet completed
    }
    assert [c["competency_code"] for c in review["unmet"]] == ["M.01"]
    assert events_handled(training_service.url, "on_assessment_recorded", "handled") == 2


def test_the_current_assessment_is_per_jabatan_a_second_jabatan_leaves_the_first_alone(
    api, training_events, publish_event, build
):
    api.post("/programmes", build.programme("PELAYANAN-3", 1_000_000, {"M.05": 3}), expect=201)
    api.post("/programmes", build.programme("PERUBAHAN-3", 1_200_000, {"M.07": 3}), expect=201)
    held = {"code": "LURAH", "name": "Lurah Talang Putri", "kind": "pengawas", "grade": None}
    other = {"code": "KASI-PEM", "name": "Kepala Seksi", "kind": "pengawas", "grade": None}
    for_held = build.assessment(
        [build.result("M.05", 3, 2)], jabatan=held, assessed_on=date.today() - timedelta(days=2)
    )
    publish_event("assessment.recorded", for_held)
    first = training_events.wait("proposal.created")[0]["data"]
    assert first["jabatan_code"] == "LURAH"

    for_other = build.assessment([build.result("M.07", 3, 2)], jabatan=other)
    publish_event("assessment.recorded", for_other)
    second = training_events.wait("proposal.created", 2)[1]["data"]
    assert second["jabatan_code"] == "KASI-PEM" and second["supersedes"] is None
    training_events.settle(quiet=0.5)
    assert training_events.named("proposal.cancelled") == []
    assert api.get(f"/proposals/{first['proposal_id']}")["status"] == "pending_budget"

    # an older result for the held jabatan arriving now is still current for that jabatan
    newer_for_held = build.assessment(
        [build.result("M.05", 3, 1.5)],
        jabatan=held,
        supersedes=for_held["assessment_id"],
        assessed_on=date.today() - timedelta(days=1),
    )
    publish_event("assessment.recorded", newer_for_held)
    cancelled = training_events.wait("proposal.cancelled")[0]["data"]
    assert cancelled["proposal_id"] == first["proposal_id"]
    third = training_events.wait("proposal.created", 3)[2]["data"]
    assert third["supersedes"] == first["proposal_id"]
    assert api.get(f"/proposals/{second['proposal_id']}")["status"] == "pending_budget"


def test_an_item_approved_as_funded_another_way_says_so_at_completion(
    api, training_events, publish_event, build
):
    api.post("/programmes", build.programme("DESTINASI-WISATA", 3_000_000, {"M.04": 3}), expect=201)
    publish_event("assessment.recorded", build.assessment([build.result("M.04", 3, 2)]))
    proposal = training_events.wait("proposal.created")[0]["data"]
    publish_event("budget.rejected", build.rejection(proposal, 3_000_000))
    training_events.wait("proposal.waitlisted")

    approved = api.post(f"/proposals/{proposal['proposal_id']}/approve", {"note": "dana BLUD"})
    assert [i["funding"] for i in approved["items"]] == ["other"]
    (enrolment,) = api.post(f"/proposals/{proposal['proposal_id']}/enrollments", expect=201)
    api.post(f"/enrollments/{enrolment['enrollment_id']}/complete", {})
    completed = training_events.wait("enrollment.completed")[0]["data"]
    assert completed["proposal_item_id"] == proposal["items"][0]["item_id"]
    assert completed["funding"] == "other"
