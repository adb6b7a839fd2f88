"""Who may call each route of the training service: admins everything, operators their unit
and its sub-units (the tree learnt from competency's ``unit.*`` events), employees the
catalogue and their own records, agencies nothing here."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from asn_shared.auth import ADMIN, EMPLOYEE, OPERATOR, ROLES
from asn_testkit import auth
from asn_testkit.access import Callers, check_table, read_as, row
from asn_testkit.metrics import events_handled
from asn_testkit.units import PLAJU, check_a_move_is_followed, register_tree
from asn_testkit.waiting import wait_for

OWN = "199001012015031001"  # the employee calling, in KEL-PLAJU-ULU
COLLEAGUE = "198609262015051001"  # in KEC-PLAJU: the operator's, not the employee's
OUTSIDER = "198805052010012002"  # in DINKES: outside the operator's units
HOME = {OWN: "KEL-PLAJU-ULU", COLLEAGUE: "KEC-PLAJU", OUTSIDER: "DINKES"}
CALLERS = Callers(unit="KEC-PLAJU", nip=OWN, agency="bps-sumsel")


@dataclass
class Seeded:
    url: str
    batch_id: str
    proposals: dict[str, str]  # nip: proposal id
    enrollments: dict[str, str]  # nip: direct enrolment id
    assessments: dict[str, str]  # nip: assessment id


@pytest.fixture
def seeded(training_service, api, training_events, publish_event, build) -> Seeded:
    url = training_service.url
    register_tree(publish_event, url, PLAJU)
    programme = api.post("/programmes", build.programme("KOM-3", 0, {"M.03": 3}), expect=201)
    batch_id = programme["batches"][0]["batch_id"]
    for nip, unit in HOME.items():
        publish_event(
            "assessment.recorded",
            build.assessment([build.result("M.03", 3, 2)], employee=build.employee(nip, unit)),
        )
    created = training_events.wait("proposal.created", len(HOME))
    proposals = {event["data"]["employee_nip"]: event["data"]["proposal_id"] for event in created}
    enrollments = {
        nip: api.post(
            "/enrollments",
            {"employee_nip": nip, "programme_code": "KOM-3", "batch_id": batch_id},
            expect=201,
        )["enrollment_id"]
        for nip in (OWN, OUTSIDER)
    }
    assessments = {
        event["data"]["employee_nip"]: event["data"]["assessment_id"] for event in created
    }
    return Seeded(url, batch_id, proposals, enrollments, assessments)


def access_table(seeded: Seeded, build) -> list:
    own, colleague, outsider = (seeded.proposals[n] for n in (OWN, COLLEAGUE, OUTSIDER))
    own_enrolment, outside_enrolment = seeded.enrollments[OWN], seeded.enrollments[OUTSIDER]

    def enrol(nip: str) -> dict:
        return {"employee_nip": nip, "programme_code": "KOM-3", "batch_id": seeded.batch_id}

    def record(nip: str) -> dict:
        return {
            "employee_nip": nip,
            "title": "Seminar pelayanan publik",
            "form": "nonklasikal",
            "jp": 4,
            "started_on": str(build.day(-1)),
            "ended_on": str(build.day(-1)),
            "evidence": "Sertifikat 001/2026",
        }

    batch = {"starts_on": str(build.day(5)), "ends_on": str(build.day(6)), "online": True}
    return [
        row("GET /openapi.json", *ROLES),
        # the catalogue: read by all ASN roles, changed by BKPSDM
        row("GET /activities", ADMIN, OPERATOR, EMPLOYEE),
        row(
            "PUT /activities/{code}", ADMIN, path="/activities/e_learning", body={"default_jp": 10}
        ),
        row("GET /programmes", ADMIN, OPERATOR, EMPLOYEE),
        row("GET /programmes/{code}", ADMIN, OPERATOR, EMPLOYEE, path="/programmes/KOM-3"),
        row("POST /programmes", ADMIN, body=build.programme("KOM-4", 0, {"M.03": 4})),
        row(
            "POST /programmes/{code}/batches",
            ADMIN,
            path="/programmes/KOM-3/batches",
            body={**batch, "capacity": 10},
        ),
        # proposals
        row("GET /proposals", ADMIN, OPERATOR, EMPLOYEE),
        row("GET /proposals", ADMIN, OPERATOR, EMPLOYEE, path="/proposals?unit_code=KEL-PLAJU-ULU"),
        row(
            "GET /proposals",
            ADMIN,
            EMPLOYEE,
            path="/proposals?unit_code=DINKES",
            note="another unit's; an employee's list stays their own",
        ),
        row("GET /proposals", ADMIN, OPERATOR, EMPLOYEE, path=f"/proposals?employee_nip={OWN}"),
        row(
            "GET /proposals",
            ADMIN,
            OPERATOR,
            path=f"/proposals?employee_nip={COLLEAGUE}",
            note="another employee's",
        ),
        row("GET /proposals/{proposal_id}", ADMIN, OPERATOR, EMPLOYEE, path=f"/proposals/{own}"),
        row(
            "GET /proposals/{proposal_id}",
            ADMIN,
            OPERATOR,
            path=f"/proposals/{colleague}",
            note="another employee's",
        ),
        row(
            "GET /proposals/{proposal_id}",
            ADMIN,
            path=f"/proposals/{outsider}",
            note="another unit's",
        ),
        row(
            "GET /assessments/{assessment_id}/review",
            ADMIN,
            OPERATOR,
            EMPLOYEE,
            path=f"/assessments/{seeded.assessments[OWN]}/review",
        ),
        row(
            "GET /assessments/{assessment_id}/review",
            ADMIN,
            OPERATOR,
            path=f"/assessments/{seeded.assessments[COLLEAGUE]}/review",
            note="another employee's",
        ),
        row(
            "GET /assessments/{assessment_id}/review",
            ADMIN,
            path=f"/assessments/{seeded.assessments[OUTSIDER]}/review",
            note="another unit's",
        ),
        row(
            "POST /proposals/{proposal_id}/approve",
            ADMIN,
            OPERATOR,
            path=f"/proposals/{own}/approve",
            body={},
        ),
        row(
            "POST /proposals/{proposal_id}/approve",
            ADMIN,
            path=f"/proposals/{outsider}/approve",
            body={},
            note="another unit's",
        ),
        row(
            "POST /proposals/{proposal_id}/enrollments",
            ADMIN,
            OPERATOR,
            path=f"/proposals/{colleague}/enrollments",
        ),
        row(
            "POST /proposals/{proposal_id}/enrollments",
            ADMIN,
            path=f"/proposals/{outsider}/enrollments",
            note="another unit's",
        ),
        row(
            "POST /proposals/{proposal_id}/cancel",
            ADMIN,
            OPERATOR,
            path=f"/proposals/{own}/cancel",
            body={"reason": "uji hak akses"},
        ),
        row(
            "POST /proposals/{proposal_id}/cancel",
            ADMIN,
            path=f"/proposals/{outsider}/cancel",
            body={"reason": "uji hak akses"},
            note="another unit's",
        ),
        # enrolment and completion
        row("POST /enrollments", ADMIN, OPERATOR, body=enrol(OWN)),
        row("POST /enrollments", ADMIN, body=enrol(OUTSIDER), note="another unit's employee"),
        row("GET /enrollments", ADMIN, OPERATOR, EMPLOYEE),
        row("GET /enrollments", ADMIN, OPERATOR, EMPLOYEE, path=f"/enrollments?employee_nip={OWN}"),
        row(
            "GET /enrollments",
            ADMIN,
            OPERATOR,
            path=f"/enrollments?employee_nip={OUTSIDER}",
            note="another employee's",
        ),
        row(
            "POST /enrollments/{enrollment_id}/complete",
            ADMIN,
            OPERATOR,
            path=f"/enrollments/{own_enrolment}/complete",
            body={},
        ),
        row(
            "POST /enrollments/{enrollment_id}/complete",
            ADMIN,
            path=f"/enrollments/{outside_enrolment}/complete",
            body={},
            note="another unit's",
        ),
        row(
            "POST /enrollments/{enrollment_id}/cancel",
            ADMIN,
            OPERATOR,
            path=f"/enrollments/{own_enrolment}/cancel",
        ),
        row(
            "POST /enrollments/{enrollment_id}/cancel",
            ADMIN,
            path=f"/enrollments/{outside_enrolment}/cancel",
            note="another unit's",
        ),
        # the JP ledger
        row("POST /development-records", ADMIN, OPERATOR, body=record(OWN)),
        row(
            "POST /development-records",
            ADMIN,
            body=record(OUTSIDER),
            note="another unit's employee",
        ),
        row("GET /employees/{nip}/jp", ADMIN, OPERATOR, EMPLOYEE, path=f"/employees/{OWN}/jp"),
        row(
            "GET /employees/{nip}/jp",
            ADMIN,
            OPERATOR,
            path=f"/employees/{COLLEAGUE}/jp",
            note="another employee's",
        ),
        row(
            "GET /employees/{nip}/jp",
            ADMIN,
            path=f"/employees/{OUTSIDER}/jp",
            note="another unit's employee",
        ),
        row("GET /jp/under-minimum", ADMIN, OPERATOR),
        row(
            "GET /jp/under-minimum",
            ADMIN,
            OPERATOR,
            path="/jp/under-minimum?unit_code=KEL-PLAJU-ULU",
        ),
        row(
            "GET /jp/under-minimum",
            ADMIN,
            path="/jp/under-minimum?unit_code=DINKES",
            note="another unit's",
        ),
        row("GET /reports/gap-closing-cost", ADMIN, OPERATOR),
        row(
            "GET /reports/gap-closing-cost",
            ADMIN,
            OPERATOR,
            path="/reports/gap-closing-cost?unit_code=KEL-PLAJU-ULU",
        ),
        row(
            "GET /reports/gap-closing-cost",
            ADMIN,
            path="/reports/gap-closing-cost?unit_code=DINKES",
            note="another unit's",
        ),
    ]


def test_every_route_admits_exactly_the_roles_and_scopes_it_names(seeded, build):
    check_table(seeded.url, access_table(seeded, build), CALLERS)


def test_lists_hold_only_the_callers_records(seeded):
    def listed(http, path: str) -> dict:
        return read_as(http, f"{seeded.url}{path}")

    def nips(page: dict) -> set[str]:
        return {item["employee_nip"] for item in page["items"]}

    admin = auth.session()
    operator = auth.session(OPERATOR, "KEC-PLAJU")
    sub_unit_operator = auth.session(OPERATOR, "KEL-PLAJU-ULU")
    employee = auth.session(EMPLOYEE, OWN)

    assert nips(listed(admin, "/proposals")) == {OWN, COLLEAGUE, OUTSIDER}
    kecamatan = listed(operator, "/proposals")
    assert nips(kecamatan) == {OWN, COLLEAGUE} and kecamatan["total"] == 2
    assert nips(listed(sub_unit_operator, "/proposals")) == {OWN}  # not its parent's
    assert nips(listed(employee, "/proposals")) == {OWN}
    assert listed(employee, "/proposals?unit_code=KEC-PLAJU")["total"] == 0
    assert listed(operator, f"/proposals?employee_nip={OUTSIDER}")["total"] == 0

    assert nips(listed(admin, "/enrollments")) == {OWN, OUTSIDER}
    assert nips(listed(operator, "/enrollments")) == {OWN}
    assert nips(listed(employee, "/enrollments")) == {OWN}

    def short_units(http) -> set[str]:
        return {unit["unit_code"] for unit in listed(http, "/jp/under-minimum")["units"]}

    assert short_units(admin) == {"KEL-PLAJU-ULU", "KEC-PLAJU", "DINKES"}
    assert short_units(operator) == {"KEL-PLAJU-ULU", "KEC-PLAJU"}
    assert short_units(sub_unit_operator) == {"KEL-PLAJU-ULU"}


def test_the_unit_tree_follows_a_move_and_ignores_an_older_announcement(
    training_service, publish_event, build
):
    url = training_service.url
    nip = "199203032019032003"
    register_tree(publish_event, url, {**PLAJU, "PUSK-PLAJU": "DINKES"})
    publish_event("employee.registered", build.employee(nip, "PUSK-PLAJU"))
    wait_for(lambda: events_handled(url, "on_employee_registered") >= 1, what="the employee")
    operator = auth.session(OPERATOR, "KEC-PLAJU")

    def operator_reaches() -> int:
        return operator.get(f"{url}/employees/{nip}/jp", timeout=10).status_code

    check_a_move_is_followed(publish_event, url, operator_reaches)
    under = operator.get(f"{url}/jp/under-minimum", timeout=10).json()
    assert "PUSK-PLAJU" in {unit["unit_code"] for unit in under["units"]}
