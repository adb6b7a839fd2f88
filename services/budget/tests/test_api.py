"""The HTTP API against a real ``nameko run`` process, PostgreSQL and RabbitMQ."""

from sqlalchemy import text

from asn_shared.persistence import make_engine
from asn_testkit import openapi
from asn_testkit.auth import admin_http

YEAR = 2026
JUTA = 1_000_000
VALID = {
    "unit_code": "KEC-PLAJU",
    "unit_name": "Kecamatan Plaju",
    "fiscal_year": YEAR,
    "amount_rupiah": 100 * JUTA,
    "sub_activity_code": "x.xx.01.2.05.0009",
    "sub_activity_name": "Pendidikan dan Pelatihan Pegawai Berdasarkan Tugas dan Fungsi",
    "account_code": "5.1.02.02.12.0001",
    "account_name": "Belanja Kursus Singkat/Pelatihan",
    "reference": "DPA-SKPD 2026",
}


def problem(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/problem+json")
    return response.json()


def test_allocations_amendments_position_ledger_and_report(start_budget, ledger_sums):
    (service,) = start_budget()
    url = service.url

    created = admin_http.post(f"{url}/allocations", json=VALID, timeout=10)
    assert created.status_code == 201, created.text
    position = created.json()
    assert position["sub_activity_code"] == "x.xx.01.2.05.0009"
    assert position["account_code"] == "5.1.02.02.12.0001"
    assert (position["allocated_rupiah"], position["available_rupiah"]) == (100 * JUTA, 100 * JUTA)
    assert (position["reserved_rupiah"], position["spent_rupiah"]) == (0, 0)

    again = problem(admin_http.post(f"{url}/allocations", json=VALID, timeout=10), 409)
    assert "amendment" in again["detail"]

    for body in (
        {"allocated_rupiah": 120 * JUTA, "reference": "DPPA 2026"},
        {"allocated_rupiah": 90 * JUTA, "note": "refocusing"},
    ):
        amended = admin_http.post(f"{url}/allocations/KEC-PLAJU/{YEAR}/amendments", json=body)
        assert amended.status_code == 201, amended.text
    assert amended.json()["allocated_rupiah"] == 90 * JUTA
    assert ledger_sums("KEC-PLAJU") == {"allocated": 90 * JUTA, "reserved": 0, "spent": 0}

    unchanged = admin_http.post(
        f"{url}/allocations/KEC-PLAJU/{YEAR}/amendments", json={"allocated_rupiah": 90 * JUTA}
    )
    assert problem(unchanged, 422)["status"] == 422
    nowhere = admin_http.post(
        f"{url}/allocations/NOWHERE/{YEAR}/amendments", json={"allocated_rupiah": JUTA}
    )
    assert "NOWHERE" in problem(nowhere, 404)["detail"]
    assert problem(admin_http.get(f"{url}/allocations/NOWHERE/{YEAR}"), 404)

    other = {**VALID, "unit_code": "KEL-BAGUS-KUNING", "unit_name": "Kelurahan Bagus Kuning"}
    assert admin_http.post(f"{url}/allocations", json={**other, "amount_rupiah": 7 * JUTA}).ok
    assert admin_http.post(f"{url}/allocations", json={**other, "fiscal_year": 2027}).ok

    position = admin_http.get(f"{url}/allocations/KEC-PLAJU/{YEAR}").json()
    assert position["allocated_rupiah"] == 90 * JUTA and position["thresholds_reached"] == []

    listed = admin_http.get(f"{url}/allocations", params={"fiscal_year": YEAR}).json()
    assert listed["total"] == 2
    assert [a["unit_code"] for a in listed["items"]] == ["KEC-PLAJU", "KEL-BAGUS-KUNING"]

    ledger = admin_http.get(
        f"{url}/ledger", params={"unit_code": "KEC-PLAJU", "fiscal_year": YEAR, "per_page": 2}
    ).json()
    assert ledger["total"] == 3 and len(ledger["items"]) == 2
    first, second = ledger["items"]
    assert (first["kind"], first["amount_rupiah"], first["allocated_delta"]) == (
        "allocation",
        100 * JUTA,
        100 * JUTA,
    )
    assert first["reference"] == "DPA-SKPD 2026"
    assert (second["kind"], second["allocated_delta"]) == ("amendment", 20 * JUTA)
    page_two = admin_http.get(
        f"{url}/ledger", params={"unit_code": "KEC-PLAJU", "per_page": 2, "page": 2}
    ).json()
    assert [(e["kind"], e["allocated_delta"]) for e in page_two["items"]] == [
        ("amendment", -30 * JUTA)
    ]
    amendments = admin_http.get(f"{url}/ledger", params={"kind": "amendment"}).json()
    assert amendments["total"] == 2
    assert problem(admin_http.get(f"{url}/ledger", params={"kind": "gift"}), 400)["errors"] == {
        "kind": ["Must be one of: allocation, amendment, reservation, release, spend."]
    }

    report = admin_http.get(f"{url}/reports/utilisation", params={"fiscal_year": YEAR}).json()
    assert [unit["unit_code"] for unit in report["units"]] == ["KEC-PLAJU", "KEL-BAGUS-KUNING"]
    assert report["totals"]["allocated_rupiah"] == 97 * JUTA
    assert report["totals"]["available_rupiah"] == 97 * JUTA
    assert "fiscal_year" in problem(admin_http.get(f"{url}/reports/utilisation"), 400)["errors"]


def test_bad_amounts_get_a_400_naming_the_field_and_store_nothing(start_budget, budget_db):
    (service,) = start_budget()
    url = service.url
    for amount in (0, -5, 1.5, "100", True, None, 10**16):
        response = admin_http.post(f"{url}/allocations", json={**VALID, "amount_rupiah": amount})
        errors = problem(response, 400)["errors"]
        assert list(errors) == ["amount_rupiah"], (amount, errors)
        assert "rupiah" in errors["amount_rupiah"][0]

    missing = {k: v for k, v in VALID.items() if k not in ("account_code", "fiscal_year")}
    errors = problem(admin_http.post(f"{url}/allocations", json=missing), 400)["errors"]
    assert set(errors) == {"account_code", "fiscal_year"}
    bad_code = {**VALID, "sub_activity_code": "5.1 02"}
    assert (
        "sub_activity_code"
        in problem(admin_http.post(f"{url}/allocations", json=bad_code), 400)["errors"]
    )

    assert admin_http.post(f"{url}/allocations", json=VALID).status_code == 201
    for amount in (0, 2.5, "120000000"):
        response = admin_http.post(
            f"{url}/allocations/KEC-PLAJU/{YEAR}/amendments", json={"allocated_rupiah": amount}
        )
        assert list(problem(response, 400)["errors"]) == ["allocated_rupiah"]

    engine = make_engine(budget_db, pool_size=1)
    try:
        with engine.connect() as connection:
            assert connection.scalar(text("SELECT count(*) FROM ledger_entries")) == 1
    finally:
        engine.dispose()


def test_the_ledger_refuses_updates_and_deletes(budget_db, start_budget, allocate):
    (service,) = start_budget()
    allocate(service.url, "KEC-PLAJU", 10 * JUTA)
    engine = make_engine(budget_db, pool_size=1)
    try:
        for statement in (
            "UPDATE ledger_entries SET amount_rupiah = 1",
            "DELETE FROM ledger_entries",
        ):
            with engine.connect() as connection:
                try:
                    connection.execute(text(statement))
                except Exception as exc:  # noqa: BLE001 - the trigger's refusal is the point
                    assert "append-only" in str(exc)
                else:
                    raise AssertionError(f"{statement} was allowed")
    finally:
        engine.dispose()


def test_openapi_documents_every_route_with_its_schemas(start_budget):
    (service,) = start_budget()
    document = openapi.document(service.url)
    assert {
        "/allocations",
        "/allocations/{unit_code}/{fiscal_year}",
        "/allocations/{unit_code}/{fiscal_year}/amendments",
        "/ledger",
        "/reports/utilisation",
        "/proposals/{proposal_id}",
    } <= set(document["paths"])
    post = document["paths"]["/allocations"]["post"]
    schema = openapi.request_schema(document, "/allocations")
    assert {"unit_code", "fiscal_year", "amount_rupiah", "sub_activity_code", "account_code"} <= (
        set(schema["required"])
    )
    assert schema["properties"]["amount_rupiah"]["type"] == "integer"
    assert "201" in post["responses"]
