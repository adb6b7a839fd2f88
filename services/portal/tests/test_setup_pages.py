"""BKPSDM's setup pages in a real browser: each change lands in the service that owns it."""

from __future__ import annotations

import re
from datetime import date, timedelta

from playwright.sync_api import expect

UNIT = "PLG-KEC-PLAJU"


def test_standards_allocations_batches_officials_and_a_template_preview(plaju, journey):
    admin = journey("admin")
    page = admin.page

    # a jabatan standard, edited in the grid with the keyboard
    jabatan = plaju.every("competency", "/jabatan", unit=UNIT)[0]
    standard = jabatan["standards"][0]
    level = 4 if standard["required_level"] != 4 else 3
    admin.open(f"/jabatan?unit={UNIT}")
    cell = page.get_by_label(f"{standard['competency_code']} {jabatan['code']}", exact=True)
    cell.fill(str(level))
    cell.press("Enter")
    expect(page.get_by_text("Tersimpan", exact=True)).to_be_visible()
    admin.check_page()
    stored = plaju.api("competency", f"/jabatan/{jabatan['code']}")["standards"]
    assert {s["competency_code"]: s["required_level"] for s in stored}[
        standard["competency_code"]
    ] == level

    # an allocation amended
    position = plaju.every("budget", "/allocations", fiscal_year=date.today().year)[0]
    new_total = position["allocated_rupiah"] + 1_000_000
    admin.open("/anggaran")
    row = page.locator(f"#allocation-{position['unit_code']}")
    row.get_by_label("Pagu baru (rupiah)").fill(str(new_total))
    row.get_by_label("Nomor DPPA").fill("DPPA/900/2026")
    row.get_by_role("button", name="Simpan").click()
    expect(page.locator(f"#allocation-{position['unit_code']} .allocated")).to_have_text(
        "Rp " + f"{new_total:,}".replace(",", ".")
    )
    admin.check_page()

    # a new allocation: a bad amount refused beside its field, then the right one
    allocated = {p["unit_code"] for p in plaju.every("budget", "/allocations")}
    unit = next(
        u["code"] for u in plaju.every("competency", "/units") if u["code"] not in allocated
    )
    form = page.locator("#new-allocation + form")
    form.get_by_label(re.compile(r"^Kode unit")).fill(unit)
    form.get_by_label(re.compile(r"^Pagu \(rupiah\)")).fill("satu juta")
    form.get_by_role("button", name="Simpan").click()
    expect(page.locator("#e-new-amount_rupiah")).to_contain_text("bilangan bulat rupiah")
    expect(
        page.locator("#new-allocation + form").get_by_label(re.compile(r"^Kode unit"))
    ).to_have_value(unit)
    admin.check_page()
    page.locator("#new-allocation + form").get_by_label(re.compile(r"^Pagu \(rupiah\)")).fill(
        "7.500.000"
    )
    page.locator("#new-allocation + form").get_by_role("button", name="Simpan").click()
    expect(page.locator(f"#allocation-{unit} .allocated")).to_have_text("Rp 7.500.000")
    assert plaju.api("budget", f"/allocations/{unit}/{date.today().year}")["allocated_rupiah"] == (
        7_500_000
    )

    # a new programme: a level that is no number refused beside the field, then stored
    admin.open("/program")
    new = page.locator("#new-programme")
    new.locator("summary").click()
    new.get_by_label(re.compile(r"^Kode program")).fill("SEM-LPD")
    new.get_by_label(re.compile(r"^Nama program")).fill("Seminar Layanan Publik Digital")
    new.get_by_label(re.compile(r"^Biaya per peserta")).fill("750.000")
    new.get_by_label(re.compile(r"^Kompetensi dan level")).fill("T.TIK.01:tiga")
    new.get_by_role("button", name="Simpan").click()
    expect(page.locator("#e-new-competencies")).to_contain_text("Bukan bilangan bulat")
    admin.check_page()
    new = page.locator("#new-programme")
    expect(new.get_by_label(re.compile(r"^Nama program"))).to_have_value(
        "Seminar Layanan Publik Digital"
    )
    new.get_by_label(re.compile(r"^Kompetensi dan level")).fill("T.TIK.01:3")
    new.get_by_label("JP", exact=True).fill("16")
    new.get_by_role("button", name="Simpan").click()
    expect(page.locator("#programme-SEM-LPD")).to_contain_text("Rp 750.000")
    assert plaju.api("training", "/programmes/SEM-LPD")["cost_rupiah"] == 750_000

    # a batch added to a programme
    programme = plaju.every("training", "/programmes")[0]
    starts = date.today() + timedelta(days=3)
    admin.open("/program")
    section = page.locator(f"#programme-{programme['code']}")
    section.locator("summary").click()
    section.get_by_label("Mulai").fill(starts.isoformat())
    section.get_by_label("Selesai").fill((starts + timedelta(days=1)).isoformat())
    section.get_by_label("Tempat").fill("Aula Kecamatan Plaju")
    section.get_by_label("Kuota").fill("25")
    section.get_by_role("button", name="Simpan").click()
    expect(page.locator(f"#programme-{programme['code']}")).to_contain_text("Aula Kecamatan Plaju")
    admin.check_page()
    batches = plaju.api("training", f"/programmes/{programme['code']}")["batches"]
    assert any(b["place"] == "Aula Kecamatan Plaju" for b in batches)

    # an official refused for a bad address keeps what was typed; then added
    admin.open("/notifikasi")
    page.get_by_label(re.compile(r"^Peran")).select_option("bkpsdm_admin")
    page.get_by_label(re.compile(r"^Nama\b")).fill("Rudi Hartono")
    page.get_by_label(re.compile(r"^E-mail")).fill("bukan-alamat")
    page.get_by_role("button", name="Tambah petugas").click()
    expect(page.locator("#e-email")).to_be_visible()
    expect(page.get_by_label(re.compile(r"^Nama\b"))).to_have_value("Rudi Hartono")
    admin.check_page()
    page.get_by_label(re.compile(r"^E-mail")).fill("rudi.hartono@plaju.example")
    page.get_by_role("button", name="Tambah petugas").click()
    expect(page.locator("#officials-table")).to_contain_text("rudi.hartono@plaju.example")
    admin.screenshot("admin-notification-setup")

    # the official edited: a unit operator without a unit is refused beside the field
    page.get_by_role("link", name="Ubah Rudi Hartono").click()
    admin.check_page()
    page.get_by_label(re.compile(r"^Peran")).select_option("unit_operator")
    page.get_by_label(re.compile(r"^Nama\b")).fill("Rudi Hartono, S.E.")
    page.get_by_role("button", name="Simpan").click()
    expect(page.locator("#e-unit_code")).to_contain_text("Operator unit memerlukan kode unit")
    expect(page.get_by_label(re.compile(r"^Nama\b"))).to_have_value("Rudi Hartono, S.E.")
    admin.check_page()
    page.get_by_label(re.compile(r"^Kode unit")).fill("PLG-KEC-PLAJU")
    page.get_by_role("button", name="Simpan").click()
    expect(page.locator("#officials-table")).to_contain_text("Rudi Hartono, S.E.")
    officials = plaju.api("notification", "/officials", per_page=500)["items"]
    rudi = next(o for o in officials if o["email"] == "rudi.hartono@plaju.example")
    assert (rudi["role"], rudi["unit_code"]) == ("unit_operator", "PLG-KEC-PLAJU")
    page.get_by_role("button", name="Hapus Rudi Hartono, S.E.").click()
    expect(page.locator("#officials-table")).not_to_contain_text("rudi.hartono@plaju.example")

    # a rule switched off and on again, as notification keeps it
    rule = plaju.api("notification", "/rules")[0]
    row = page.locator(f"#rule-{rule['id']}")
    row.get_by_role("button", name=re.compile("^Nonaktifkan")).click()
    expect(page.locator(f"#rule-{rule['id']} .status")).to_have_text("nonaktif")
    assert not next(r for r in plaju.api("notification", "/rules") if r["id"] == rule["id"])[
        "active"
    ]
    page.locator(f"#rule-{rule['id']}").get_by_role("button", name=re.compile("^Aktifkan")).click()
    expect(page.locator(f"#rule-{rule['id']} .status")).to_have_text("aktif")

    # a new rule: without a channel it is refused beside the channels; then added
    rules = plaju.api("notification", "/rules")
    taken = {(r["event_type"], r["audience"]) for r in rules}
    event, audience = next(
        (e, a)
        for e in ("budget.spent", "budget.released", "enrollment.created", "proposal.cancelled")
        for a in ("bkpsdm_admin", "unit_operator", "supervisor", "employee")
        if (e, a) not in taken
    )
    new_rule = page.locator("#new-rule")
    new_rule.get_by_label(re.compile(r"^Peristiwa")).fill(event)
    new_rule.get_by_label(re.compile(r"^Penerima")).select_option(audience)
    new_rule.get_by_role("button", name="Tambah aturan").click()
    expect(page.locator("#e-rule-channels")).to_contain_text("Wajib diisi")
    expect(page.locator("#new-rule").get_by_label(re.compile(r"^Peristiwa"))).to_have_value(event)
    admin.check_page()
    page.locator("#new-rule").get_by_label("kotak masuk").check()
    page.locator("#new-rule").get_by_role("button", name="Tambah aturan").click()
    added = next(
        r
        for r in plaju.api("notification", "/rules")
        if (r["event_type"], r["audience"]) == (event, audience)
    )
    expect(page.locator(f"#rule-{added['id']}")).to_contain_text(event)

    # the rule edited: its channels and template, then switched off
    page.locator(f"#rule-{added['id']}").get_by_role("link", name=re.compile("^Ubah")).click()
    admin.check_page()
    page.get_by_label("kotak masuk").uncheck()
    page.get_by_role("button", name="Simpan").click()
    expect(page.locator("#e-channels")).to_be_visible()
    admin.check_page()
    page.get_by_label("e-mail").check()
    page.get_by_label(re.compile(r"^Templat")).select_option("budget_threshold")
    page.get_by_label(re.compile(r"^Status")).select_option("0")
    page.get_by_role("button", name="Simpan").click()
    expect(page.locator(f"#rule-{added['id']} .status")).to_have_text("nonaktif")
    edited = next(r for r in plaju.api("notification", "/rules") if r["id"] == added["id"])
    assert (edited["channels"], edited["template"], edited["active"]) == (
        ["email"],
        "budget_threshold",
        False,
    )

    # a template's preview follows what is typed, rendered as notification renders it
    page.get_by_role("link", name=re.compile(r"^assessment_result \(id\)")).click()
    expect(page.locator("#preview")).to_contain_text("Yth. Siti Rahmawati")
    page.get_by_label("Subjek").fill("Hasil penilaian {{ data.assessed_on | date }}")
    expect(page.locator("#preview")).to_contain_text("Hasil penilaian 26 November 2026")
    admin.check_page()
    admin.screenshot("admin-template-preview")
