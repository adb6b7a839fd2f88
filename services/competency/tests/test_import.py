"""Importing an assessment centre's files (CSV, XLSX), over HTTP and with the operator's CLI."""

import io
import os
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import eventlet
import pytest
from openpyxl import Workbook

from asn_testkit import auth

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CLI = Path(sys.executable).parent / "competency-import"


@pytest.fixture
def staff(api, org):
    """Four employees in a kelurahan holding the lurah post, and an administrator post."""
    people = [api.employee(org["kelurahan"], org["lurah"]["code"])["nip"] for _ in range(4)]
    sekcam = api.jabatan(org["kecamatan"], "administrator")["code"]
    return {"nips": people, "lurah": org["lurah"]["code"], "sekcam": sekcam}


def semicolon_csv(staff, h) -> bytes:
    """What a spreadsheet set to Indonesian exports: ';' between cells, ',' in decimals."""
    a, b, c, _ = staff["nips"]
    good = "2;2;2;2;2;2;2;2;2"
    rows = [
        "nip;nama;assessed_on;method;jabatan_code;M.01;M.02;M.03;M.04;M.05;M.06;M.07;M.08;SK.01",
        f"{a};Ani;2026-03-02;assessment_centre;;{good}",  # 2 good
        f"{b};Budi;02/03/2026;Assessment Centre;;3,5;2;1,5;2;2;2;2;2;2",  # 3 good
        f"{a[:-1]};Cici;2026-03-02;test;;{good}",  # 4 NIP of 17 digits
        f"{h.new_nip()};Dodi;2026-03-02;test;;{good}",  # 5 not registered
        f"{c};Eka;2026-03-02;test;;2;2;2;6;2;2;2;2;2",  # 6 level 6
        f"{c};Eka;2026-03-03;test;;2;2;2;2;;2;2;2;2",  # 7 M.05 missing
        f"{c};Eka;31/02/2026;test;;{good}",  # 8 no such date
        f"{c};Eka;2026-03-04;wawancara;;{good}",  # 9 unknown method
        f"{a};Ani;2026-03-02;assessment_centre;;{good}",  # 10 repeats row 2: unchanged
        f"{b};Budi;2026-03-02;assessment_centre;;{good}",  # 11 row 3 with other levels
        f"{c};Eka;2026-03-05;360;{staff['sekcam']};3;3;3;3;3;3;3;3;3",  # 12 good, other post
        f"{c};Eka;2026-03-06;360;NO-SUCH;{good}",  # 13 unknown jabatan
        "",
    ]
    return "\n".join(rows).encode()


EXPECTED_ERRORS = [
    (4, "nip", "18 digit"),
    (5, "nip", "belum terdaftar"),
    (6, "M.04", "Level 6 di luar rentang"),
    (7, "M.05", "wajib diisi"),
    (8, "assessed_on", "tidak dikenali"),
    (9, "method", "wawancara"),
    (11, "M.01", "sudah tercatat di baris 3 dengan level 3.5, bukan 2.0"),
    (13, "jabatan_code", "NO-SUCH"),
]


def assert_errors(errors, expected=EXPECTED_ERRORS):
    assert [(e["row"], e["column"]) for e in errors] == [(row, col) for row, col, _ in expected]
    for error, (_, _, words) in zip(errors, expected, strict=True):
        assert words in error["reason"], error


