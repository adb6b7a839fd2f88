"""An employee in a real browser: only their own profile, JP progress and inbox."""

from __future__ import annotations

from datetime import date

from playwright.sync_api import expect


def _employee_with_mail(plaju) -> tuple[dict, dict]:
    for employee in plaju.every("competency", "/employees"):
        inbox = plaju.api("notification", f"/recipients/{employee['nip']}/inbox")
        if inbox["unread"]:
            return employee, inbox
    raise AssertionError("the demo round left no unread inbox message")


def test_an_employee_sees_their_profile_and_jp_and_marks_a_message_read(plaju, journey):
    employee, inbox = _employee_with_mail(plaju)
    nip = employee["nip"]
    jp = plaju.api("training", f"/employees/{nip}/jp", year=date.today().year)
    me = journey("employee", nip)

    # signing in lands on the profile
    assert me.page.url.endswith(f"/pegawai/{nip}")
    me.check_page()
    expect(me.page.locator("h1")).to_have_text(employee["name"])
    expect(me.page.locator("#jp-progress")).to_contain_text(f"{jp['jp']} dari 20 JP")
    profile = plaju.api("competency", f"/employees/{nip}/profile")
    rows = me.page.locator("table").first.locator("tbody tr")
    expect(rows).to_have_count(len(profile["latest_assessment"]["results"]))
    me.screenshot("employee-profile")

    # someone else's profile, and the city overview, are refused by the services
    other = next(e for e in plaju.every("competency", "/employees") if e["nip"] != nip)
    me.open(f"/pegawai/{other['nip']}", status=403)
    expect(me.page.locator("h1")).to_have_text("Akses ditolak")
    me.open("/ikhtisar", status=403)

    # the inbox: unread count as notification says, then one message marked read
    me.open("/kotak-masuk")
    expect(me.page.locator("#unread-count")).to_contain_text(f"{inbox['unread']} pesan")
    me.screenshot("employee-inbox")
    unread = next(m for m in inbox["items"] if not m["read_at"])
    card = me.page.locator(f"#message-{unread['id']}")
    card.get_by_role("button", name="Tandai sudah dibaca").click()
    expect(card.get_by_role("button", name="Tandai belum dibaca")).to_be_visible()
    expect(card.locator(".status")).to_have_text("Sudah dibaca")
    me.check_page()
    after = plaju.api("notification", f"/recipients/{nip}/inbox")
    assert after["unread"] == inbox["unread"] - 1
    assert next(m for m in after["items"] if m["id"] == unread["id"])["read_at"]


def test_the_profile_fits_a_phone_and_works_from_the_keyboard(plaju, journey):
    nip = plaju.every("competency", "/employees")[0]["nip"]
    me = journey("employee", nip, viewport={"width": 375, "height": 740})
    me.open(f"/pegawai/{nip}")
    width = me.page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the page scrolls sideways: {width} px"
    me.screenshot("employee-profile-phone")

    me.open("/kotak-masuk")
    me.page.keyboard.press("Tab")
    assert me.page.evaluate("document.activeElement.textContent") == "Lewati ke isi"
    me.page.keyboard.press("Enter")
    assert me.page.evaluate("document.activeElement.id") == "main"
    me.page.keyboard.press("Tab")  # on from the content: the filter's checkbox, by its label
    assert me.page.evaluate("document.activeElement.closest('main') !== null")
    me.page.keyboard.press("Space")
    assert me.page.get_by_label("Hanya yang belum dibaca").is_checked()
