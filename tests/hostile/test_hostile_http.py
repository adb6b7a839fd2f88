"""Hostile HTTP requests: oversized bodies, wrong content types, unknown fields, SQL-looking
strings, bytes that are not UTF-8 and a 10 MB file to the assessment import.

Each answer must be a problem+json naming what is wrong; afterwards nothing is stored that
should not be (counted through the API) and the service still answers ``/health`` and an
ordinary request.
"""

from __future__ import annotations

import json
import time
import uuid

import pytest

from asn_testkit.waiting import wait_for

MiB = 1024 * 1024
JSON_HEADER = {"Content-Type": "application/json"}
SQL = "x'); DROP TABLE employees; --"
TAUTOLOGY = "' OR '1'='1"
MANAGERIAL = ["M.01", "M.02", "M.03", "M.04", "M.05", "M.06", "M.07", "M.08", "SK.01"]
NIP = "198609262015052001"


def code(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8].upper()}"


def unit_body(**fields) -> dict:
    unit = code("KEL")
    return {"code": unit, "name": f"Kelurahan {unit}", "kind": "kelurahan", **fields}


def allocation_body(**fields) -> dict:
    return {
        "unit_code": code("KEL"),
        "unit_name": "Kelurahan Plaju Ulu",
        "fiscal_year": 2026,
        "amount_rupiah": 50_000_000,
        "sub_activity_code": "x.xx.01.2.05.0009",
        "account_code": "5.1.02.02.12.0001",
        **fields,
    }


def programme_body(**fields) -> dict:
    return {
        "code": code("PRG"),
        "title": "Pelatihan Kepemimpinan Pengawas",
        "form": "klasikal",
        "activity": "pelatihan_manajerial",
        "cost_rupiah": 5_260_000,
        "competencies": [{"competency_code": "M.03", "level": 3}],
        **fields,
    }


def official_body(**fields) -> dict:
    return {"role": "bkpsdm_admin", "name": "Admin BKPSDM", "email": "admin@bkpsdm.test", **fields}


# service: (path, a valid body, one of its free-text fields, the list that would grow)
CREATES = {
    "competency": ("/units", unit_body, "name", "/units"),
    "budget": ("/allocations", allocation_body, "unit_name", "/allocations"),
    "training": ("/programmes", programme_body, "title", "/programmes"),
    "notification": ("/officials", official_body, "name", "/officials"),
}


@pytest.fixture(params=sorted(CREATES))
def create(request, apis):
    """One service's create endpoint, its list, and a check that the list did not grow."""
    service = request.param
    path, body, text_field, listing = CREATES[service]
    api = apis[service]
    before = api.total(listing)

    class Create:
        name, field = service, text_field

        def body(self, text: str | None = None, **fields) -> dict:
            return body(**fields) if text is None else body(**{text_field: text, **fields})

        def post(self, **kwargs):
            return api.call("POST", path, **kwargs)

        def nothing_stored(self) -> None:
            assert api.total(listing) == before
            api.serving()

    return Create()


def test_a_json_body_over_1_mib_is_refused_with_413_naming_the_limit(create, problem):
    refused = create.post(json=create.body("A" * (MiB + 10)))
    assert problem(refused, 413, "1 MiB")["limit_bytes"] == MiB
    create.nothing_stored()


def test_a_body_over_8_mib_is_refused_before_any_parsing(create, problem):
    started = time.monotonic()
    refused = create.post(data=b"{" + b" " * (20 * MiB) + b"}", headers=JSON_HEADER)
    problem(refused, 413, "8 MiB")
    assert time.monotonic() - started < 30
    create.nothing_stored()


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "application/xml", "text/csv", None],
)
def test_a_body_of_another_content_type_is_refused_naming_the_expected_one(
    create, problem, content_type
):
    body = json.dumps(create.body()).encode()
    headers = {"Content-Type": content_type} if content_type else {}
    refused = create.post(data=body, headers=headers)
    named = [content_type] if content_type else []  # none: the WSGI server says text/plain
    problem(refused, 400, "Content-Type must be application/json", *named)
    create.nothing_stored()


def test_a_multipart_form_to_a_json_endpoint_is_refused(create, problem):
    refused = create.post(files={"file": ("body.json", json.dumps(create.body()))})
    problem(refused, 400, "Content-Type must be application/json", "multipart/form-data")
    create.nothing_stored()