def test_csv_import_stores_good_rows_reports_bad_ones_and_a_repeat_changes_nothing(
    api, staff, listen, h
):
    events = listen("assessment.recorded")
    content = semicolon_csv(staff, h)
    url = "/assessment-imports"
    params = {"filename": "hasil-ac.csv"}
    report = api.post(url, 201, params=params, data=content).json()
    assert (report["rows"], report["stored"], report["unchanged"]) == (12, 3, 1)
    assert report["rejected"] == 8 and report["replayed"] is False
    assert (report["format"], report["filename"]) == ("csv", "hasil-ac.csv")
    assert_errors(report["errors"])

    ours = set(staff["nips"])

    def of_ours(body: dict) -> bool:
        return body["data"]["employee"]["nip"] in ours

    events.until(lambda: len(events.matching(of_ours)) >= 3)
    announced = events.matching(of_ours)
    assert sorted(
        (b["data"]["employee"]["nip"], b["data"]["jabatan"]["code"]) for b in announced
    ) == sorted(
        [
            (staff["nips"][0], staff["lurah"]),
            (staff["nips"][1], staff["lurah"]),
            (staff["nips"][2], staff["sekcam"]),
        ]
    )
    budi = next(b["data"] for b in announced if b["data"]["employee"]["nip"] == staff["nips"][1])
    assert {r["competency_code"]: r["achieved_level"] for r in budi["results"]}["M.03"] == 1.5
    total = api.get("/assessments", params={"unit": staff_unit(api, staff)}).json()["total"]
    assert total == 3
    recorded = api.get("/assessments", params={"import_id": report["import_id"]}).json()
    assert sorted(a["nip"] for a in recorded["items"]) == sorted(staff["nips"][:3])
    assert {a["import_id"] for a in recorded["items"]} == {report["import_id"]}

    again = api.post(url, 200, params=params, data=content).json()
    assert again["replayed"] is True and again["import_id"] == report["import_id"]
    assert again["stored"] == 3 and again["errors"] == report["errors"]
    assert api.get("/assessments", params={"unit": staff_unit(api, staff)}).json()["total"] == 3
    events.settle(1.5)
    assert len(events.matching(of_ours)) == 3  # the replay announced nothing

    corrected = content.replace(b"2;2;2;6;2", b"2;2;2;3;2")  # row 6 fixed, the rest as before
    third = api.post(url, 201, params=params, data=corrected).json()
    assert (third["stored"], third["unchanged"], third["rejected"]) == (1, 4, 7)
    assert api.get("/assessments", params={"unit": staff_unit(api, staff)}).json()["total"] == 4


def staff_unit(api, staff) -> str:
    return api.get(f"/employees/{staff['nips'][0]}").json()["unit_code"]


def test_a_file_whose_header_does_not_fit_is_refused_whole(api, staff):
    bad = b"nip,tanggal,metode,M.01,M.99,umur\n1,2,3,4,5,6\n"
    problem = api.post("/assessment-imports", 400, data=bad).json()
    assert problem["errors"] == {"unknown_columns": ["M.99", "umur"]}
    missing = api.post("/assessment-imports", 400, data=b"nip,M.01\n1,2\n").json()
    assert missing["errors"]["missing_columns"] == ["assessed_on", "method"]
    assert api.post("/assessment-imports", 400, data=b"").json()["status"] == 400


