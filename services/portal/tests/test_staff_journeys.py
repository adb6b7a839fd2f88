"""BKPSDM and a unit operator in a real browser, against the chain with the Plaju demo."""

from __future__ import annotations

import csv
import io
import re
from datetime import date

import requests
from playwright.sync_api import expect

OPERATOR_UNIT = "PLG-KEC-PLAJU"


def subtree(plaju, top: str) -> set[str]:
    units = plaju.every("competency", "/units")
    found, grew = {top}, True
    while grew:
        below = {u["code"] for u in units if u.get("parent_code") in found}
        grew = not below <= found
        found |= below
    return found


def test_the_heatmap_shows_the_gap_report_and_each_cell_leads_to_its_people(plaju, journey):
    admin = journey("admin")
    assert admin.page.url.endswith("/ikhtisar")
    admin.check_page()
    admin.screenshot("admin-overview")
    rows = admin.page.locator("#heatmap tbody tr")
    units = [rows.nth(i).get_attribute("data-unit") for i in range(rows.count())]
    assert len(units) > 5
    # assessed this year: competency's count, over every unit
    year = date.today().year
    in_year = sum(
        plaju.api(
            "competency", f"/units/{u['code']}/gap-report", include_sub_units="false", year=year
        )["assessed_in_year"]
        for u in plaju.every("competency", "/units")
    )
    assert in_year > 0
    expect(admin.page.locator("#total-assessed-in-year")).to_have_text(str(in_year))
    for unit in (units[0], units[-1], OPERATOR_UNIT):
        report = plaju.api("competency", f"/units/{unit}/gap-report", include_sub_units="false")
        shown = {
            cell.get_attribute("data-competency"): (
                int(cell.get_attribute("data-below")),
                int(cell.get_attribute("data-assessed")),
            )
            for cell in admin.page.locator(f'#heatmap tr[data-unit="{unit}"] td[data-below]').all()
        }
        expected = {
            row["competency_code"]: (row["below_standard"], row["assessed"])
            for row in report["competencies"]
            if row["assessed"]
        }
        assert shown == expected, unit

    # the darkest cell's link: the people below standard there, as many as the report says
    cells = admin.page.locator("#heatmap td[data-below]").all()
    cell = max(cells, key=lambda c: int(c.get_attribute("data-below")))
    below = int(cell.get_attribute("data-below"))
    assert below > 0
    cell.locator("a").click()
    expect(admin.page).to_have_url(re.compile(r"/unit/[^?]+\?kompetensi="))
    admin.check_page()
    expect(admin.page.locator("#below-standard tbody tr")).to_have_count(below)


def _import_csv(plaju) -> tuple[str, list[dict]]:
    """Two employees reassessed far below standard (by portfolio, the same day as the demo's
    assessment centre round), and rows competency must refuse."""
    employees = plaju.every("competency", "/employees")[:2]
    standards = {}
    for employee in employees:
        profile = plaju.api("competency", f"/employees/{employee['nip']}/profile")
        standards[employee["nip"]] = [s["competency_code"] for s in profile["jabatan"]["standards"]]
    columns = sorted({code for codes in standards.values() for code in codes})
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["nip", "assessed_on", "method", "jabatan_code", *columns])
    today = date.today().isoformat()
    for employee in employees:
        levels = ["1" if c in standards[employee["nip"]] else "" for c in columns]
        writer.writerow([employee["nip"], today, "portfolio", employee["jabatan_code"], *levels])
    first = employees[0]
    levels = ["1" if c in standards[first["nip"]] else "" for c in columns]
    writer.writerow(["12345", today, "portfolio", first["jabatan_code"], *levels])
    too_high = list(levels)
    too_high[levels.index("1")] = "9"  # one cell out of range: one refusal for the row
    writer.writerow([first["nip"], today, "portfolio", first["jabatan_code"], *too_high])
    return out.getvalue(), employees


