"""The HTTP API and the events it causes, against a running service, PostgreSQL and RabbitMQ."""

import json
from datetime import date, timedelta
from uuid import UUID

from cloudevents.core.formats.json import JSONFormat

from asn_testkit import openapi

PROBLEM_JSON = "application/problem+json"


def test_a_new_jabatan_takes_the_grade_defaults_and_every_cell_can_change(api, org):
    standard = {c["competency_code"]: c["required_level"] for c in org["lurah"]["standards"]}
    assert standard == dict.fromkeys(standard, 2) and len(standard) == 9  # pengawas: all 2

    nurse = api.jabatan(org["kelurahan"], "fungsional", "terampil", standards={"M.06": 2})
    levels = {c["competency_code"]: c["required_level"] for c in nurse["standards"]}
    assert (levels["M.01"], levels["M.02"], levels["M.03"], levels["M.05"]) == (2, 2, 1, 1)
    assert levels["M.06"] == 2  # overridden at creation

    technical = api.post(
        "/competencies",
        json={
            "code": "T.KEP.01",
            "name": "Asuhan Keperawatan",
            "levels": [{"level": 1, "description": "Memahami prosedur dasar asuhan."}],
        },
    ).json()
    assert technical["kind"] == "teknis"
    assert technical["levels"][0]["label"] == "Paham / Dalam Pengembangan"
    code = nurse["code"]
    api.put(f"/jabatan/{code}/standards/M.03", json={"required_level": 3})
    changed = api.put(f"/jabatan/{code}/standards/T.KEP.01", json={"required_level": 2}).json()
    cells = {c["competency_code"]: c["required_level"] for c in changed["standards"]}
    assert cells["M.03"] == 3 and cells["T.KEP.01"] == 2 and len(cells) == 10
    removed = api.call("DELETE", f"/jabatan/{code}/standards/T.KEP.01", 200).json()
    assert "T.KEP.01" not in {c["competency_code"] for c in removed["standards"]}
    refused = api.call("DELETE", f"/jabatan/{code}/standards/M.01", 422)
    assert refused.headers["Content-Type"] == PROBLEM_JSON

    edited = api.put(
        "/grade-defaults",
        json={"kind": "administrator", "competency_code": "M.08", "level": 4},
    ).json()
    assert edited["level"] == 4
    camat = api.jabatan(org["kecamatan"], "administrator")
    camat_levels = {c["competency_code"]: c["required_level"] for c in camat["standards"]}
    assert camat_levels["M.08"] == 4 and camat_levels["M.01"] == 3
    missing_grade = api.post("/jabatan", 400, json={**_jabatan_body(org), "kind": "fungsional"})
    assert "grade" in missing_grade.json()["errors"]


def _jabatan_body(org):
    return {"code": "JF-NO-GRADE", "name": "Tanpa jenjang", "unit_code": org["kelurahan"]}


def test_dictionary_is_seeded_in_indonesian_with_level_labels(api):
    page = api.get("/competencies", params={"kind": "manajerial"}).json()
    assert page["total"] == 8
    assert [c["code"] for c in page["items"]] == [f"M.0{i}" for i in range(1, 9)]
    integritas = api.get("/competencies/M.01").json()
    assert integritas["name"] == "Integritas"
    assert [level["level"] for level in integritas["levels"]] == [1, 2, 3, 4, 5]
    assert integritas["levels"][2]["label"] == "Menengah"
    assert "nilai" in integritas["levels"][0]["description"]
    assert api.get("/competencies/SK.01").json()["name"] == "Perekat Bangsa"
    assert api.get("/levels").json()[0]["label"].startswith("Paham")
    managerial = {"code": "M.09", "name": "x", "kind": "manajerial"}
    assert list(api.post("/competencies", 400, json=managerial).json()["errors"]) == ["kind"]