def workbook(staff) -> bytes:
    a, b, c, d = staff["nips"]
    book = Workbook()
    sheet = book.active
    sheet.append(["nip", "assessed_on", "method", "M.01", "M.02", "M.03", "M.04", "M.05",
                  "M.06", "M.07", "M.08", "SK.01"])  # fmt: skip
    sheet.append([a, date(2026, 4, 1), "test", *[2.5] * 9])
    sheet.append([b, date(2026, 4, 1), "portfolio", 2, 2, 2, 2, 2, 2, 2, 2, 1])
    sheet.append([float(c), date(2026, 4, 1), "test", *[2] * 9])  # NIP typed as a number
    sheet.append([d, "2026-04-01", "360", 2, 2, 2, 2, 2, 2, 2, 2, "x"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_xlsx_import_uploaded_as_multipart(api, staff):
    content = workbook(staff)
    files = {"file": ("hasil-penilaian.xlsx", content, XLSX_TYPE)}
    report = api.post("/assessment-imports", 201, files=files).json()
    assert (report["format"], report["filename"]) == ("xlsx", "hasil-penilaian.xlsx")
    assert (report["rows"], report["stored"], report["rejected"]) == (4, 2, 2)
    assert_errors(report["errors"], [(4, "nip", "sebagai angka"), (5, "SK.01", "bukan angka")])
    current = api.get("/assessments", params={"nip": staff["nips"][1]}).json()["items"][0]
    assert current["jpm"] == 94.44 and current["method"] == "portfolio"
    again = api.post("/assessment-imports", 200, files=files).json()
    assert again["replayed"] is True


def run_cli(*args: str) -> subprocess.CompletedProcess:
    assert CLI.exists(), f"console script not installed at {CLI}"
    return subprocess.run(
        [str(CLI), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "KOMPAS_TOKEN": auth.token("admin")},
    )


def test_cli_imports_csv_and_xlsx_through_the_api_with_progress_and_a_row_report(
    service, staff, tmp_path, h
):
    csv_file = tmp_path / "hasil-ac.csv"
    csv_file.write_bytes(semicolon_csv(staff, h))
    first = run_cli(str(csv_file), "--url", service.url, "--chunk-size", "3")
    assert first.returncode == 1, first.stderr  # some rows were rejected
    assert "12/12" in first.stderr and "baris" in first.stderr  # the progress bar
    assert "Tersimpan: 3  Sudah tercatat: 1  Ditolak: 8" in first.stdout
    for row, column, words in EXPECTED_ERRORS[:-2]:  # across chunks, with the file's rows
        line = next(line for line in first.stdout.splitlines() if line.split()[:1] == [str(row)])
        assert column in line and words.split(" di baris")[0] in line, line
    assert "sudah tercatat (" in first.stdout  # row 11: row 3 was in an earlier chunk
    assert "13  jabatan_code" in first.stdout

    second = run_cli(str(csv_file), "--url", service.url, "--chunk-size", "3")
    assert "Tersimpan: 0  Sudah tercatat: 4  Ditolak: 8" in second.stdout
    assert "4 bagian berkas ini sudah pernah diimpor" in second.stdout

    xlsx_file = tmp_path / "hasil.xlsx"
    xlsx_file.write_bytes(workbook(staff))
    sheet = run_cli(str(xlsx_file), "--url", service.url, "--json", "--quiet")
    assert sheet.returncode == 1 and sheet.stderr == ""
    import json

    report = json.loads(sheet.stdout)
    assert (report["format"], report["stored"], report["rejected"]) == ("xlsx", 2, 2)
    assert [(e["row"], e["column"]) for e in report["errors"]] == [(4, "nip"), (5, "SK.01")]

    down = run_cli(str(csv_file), "--url", "http://127.0.0.1:9", "--quiet")
    assert down.returncode == 2 and "tidak dapat dihubungi" in down.stderr


def test_5000_rows_with_50_bad_store_4950_report_50_and_announce_4950(api, org, listen, h, capsys):
    events = listen("assessment.recorded")
    people, dates = 500, 10
    post = org["lurah"]["code"]
    started = time.monotonic()
    pool = eventlet.GreenPool(8)
    nips = list(pool.imap(lambda _: api.employee(org["kelurahan"], post)["nip"], range(people)))
    registered = time.monotonic() - started

    header = "nip,assessed_on,method," + ",".join(h.managerial)
    lines, expected, assessed = [header], [], set()
    for index in range(people * dates):
        row = index + 2
        nip = nips[index % people]
        on = date(2025, 1, 6) + timedelta(weeks=index // people)
        cells = [nip, on.isoformat(), "assessment_centre"] + [
            str(1 + (index + k) % 9 / 2) for k in range(9)
        ]
        if index % 100 == 37:  # 50 bad rows, five kinds
            kind = (index // 100) % 5
            column = ["nip", "M.04", "method", "assessed_on", "nip"][kind]
            cells[[0, 6, 2, 1, 0][kind]] = ["123", "7", "lisan", "2025-13-01", h.new_nip()][kind]
            expected.append((row, column))
        else:
            assessed.add(nip)
        lines.append(",".join(cells))
    content = ("\n".join(lines) + "\n").encode()

    began = time.monotonic()
    report = api.post("/assessment-imports", 201, data=content).json()
    imported = time.monotonic() - began
    assert (report["rows"], report["stored"], report["rejected"]) == (5000, 4950, 50)
    assert [(e["row"], e["column"]) for e in report["errors"]] == expected

    ours = set(nips)

    def of_ours(body: dict) -> bool:
        return body["data"]["employee"]["nip"] in ours

    # (counting all first keeps the wait linear: of_ours runs only near the end)
    events.until(
        lambda: len(events.seen) >= 4950 and len(events.matching(of_ours)) >= 4950, timeout=120
    )
    delivered = time.monotonic() - began
    announced = events.matching(of_ours)
    assert len({b["data"]["assessment_id"] for b in announced}) == 4950
    taken = len(events.seen)
    assert events.settle(1.0)[taken:] == []  # nothing else arrives
    current = api.get("/assessments", params={"jabatan": post, "current_only": True}).json()
    assert current["total"] == len(assessed)  # the latest date superseded the others

    with capsys.disabled():
        print(
            f"\n5,000-row import: {people} employees registered in {registered:.1f}s; "
            f"import request {imported:.1f}s; all 4,950 events received {delivered:.1f}s "
            "after the upload began"
        )