def test_an_import_shows_refused_rows_then_its_proposals_once_the_chain_settled(
    plaju, journey, tmp_path
):
    content, employees = _import_csv(plaju)
    path = tmp_path / "penilaian-ulang.csv"
    path.write_text(content)
    admin = journey("admin")
    admin.open("/impor")
    admin.page.get_by_label("Berkas CSV atau XLSX").set_input_files(str(path))
    admin.page.get_by_role("button", name="Unggah").click()
    expect(admin.page.locator("#rejected")).to_have_text("2", timeout=30_000)
    admin.check_page()
    expect(admin.page.locator("#stored")).to_have_text("2")
    refused = admin.page.locator("#refused tbody tr")
    expect(refused).to_have_count(2)
    first = refused.nth(0).locator("td")
    expect(first.nth(0)).to_have_text("4")
    expect(first.nth(1)).to_have_text("nip")
    assert first.nth(2).inner_text().strip()
    second = refused.nth(1).locator("td")
    expect(second.nth(0)).to_have_text("5")
    assert second.nth(1).inner_text() not in ("", "nip")

    download = admin.page.request.get(
        admin.page.get_by_role("link", name="Unduh baris ditolak (CSV)")
        .get_attribute("href")
        .replace("/impor", admin.portal.url + "/impor", 1)
    )
    lines = list(csv.reader(io.StringIO(download.text())))
    assert lines[0] == ["baris", "kolom", "alasan"] and [r[0] for r in lines[1:]] == ["4", "5"]

    # the chain: competency announces, training proposes, budget decides; the page follows
    expect(admin.page.locator("#chain-state[data-settled=yes]")).to_be_attached(timeout=90_000)
    admin.check_page()
    admin.screenshot("admin-import")
    # the page lists what training proposed for this import's assessments, no more, no less
    link = admin.page.get_by_role("link", name="Unduh baris ditolak (CSV)").get_attribute("href")
    import_id = link.split("/")[2]
    assessments = {
        a["id"]
        for e in employees
        for a in plaju.api("competency", "/assessments", nip=e["nip"])["items"]
        if a["import_id"] == import_id
    }
    assert len(assessments) == 2
    proposals = [
        p
        for e in employees
        for p in plaju.api("training", "/proposals", employee_nip=e["nip"])["items"]
        if p["assessment_id"] in assessments
    ]
    assert proposals, "two employees a level or more short of every standard: no proposal"
    rows = admin.page.locator("#chain-proposals-table tbody tr")
    expect(rows).to_have_count(len(proposals))
    table = admin.page.locator("#chain-proposals-table").inner_text()
    assert all(p["employee_name"] in table for p in proposals)


def _service_calls(portal) -> float:
    """How many calls the portal has made to the services so far (its /metrics)."""
    metrics = requests.get(f"{portal.url}/metrics", timeout=10).text
    return sum(
        float(line.split()[-1])
        for line in metrics.splitlines()
        if line.startswith("portal_service_call_seconds_count{")
    )


def test_an_import_of_thousands_of_rows_pages_its_refused_rows_and_polls_only_counts(
    plaju, journey, tmp_path
):
    employee = plaju.every("competency", "/employees")[0]
    profile = plaju.api("competency", f"/employees/{employee['nip']}/profile")
    columns = [s["competency_code"] for s in profile["jabatan"]["standards"]]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["nip", "assessed_on", "method", "jabatan_code", *columns])
    rows = 3000  # NIPs well formed but of nobody registered: every row is refused
    for i in range(rows):
        nip = f"1971{1 + i // 1000:02d}{1 + i % 28:02d}2001031{1 + i % 999:03d}"
        writer.writerow([nip, date.today().isoformat(), "portfolio", employee["jabatan_code"]]
                        + ["2"] * len(columns))  # fmt: skip
    path = tmp_path / "penilaian-besar.csv"
    path.write_text(out.getvalue())

    admin = journey("admin")
    admin.open("/impor")
    admin.page.get_by_label("Berkas CSV atau XLSX").set_input_files(str(path))
    admin.page.get_by_role("button", name="Unggah").click()
    expect(admin.page.locator("#rejected")).to_have_text(str(rows), timeout=120_000)
    expect(admin.page.locator("#chain-state[data-settled=yes]")).to_be_attached(timeout=30_000)
    admin.check_page()

    # the refused rows a page at a time: 50 of them, then the next 50
    expect(admin.page.locator("#refused tbody tr")).to_have_count(50)
    pager = admin.page.get_by_role("navigation", name="Halaman baris ditolak")
    expect(pager).to_contain_text("Halaman 1 dari 60")
    pager.get_by_role("link", name="Berikutnya").click()
    expect(admin.page).to_have_url(re.compile(r"\?halaman=2"))
    admin.check_page()
    expect(admin.page.locator("#refused tbody tr").first.locator("td").first).to_have_text("52")
    import_id = admin.page.url.split("/impor/")[1].split("?")[0]

    # all of them at once, as CSV
    download = admin.page.request.get(f"{admin.portal.url}/impor/{import_id}/ditolak.csv")
    assert len(list(csv.reader(io.StringIO(download.text())))) == rows + 1

    # the progress is a few counts; once the chain has settled, a poll asks no service at all
    before = _service_calls(admin.portal)
    for _ in range(3):
        poll = admin.page.request.get(f"{admin.portal.url}/impor/{import_id}/kemajuan")
        assert poll.status == 286 and len(poll.body()) < 2000
    assert _service_calls(admin.portal) == before