def test_employees_are_announced_with_a_version_that_grows_with_each_change(api, org, listen, h):
    events = listen("employee.*")
    boss = api.employee(org["kecamatan"], None, name="Camat", language="id")
    nip = h.new_nip(sex=2)
    created = api.employee(
        org["kelurahan"],
        org["lurah"]["code"],
        nip=f"{nip[:8]} {nip[8:14]} {nip[14]} {nip[15:]}",
        name="Siti Aminah",
        golongan="III/c",
        phone="+62 711 123456",
        supervisor_nip=boss["nip"],
    )
    assert created["nip"] == nip and created["sex"] == "P" and created["version"] == 1
    api.patch(f"/employees/{nip}", json={"phone": "0711 654321"})
    unchanged = api.patch(f"/employees/{nip}", json={"phone": "0711 654321"}).json()
    assert unchanged["version"] == 2  # nothing changed: no new version, no event
    api.patch(f"/employees/{nip}", json={"language": "en", "golongan": "III/d"})

    def about_her(body: dict) -> bool:
        return body["subject"] == nip

    events.until(lambda: len(events.matching(about_her)) >= 3)
    taken = events.matching(about_her)
    assert [body["type"].rsplit(".", 2)[-2] for body in taken] == [
        "registered",
        "updated",
        "updated",
    ]
    first, second, third = (body["data"] for body in taken)
    assert first == {
        "nip": nip,
        "name": "Siti Aminah",
        "sex": "P",
        "golongan": "III/c",
        "unit": {
            "code": org["kelurahan"],
            "name": f"Unit {org['kelurahan']}",
            "parent_code": org["kecamatan"],
        },
        "jabatan": {
            "code": org["lurah"]["code"],
            "name": org["lurah"]["name"],
            "kind": "pengawas",
            "grade": None,
        },
        "email": "pegawai@example.go.id",
        "phone": "+62 711 123456",
        "supervisor_nip": boss["nip"],
        "language": "id",
        "version": 1,
    }
    assert (second["version"], second["phone"]) == (2, "0711 654321")
    assert (third["version"], third["language"], third["golongan"]) == (3, "en", "III/d")
    events.settle(1.0)
    assert len(events.matching(about_her)) == 3  # nothing more about her
    assert api.get(f"/employees/{nip}").json()["version"] == 3


def test_a_bad_nip_is_a_400_problem_naming_the_field_the_reason_and_a_stable_code(api, org):
    next_month = date.today().replace(day=28) + timedelta(days=4)
    cases = {
        "19860926201505100": ("18 digit", "nip.length"),
        "\u0661\u0669\u0668\u0666" + "09262015051001": ("angka 0-9", "nip.digits"),
        "198613262015051001": ("Tanggal lahir", "nip.birth_date"),
        "198609262015131001": ("Bulan pengangkatan", "nip.appointment"),
        "198609262004081001": ("ulang tahun ke-18", "nip.appointment"),
        f"19860926{next_month:%Y%m}1001": ("masa depan", "nip.appointment"),
        "198609262015053001": ("jenis kelamin", "nip.sex"),
        "198609262015051000": ("000", "nip.serial"),
    }
    for nip, (reason, code) in cases.items():
        body = {"nip": nip, "name": "Salah", "unit_code": org["kelurahan"]}
        response = api.post("/employees", 400, json=body)
        assert response.headers["Content-Type"] == PROBLEM_JSON
        problem = response.json()
        assert problem["status"] == 400 and list(problem["errors"]) == ["nip"]
        assert any(reason in message for message in problem["errors"]["nip"]), problem
        assert problem["error_codes"] == {"nip": [code]}, problem
        api.get(f"/employees/{nip}", 404)

    good = {"nip": "198609262015051001", "name": "X", "unit_code": "NO-SUCH-UNIT"}
    unknown_unit = api.post("/employees", 422, json=good).json()
    assert list(unknown_unit["errors"]) == ["unit_code"]
    wrong_sex = api.post("/employees", 400, json={**good, "unit_code": org["city"], "sex": "P"})
    assert list(wrong_sex.json()["errors"]) == ["sex"]
    bad_supervisor = {**good, "unit_code": org["city"], "supervisor_nip": "1986"}
    assert "supervisor_nip" in api.post("/employees", 400, json=bad_supervisor).json()["errors"]