def test_unknown_fields_are_refused_naming_each_one(create, problem):
    refused = create.post(json=create.body(is_admin=True, **{"'; DROP TABLE x; --": 1}))
    found = problem(refused, 400, "is_admin")
    assert found["errors"]["is_admin"] == ["Unknown field."]
    assert found["errors"]["'; DROP TABLE x; --"] == ["Unknown field."]
    create.nothing_stored()


@pytest.mark.parametrize(
    "raw, named",
    [
        (b'{"name": "Sit\xff\xfe"}', ["not valid JSON", "utf-8"]),  # not UTF-8 at all
        (b'{"name": "Sit\xe9"}', ["not valid JSON", "utf-8"]),  # Latin-1, an old spreadsheet's
        (b'{"name": "\xed\xa0\x80"}', ["name", "surrogate"]),  # an encoded lone surrogate
    ],
    ids=["binary", "latin-1", "encoded-surrogate"],
)
def test_a_json_body_that_is_not_utf8_is_refused(create, problem, raw, named):
    refused = create.post(data=raw, headers=JSON_HEADER)
    problem(refused, 400, *named)
    create.nothing_stored()


@pytest.mark.parametrize(
    "text, named",
    [("Siti\u0000Rahma", "NUL (U+0000)"), ("Siti\ud800", "surrogate (U+D800)")],
    ids=["nul", "lone-surrogate"],
)
def test_text_no_database_can_hold_is_refused_naming_the_field(create, problem, text, named):
    # both used to reach PostgreSQL (NUL) or the event encoder (surrogate): a 500
    raw = json.dumps(create.body(text)).encode()  # the surrogate travels as "\ud800"
    refused = create.post(data=raw, headers=JSON_HEADER)
    found = problem(refused, 400, named)
    assert list(found["errors"]) == [create.field], found
    create.nothing_stored()


def test_nul_in_a_path_or_query_is_refused_naming_the_parameter(apis, problem):
    competency = apis["competency"]
    problem(competency.get("/units/KEL%00X", expect=None), 400, "code", "NUL")
    problem(competency.get("/employees/%00/profile", expect=None), 400, "nip", "NUL")
    problem(apis["training"].get("/employees/%00/jp", expect=None), 400, "nip", "NUL")
    inbox = apis["notification"].get("/recipients/%00/inbox", expect=None)
    problem(inbox, 400, "recipient", "NUL")
    problem(competency.get("/units?parent_code=%00", expect=None), 400, "parent_code", "NUL")
    for api in apis.values():
        api.serving()


def test_numbers_beyond_what_a_column_holds_are_refused_naming_the_field(apis, problem):
    # each used to reach PostgreSQL and come back as a 500 (integer or bigint out of range)
    problem(apis["competency"].get("/units?page=100000000000000000000", expect=None), 400, "page")
    training = apis["training"]
    before = training.total("/programmes")
    for field, value in (("cost_rupiah", 10**20), ("jp", 2**31)):
        refused = training.post("/programmes", None, json=programme_body(**{field: value}))
        problem(refused, 400, field)
    batch = {"starts_on": "2026-12-01", "ends_on": "2026-12-02", "online": True}
    huge = programme_body(batches=[{**batch, "capacity": 2**31}])
    problem(training.post("/programmes", None, json=huge), 400, "capacity")
    empty = programme_body(activity="")  # stored "" broke a foreign key
    problem(training.post("/programmes", None, json=empty), 400, "activity")
    jp = training.call("PUT", "/activities/kursus", json={"default_jp": 2**31})
    problem(jp, 400, "default_jp")
    assert training.total("/programmes") == before
    training.serving()