def test_a_waitlisted_proposal_is_approved_as_funded_another_way(plaju, journey):
    waiting = plaju.api("training", "/proposals", status="waitlisted", per_page=100)["items"]
    assert waiting, "the demo round waitlisted nothing"
    admin = journey("admin")
    admin.open("/usulan?status=waitlisted")
    admin.screenshot("admin-proposals")
    proposal = waiting[0]
    row = admin.page.locator(f"#proposal-{proposal['proposal_id']}")
    row.get_by_role("button", name="Setujui (didanai cara lain)").click()
    expect(row).to_have_attribute("data-status", "approved")
    expect(row).to_contain_text("didanai cara lain")
    admin.check_page()
    stored = plaju.api("training", f"/proposals/{proposal['proposal_id']}")
    assert stored["status"] == "approved"
    assert {item["funding"] for item in stored["items"] if item["status"] != "cancelled"} == {
        "other"
    }


def test_an_operator_sees_only_their_units_and_approves_and_enrols(plaju, journey):
    mine = subtree(plaju, OPERATOR_UNIT)
    operator = journey("operator", OPERATOR_UNIT)
    assert operator.page.url.endswith("/ikhtisar")
    operator.check_page()
    operator.screenshot("operator-overview")
    rows = operator.page.locator("#heatmap tbody tr")
    shown = {rows.nth(i).get_attribute("data-unit") for i in range(rows.count())}
    assert shown and shown <= mine
    other = next(u for u in plaju.every("competency", "/units") if u["code"] not in mine)
    operator.open(f"/unit/{other['code']}", status=403)
    expect(operator.page.locator("h1")).to_have_text("Akses ditolak")

    # the queue holds only their units; one proposal approved, then enrolled
    operator.open("/usulan")
    units_shown = operator.page.locator("#proposals tbody tr td:nth-child(2)").all_inner_texts()
    assert units_shown and set(units_shown) <= mine
    proposals = [p for p in plaju.every("training", "/proposals") if p["unit_code"] in mine]
    approvable = [p for p in proposals if p["status"] in ("waitlisted", "partially_approved")]
    assert approvable, [p["status"] for p in proposals]
    proposal = approvable[0]
    row = operator.page.locator(f"#proposal-{proposal['proposal_id']}")
    row.get_by_role("button", name="Setujui", exact=False).first.click()
    expect(row).to_have_attribute("data-status", "approved")
    row.get_by_role("button", name="Daftarkan").click()
    expect(row).to_have_attribute("data-status", "enrolled")
    operator.check_page()
    enrolments = plaju.api("training", "/enrollments", proposal_id=proposal["proposal_id"])
    assert enrolments["total"] >= 1


def test_an_operator_records_development_elsewhere_and_a_refused_form_keeps_what_was_typed(
    plaju, journey
):
    mine = subtree(plaju, OPERATOR_UNIT)
    employee = next(e for e in plaju.every("competency", "/employees") if e["unit_code"] in mine)
    nip, year = employee["nip"], date.today().year
    before = plaju.api("training", f"/employees/{nip}/jp", year=year)["jp"]
    operator = journey("operator", OPERATOR_UNIT)
    operator.open(f"/pegawai/{nip}")
    operator.page.get_by_role("link", name="Catat pengembangan di luar").click()
    expect(operator.page.get_by_label("NIP pegawai")).to_have_value(nip)
    page = operator.page
    page.get_by_label("Nama kegiatan").fill("Seminar Pelayanan Publik Digital")
    page.get_by_label("JP", exact=True).fill("dua")
    page.get_by_label("Mulai").fill(f"{year}-01-10")
    page.get_by_label("Selesai").fill(f"{year}-01-11")
    page.get_by_label("Bukti", exact=False).fill("x")
    page.get_by_role("button", name="Simpan").click()

    # the service's field errors beside their fields, in Indonesian; nothing typed is lost
    expect(page.locator("#e-jp")).to_have_text("Bukan bilangan bulat.")
    expect(page.locator("#e-evidence")).to_contain_text("Panjangnya 3 sampai 1000 karakter")
    expect(page.get_by_label("Nama kegiatan")).to_have_value("Seminar Pelayanan Publik Digital")
    expect(page.get_by_label("JP", exact=True)).to_have_value("dua")
    operator.check_page()
    operator.screenshot("operator-development-record")

    page.get_by_label("JP", exact=True).fill("12")
    page.get_by_label("Bukti", exact=False).fill("Sertifikat 800/123/2026")
    page.get_by_role("button", name="Simpan").click()
    expect(page).to_have_url(re.compile(f"/pegawai/{nip}"))
    expect(page.locator("#jp-progress")).to_contain_text(f"{before + 12} dari 20 JP")
    operator.check_page()
    assert plaju.api("training", f"/employees/{nip}/jp", year=year)["jp"] == before + 12