def test_an_assessment_posted_over_http_is_announced_once_with_all_a_consumer_needs(
    api, org, listen, h
):
    events = listen("assessment.recorded")
    person = api.employee(org["kelurahan"], org["lurah"]["code"])
    nip = person["nip"]
    achieved = h.levels(2, {"M.03": 1.5, "M.07": 1, "SK.01": "3,5"})
    recorded = api.assess(nip, achieved, assessed_on="2026-02-10").json()
    # capped: (6 * 2 + 1.5 + 1 + 2 [3.5 capped at 2]) / 18 = 16.5 / 18
    assert recorded["jpm"] == 91.67 and recorded["jpm_method"] == "capped"
    assert recorded["category"] == {
        "scheme": "memenuhi_syarat",
        "code": "MS",
        "label": "Memenuhi Syarat",
    }

    def this_one(body: dict) -> bool:
        return body["data"]["assessment_id"] == recorded["id"]

    events.until(lambda: events.matching(this_one))
    [message] = [m for m in events.messages if this_one(json.loads(m.body))]
    event = JSONFormat().read(None, message.body)  # the CloudEvents SDK accepts it
    assert event.get_type() == "id.kompasasn.competency.assessment.recorded.v1"
    assert event.get_source() == "urn:kompasasn:competency"
    assert event.get_specversion() == "1.0"
    assert event.get_id() == message.properties["message_id"]
    assert message.properties["type"] == event.get_type()
    assert message.content_type == "application/cloudevents+json"
    assert event.get_subject() == nip
    data = event.get_data()
    assert data["assessment_id"] == recorded["id"] and data["supersedes"] is None
    assert data["employee"]["nip"] == nip and data["employee"]["version"] == 1
    assert data["employee"]["unit"]["code"] == org["kelurahan"]
    assert data["employee"]["email"] == "pegawai@example.go.id"
    assert data["jabatan"] == {
        "code": org["lurah"]["code"],
        "name": org["lurah"]["name"],
        "kind": "pengawas",
        "grade": None,
    }
    assert (data["assessed_on"], data["method"]) == ("2026-02-10", "assessment_centre")
    results = {r["competency_code"]: r for r in data["results"]}
    assert set(results) == set(h.managerial)
    assert results["M.03"] == {
        "competency_code": "M.03",
        "competency_name": "Komunikasi",
        "kind": "manajerial",
        "required_level": 2,
        "achieved_level": 1.5,
        "gap": -0.5,
    }
    assert results["SK.01"]["gap"] == 1.5 and results["SK.01"]["kind"] == "sosial_kultural"
    assert (data["jpm"], data["jpm_method"], data["current"]) == (91.67, "capped", True)
    assert data["category"]["code"] == "MS"
    events.settle(1.0)
    assert len(events.matching(this_one)) == 1  # announced once

    def hers(body: dict) -> bool:
        return body["data"]["employee"]["nip"] == nip

    announced_before = len(events.matching(hers))

    again = api.assess(nip, achieved, expect=409, assessed_on="2026-02-10").json()
    assert again["assessment_id"] == recorded["id"]

    # a re-assessment supersedes the previous one; an older result arriving late does not
    newer = api.assess(nip, h.levels(1), assessed_on="2026-06-01", method="test").json()
    older = api.assess(nip, h.levels(3), assessed_on="2025-01-15", method="360").json()
    assert newer["supersedes"] == recorded["id"] and newer["category"]["code"] == "KMS"
    assert older["current"] is False and older["superseded_by"] == newer["id"]
    assert api.get(f"/assessments/{recorded['id']}").json()["superseded_by"] == newer["id"]
    events.until(lambda: len(events.matching(hers)) >= announced_before + 2)
    late = events.matching(hers)[announced_before:]
    by_id = {b["data"]["assessment_id"]: b["data"] for b in late}
    assert by_id[newer["id"]]["supersedes"] == recorded["id"]
    assert by_id[older["id"]]["current"] is False