def test_sql_looking_text_is_stored_verbatim_and_never_executed(apis):
    competency = apis["competency"]
    unit = competency.post("/units", json=unit_body(name=SQL, kind=TAUTOLOGY)).json()
    assert (unit["name"], unit["kind"]) == (SQL, TAUTOLOGY)
    employees_before = competency.total("/employees")
    nip = wait_for(lambda: free_nip(competency), 10, "a NIP not yet registered")
    employee = competency.post(
        "/employees",
        json={
            "nip": nip,
            "name": SQL,
            "unit_code": unit["code"],
            "jabatan_code": None,
            "email": "bobby@tables.test",
        },
    ).json()
    assert employee["name"] == SQL
    assert competency.get(f"/employees/{nip}").json()["name"] == SQL
    assert competency.total("/employees") == employees_before + 1  # the table is intact
    # as filters they match nothing: they are compared, not run
    for params in ({"unit": TAUTOLOGY}, {"jabatan": TAUTOLOGY}, {"unit": "x' OR 1=1 --"}):
        assert competency.total("/employees", **params) == 0
    assert competency.total("/units", parent_code=TAUTOLOGY) == 0

    budget = apis["budget"]
    allocation = budget.post("/allocations", json=allocation_body(unit_name=SQL, reference=SQL))
    assert allocation.json()["unit_name"] == SQL
    assert budget.total("/allocations", unit_code=TAUTOLOGY) == 0
    assert budget.total("/ledger", unit_code=f"{TAUTOLOGY}; DELETE FROM ledger") == 0
    assert budget.total("/ledger") >= 1

    notification = apis["notification"]
    official = notification.post("/officials", json=official_body(name=SQL)).json()
    assert official["name"] == SQL
    for api in apis.values():
        api.serving()


def free_nip(competency) -> str | None:
    serial = 1 + uuid.uuid4().int % 999
    nip = f"19860926201505{1 + serial % 2}{serial:03d}"
    return nip if competency.get(f"/employees/{nip}", expect=None).status_code == 404 else None


# --- the assessment import --------------------------------------------------------------


HEADER = "nip,assessed_on,method," + ",".join(MANAGERIAL)


def csv_file(nip: str, rows: int = 1) -> bytes:
    row = f"{nip},2026-03-02,assessment_centre," + ",".join(["2"] * len(MANAGERIAL))
    return ("\n".join([HEADER] + [row] * rows) + "\n").encode()


def test_a_10_mb_file_to_the_import_is_refused_with_413_naming_the_limit(apis, problem):
    competency = apis["competency"]
    before = competency.total("/assessments")
    content = csv_file(NIP, rows=10 * MiB // 60)
    assert len(content) > 10 * MiB
    started = time.monotonic()
    raw = competency.post("/assessment-imports", None, data=content)
    problem(raw, 413, "8 MiB")
    files = {"file": ("hasil.csv", content, "text/csv")}
    multipart = competency.post("/assessment-imports", None, files=files)
    problem(multipart, 413, "8 MiB")
    assert time.monotonic() - started < 60
    assert competency.total("/assessments") == before
    competency.serving()


def test_a_file_of_random_bytes_is_refused_whole(apis, problem):
    competency = apis["competency"]
    before = competency.total("/assessments")
    garbage = bytes(range(256)) * 4096  # 1 MiB, every byte value, no header a table has
    problem(competency.post("/assessment-imports", None, data=garbage), 400)
    fake_xlsx = b"PK\x03\x04" + garbage  # looks like a zip, is not one
    problem(competency.post("/assessment-imports", None, data=fake_xlsx), 400, "XLSX")
    assert competency.total("/assessments") == before
    competency.serving()


def test_non_utf8_bytes_in_an_import_are_reported_by_row_and_nothing_is_stored(apis):
    competency = apis["competency"]
    before = competency.total("/assessments")
    levels = b",2" * len(MANAGERIAL)
    content = b"\n".join(
        [
            HEADER.encode(),
            b"19860926\xff\xfe2015052001,2026-03-02,assessment_centre" + levels,
            b"\x81\x8d\x8f\x90\x9d,2026-03-02,assessment_centre" + levels,
            f"{NIP},2026-03-02,assessment_centre".encode() + b",\xe9\xff" * len(MANAGERIAL),
        ]
    )
    report = competency.post("/assessment-imports", 201, data=content).json()
    assert (report["rows"], report["stored"], report["rejected"]) == (3, 0, 3)
    assert [error["column"] for error in report["errors"]][:2] == ["nip", "nip"]
    assert competency.total("/assessments") == before
    competency.serving()


def test_sql_in_an_import_is_a_row_error_and_changes_nothing(apis):
    competency = apis["competency"]
    before = competency.total("/assessments")
    content = csv_file(SQL) + f"{NIP},2026-03-02,{SQL},2;DROP TABLE assessments\n".encode()
    report = competency.post("/assessment-imports", 201, data=content).json()
    assert (report["rows"], report["stored"], report["rejected"]) == (2, 0, 2)
    assert competency.total("/assessments") == before
    competency.serving()
