"""Every competency route tried with every role: allowed or forbidden, as the table says."""

from __future__ import annotations

from asn_testkit.access import COMMON, Callers, check_table, row
from asn_testkit.auth import admin_http

STAFF = ("admin", "operator", "employee")
HR = ("admin", "operator")


def table(org: dict, own: dict, other: dict, own_assessment: str, other_assessment: str):
    """``own``: an employee under the operator's kecamatan, and the employee token's NIP
    (``mover``: a colleague an admin moves away); ``other``: an employee of a unit outside."""
    kelurahan, outside, lurah = org["kelurahan"], other["unit_code"], org["lurah"]["code"]
    new_employee = {
        "nip": "199001012020121001",
        "name": "Pegawai Baru",
        "unit_code": kelurahan,
        "jabatan_code": lurah,
    }
    assessment = {
        "assessed_on": "2026-03-02",
        "method": "assessment_centre",
        "levels": {"M.01": 3},
    }
    return [
        *COMMON,
        row("GET /levels", *STAFF),
        row("GET /competencies", *STAFF),
        row("POST /competencies", "admin", body={}),
        row("GET /competencies/{code}", *STAFF, path="/competencies/M.01"),
        row("PATCH /competencies/{code}", "admin", path="/competencies/M.01", body={}),
        row("GET /grade-defaults", *STAFF),
        row("PUT /grade-defaults", "admin", body={}),
        row("GET /units", *STAFF),
        row("POST /units", "admin", body={}),
        row("GET /units/{code}", *STAFF, path=f"/units/{kelurahan}"),
        row("PATCH /units/{code}", "admin", path=f"/units/{kelurahan}", body={}),
        row("POST /units/announcements", "admin"),
        row(
            "GET /units/{code}/gap-report",
            *HR,
            path=f"/units/{org['kecamatan']}/gap-report",
        ),
        row(
            "GET /units/{code}/gap-report",
            "admin",
            path=f"/units/{outside}/gap-report",
            note="a unit outside the operator's",
        ),
        row(
            "GET /units/{code}/gap-report",
            "admin",
            path=f"/units/{org['city']}/gap-report",
            note="the operator's parent unit",
        ),
        row("GET /jabatan", *STAFF),
        row("POST /jabatan", "admin", body={}),
        row("GET /jabatan/{code}", *STAFF, path=f"/jabatan/{lurah}"),
        row("PATCH /jabatan/{code}", "admin", path=f"/jabatan/{lurah}", body={}),
        row(
            "PUT /jabatan/{code}/standards/{competency_code}",
            "admin",
            path=f"/jabatan/{lurah}/standards/T.X",
            body={},
        ),
        row(
            "DELETE /jabatan/{code}/standards/{competency_code}",
            "admin",
            path=f"/jabatan/{lurah}/standards/T.X",
        ),
        row("GET /employees", *HR),
        row(
            "GET /employees",
            "admin",
            path=f"/employees?unit={outside}",
            note="filtered on a unit outside the operator's",
        ),
        row("POST /employees", *HR, body=new_employee),
        row(
            "POST /employees",
            "admin",
            body={**new_employee, "nip": "199001012020122002", "unit_code": outside},
            note="into a unit outside the operator's",
        ),
        row("GET /employees/{nip}", *STAFF, path=f"/employees/{own['nip']}"),
        row(
            "GET /employees/{nip}",
            "admin",
            path=f"/employees/{other['nip']}",
            note="another unit's employee",
        ),
        row("PATCH /employees/{nip}", *HR, path=f"/employees/{own['nip']}", body={}),
        row(
            "PATCH /employees/{nip}",
            "admin",
            path=f"/employees/{other['nip']}",
            body={},
            note="another unit's employee",
        ),
        row(
            "PATCH /employees/{nip}",
            "admin",
            path=f"/employees/{own['mover']}",
            body={"unit_code": outside},
            note="moved out of the operator's units",
        ),
        row("GET /employees/{nip}/profile", *STAFF, path=f"/employees/{own['nip']}/profile"),
        row(
            "GET /employees/{nip}/profile",
            "admin",
            path=f"/employees/{other['nip']}/profile",
            note="another unit's employee",
        ),
        row("GET /assessments", *STAFF),
        row(
            "GET /assessments",
            *HR,
            path=f"/assessments?nip={other['nip']}",
            note="another employee's, by NIP: the operator's list stays narrowed",
        ),
        row(
            "GET /assessments",
            "admin",
            "employee",
            path=f"/assessments?unit={outside}",
            note="a unit outside the operator's; an employee's list stays narrowed",
        ),
        row("POST /assessments", *HR, body={**assessment, "nip": own["nip"]}),
        row(
            "POST /assessments",
            "admin",
            body={**assessment, "nip": other["nip"]},
            note="another unit's employee",
        ),
        row("GET /assessments/{assessment_id}", *STAFF, path=f"/assessments/{own_assessment}"),
        row(
            "GET /assessments/{assessment_id}",
            "admin",
            path=f"/assessments/{other_assessment}",
            note="another unit's employee",
        ),
        row("POST /assessment-imports", "admin", body={}),
    ]


def test_every_route_and_role_is_allowed_or_forbidden_as_the_table_says(service, api, org, h):
    outside = api.unit(org["city"], kind="opd")
    own = api.employee(org["kelurahan"], org["lurah"]["code"])
    own["mover"] = api.employee(org["kelurahan"], org["lurah"]["code"])["nip"]
    other = api.employee(outside, api.jabatan(outside)["code"])
    own_assessment = api.assess(own["nip"], h.levels(2)).json()["id"]
    other_assessment = api.assess(other["nip"], h.levels(2)).json()["id"]
    rows = table(org, own, other, own_assessment, other_assessment)
    callers = Callers(unit=org["kecamatan"], nip=own["nip"], agency="bps-sumsel")
    check_table(service.url, rows, callers)


def test_operators_and_employees_see_only_their_part_of_the_lists(service, api, org, h):
    outside = api.unit(org["city"], kind="opd")
    own = api.employee(org["kelurahan"], org["lurah"]["code"])
    neighbour = api.employee(org["kelurahan"], org["lurah"]["code"])
    other = api.employee(outside, api.jabatan(outside)["code"])
    for employee in (own, neighbour, other):
        api.assess(employee["nip"], h.levels(2))
    callers = Callers(unit=org["kecamatan"], nip=own["nip"], agency="bps-sumsel")

    def nips(role: str, path: str) -> set[str]:
        answer = admin_http.get(
            f"{service.url}{path}", headers=callers.headers[role], params={"per_page": 500}
        )
        assert answer.status_code == 200, answer.text
        return {item["nip"] for item in answer.json()["items"]}

    assert nips("operator", "/employees") >= {own["nip"], neighbour["nip"]}
    assert other["nip"] not in nips("operator", "/employees")
    assert other["nip"] not in nips("operator", "/assessments")
    assert nips("employee", "/assessments") == {own["nip"]}
    assert other["nip"] in nips("admin", "/employees")