def test_an_assessment_that_does_not_fit_the_standard_is_refused_naming_each_competency(
    api, org, h
):
    person = api.employee(org["kelurahan"], org["lurah"]["code"])
    bad_level = api.assess(person["nip"], h.levels(2, {"M.01": 5.5}), expect=400).json()
    assert list(bad_level["errors"]) == ["levels"] and "M.01" in bad_level["errors"]["levels"]
    partial = {"M.01": 2, "T.XX": 3}
    refused = api.assess(person["nip"], partial, expect=422).json()
    assert "wajib" in refused["errors"]["levels"]["M.02"][0]
    assert "tidak termasuk standar" in refused["errors"]["levels"]["T.XX"][0]
    unknown = api.assess(h.new_nip(), h.levels(), expect=422).json()
    assert list(unknown["errors"]) == ["nip"]
    future = api.assess(person["nip"], h.levels(), expect=422, assessed_on="2999-01-01").json()
    assert list(future["errors"]) == ["assessed_on"]
    assert api.get("/assessments", params={"nip": person["nip"]}).json()["total"] == 0


def test_profile_shows_standard_latest_gaps_and_jpm_history(api, org, h):
    person = api.employee(org["kelurahan"], org["lurah"]["code"])
    nip = person["nip"]
    api.assess(nip, h.levels(1.5), assessed_on="2025-05-01")
    latest = api.assess(nip, h.levels(2, {"M.08": 1}), assessed_on="2026-05-01").json()

    profile = api.get(f"/employees/{nip}/profile").json()
    assert profile["employee"]["nip"] == nip
    assert profile["jabatan"]["code"] == org["lurah"]["code"]
    assert len(profile["jabatan"]["standards"]) == 9
    assert profile["latest_assessment"]["id"] == latest["id"]
    gaps = {r["competency_code"]: r["gap"] for r in profile["latest_assessment"]["results"]}
    assert gaps["M.08"] == -1.0 and gaps["M.01"] == 0.0
    history = profile["jpm_history"]
    assert [(e["assessed_on"], e["jpm"], e["current"]) for e in history] == [
        ("2025-05-01", 75.0, False),
        ("2026-05-01", 94.44, True),
    ]
    assert history[0]["category"]["code"] == "MMS"
    assert profile["development"] == {"activities": [], "jp_per_year": []}


def test_lists_are_paginated_and_filter_by_unit_jabatan_and_category(api, org, h):
    staff = org["kecamatan"]
    sekcam = api.jabatan(staff, "administrator")["code"]
    people = [api.employee(staff, sekcam) for _ in range(3)]
    people.append(api.employee(org["kelurahan"], org["lurah"]["code"]))
    api.assess(people[0]["nip"], h.levels(3))
    api.assess(people[1]["nip"], h.levels(1))
    api.assess(people[3]["nip"], h.levels(1))

    def nips(path, **params):
        return {item["nip"] for item in api.get(path, params=params).json()["items"]}

    assert nips("/employees", unit=staff) == {p["nip"] for p in people[:3]}
    assert nips("/employees", unit=staff, include_sub_units=True) == {p["nip"] for p in people}
    assert nips("/employees", jabatan=sekcam, category="KMS") == {people[1]["nip"]}
    assert nips("/employees", unit=org["city"], include_sub_units=True, category="KMS") == {
        people[1]["nip"],
        people[3]["nip"],
    }
    assert nips("/assessments", unit=staff, category="MS") == {people[0]["nip"]}
    page = api.get("/employees", params={"unit": staff, "per_page": 2, "page": 2}).json()
    assert (page["total"], page["page"], page["per_page"], len(page["items"])) == (3, 2, 2, 1)
    jabatan = api.get("/jabatan", params={"unit": staff, "kind": "administrator"}).json()
    assert [item["code"] for item in jabatan["items"]] == [sekcam]
    units = api.get("/units", params={"parent_code": org["city"]}).json()
    assert [item["code"] for item in units["items"]] == [org["kecamatan"]]
    bad = api.get("/employees", 400, params={"per_page": 0}).json()
    assert list(bad["errors"]) == ["per_page"]


def test_unit_gap_report_covers_the_unit_and_its_sub_units(api, h):
    city = api.unit(kind="pemda")
    kecamatan = api.unit(city, kind="kecamatan")
    kelurahan = api.unit(kecamatan, kind="kelurahan")
    elsewhere = api.unit(city, kind="kecamatan")
    camat = api.jabatan(kecamatan, "administrator")["code"]  # requires 3 everywhere
    lurah = api.jabatan(kelurahan, "pengawas")["code"]  # requires 2 everywhere
    a = api.employee(kecamatan, camat)["nip"]
    b = api.employee(kelurahan, lurah)["nip"]
    api.employee(kelurahan, lurah)  # not assessed
    c = api.employee(elsewhere, lurah)["nip"]  # outside the kecamatan
    api.assess(a, h.levels(3, {"M.01": 2, "M.02": 1.5}))  # gaps -1, -1.5 → JPM 87.04
    api.assess(b, h.levels(2, {"M.01": 1}))  # gap -1 → JPM 94.44
    api.assess(c, h.levels(1))
    d = api.employee(elsewhere, lurah)["nip"]  # outside too, assessed the year before
    api.assess(d, h.levels(2), assessed_on="2025-11-20")

    report = api.get(f"/units/{kecamatan}/gap-report").json()
    assert report["units"] == sorted([kecamatan, kelurahan])
    assert (report["employees"], report["assessed"]) == (3, 2)
    assert (report["year"], report["assessed_in_year"]) == (None, None)
    rows = {row["competency_code"]: row for row in report["competencies"]}
    assert (rows["M.01"]["assessed"], rows["M.01"]["below_standard"]) == (2, 2)
    assert rows["M.01"]["mean_gap"] == -1.0
    assert (rows["M.02"]["below_standard"], rows["M.02"]["mean_gap"]) == (1, -0.75)
    assert (rows["M.05"]["below_standard"], rows["M.05"]["mean_gap"]) == (0, 0.0)
    assert report["categories"] == [
        {"scheme": "memenuhi_syarat", "code": "MS", "label": "Memenuhi Syarat", "employees": 2}
    ]
    only = api.get(f"/units/{kecamatan}/gap-report", params={"include_sub_units": "false"})
    assert only.json()["employees"] == 1
    whole = api.get(f"/units/{city}/gap-report").json()
    assert whole["categories"][0]["code"] == "KMS" and whole["assessed"] == 4
    # assessed in a year: those whose current assessment is dated in it
    for year, counted in ((2026, 3), (2025, 1), (2024, 0)):
        in_year = api.get(f"/units/{city}/gap-report", params={"year": year}).json()
        assert (in_year["year"], in_year["assessed_in_year"]) == (year, counted)
    api.get(f"/units/{city}/gap-report", 400, params={"year": 1900})
    api.get("/units/NOWHERE/gap-report", 404)


def test_openapi_document_is_valid_and_documents_every_route(api):
    document = openapi.document(api.url)
    for path in (
        "/employees",
        "/employees/{nip}/profile",
        "/assessments",
        "/assessment-imports",
        "/units/{code}/gap-report",
        "/jabatan/{code}/standards/{competency_code}",
    ):
        assert path in document["paths"], path
    schema = openapi.request_schema(document, "/assessments")
    assert set(schema["required"]) == {"nip", "assessed_on", "method", "levels"}
    assert UUID(api.get("/health").headers["X-Correlation-ID"])


def test_units_are_announced_when_added_and_when_moved(api, listen):
    events = listen("unit.*")
    city = api.unit(kind="pemda")
    kecamatan = api.unit(city, kind="kecamatan")
    other = api.unit(city, kind="kecamatan")
    api.patch(f"/units/{kecamatan}", json={"parent_code": other, "name": "Kecamatan Plaju"})

    def about(code: str):
        return lambda body: body["subject"] == code

    events.until(lambda: len(events.matching(about(kecamatan))) >= 2)
    registered, moved = events.matching(about(kecamatan))
    assert registered["type"].endswith("unit.registered.v1")
    assert registered["data"]["parent_code"] == city
    assert registered["data"]["kind"] == "kecamatan"
    assert moved["type"].endswith("unit.updated.v1")
    assert moved["data"]["parent_code"] == other and moved["data"]["name"] == "Kecamatan Plaju"
    assert moved["data"]["changed_at"] > registered["data"]["changed_at"]

    assert api.post("/units/announcements", 202).json()["announced"] >= 3
    events.until(lambda: len(events.matching(about(city))) >= 2)
    first, again = events.matching(about(city))
    assert again["type"].endswith("unit.updated.v1") and again["data"] == first["data"]
