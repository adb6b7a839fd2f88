"""The whole chain, end to end: competency, training, budget and notification as separate
``nameko run`` processes against real RabbitMQ and PostgreSQL, a real SMTP server and a real
webhook receiver that checks signatures. Only the first step of each story is an HTTP call;
everything after it happens through events, and the tests wait on those events."""

import uuid

from asn_testkit.waiting import wait_for

TYPES = {
    "assessment.recorded": "id.kompasasn.competency.assessment.recorded.v1",
    "proposal.created": "id.kompasasn.training.proposal.created.v1",
    "proposal.approved": "id.kompasasn.training.proposal.approved.v1",
    "proposal.waitlisted": "id.kompasasn.training.proposal.waitlisted.v1",
    "enrollment.completed": "id.kompasasn.training.enrollment.completed.v1",
    "budget.reserved": "id.kompasasn.budget.budget.reserved.v1",
    "budget.rejected": "id.kompasasn.budget.budget.rejected.v1",
    "budget.spent": "id.kompasasn.budget.budget.spent.v1",
}
SITI = "siti.rahmawati@plaju.test"
BUDI = "budi.santoso@plaju.test"
OPERATOR = "operator.plajuulu@plaju.test"
ADMIN = "admin@bkpsdm.palembang.test"
ELSEWHERE = "operator.baguskuning@plaju.test"


def rupiah(position: dict, *amounts: str) -> tuple[int, ...]:
    """The named amounts of a budget position (``"reserved"`` → ``reserved_rupiah``)."""
    return tuple(position[f"{amount}_rupiah"] for amount in amounts)


def by_code(items: list[dict]) -> dict[str, dict]:
    return {item["programme_code"]: item for item in items}


def test_an_assessment_ends_in_an_approved_proposal_a_reservation_e_mails_inbox_and_webhooks(
    chain, seed, levels, webhook_receiver
):
    org = seed.organisation()
    seed.programme("KOM-EFEKTIF", "Pelatihan Komunikasi Efektif", 2_500_000, {"M.03": 3})
    seed.programme(
        "PP-DIGITAL",
        "Bimbingan Teknis Pelayanan Publik Digital",
        3_750_000,
        {"M.05": 2},
        jp=16,
        activity="bimbingan_teknis",
    )
    seed.programme("KOM-LANJUT", "Komunikasi Publik Tingkat Lanjut", 9_000_000, {"M.03": 4})
    assert seed.allocation(org, 50_000_000)["available_rupiah"] == 50_000_000
    seed.officials(org)
    receiver = webhook_receiver()
    seed.subscription(receiver, ["proposal.approved", "budget.*"])
    correlation = str(uuid.uuid4())

    assessment = seed.assess(org, levels(2, {"M.03": 1.5, "M.05": 1}), correlation)
    assert (assessment["jpm"], assessment["category"]["label"]) == (91.67, "Memenuhi Syarat")

    # no further action: training proposes, budget reserves, training approves
    [approved] = chain.wait("proposal.approved")
    [recorded] = chain.named("assessment.recorded")
    [created] = chain.named("proposal.created")
    [reserved] = chain.named("budget.reserved")
    story = [recorded, created, reserved, approved]
    assert [e["type"] for e in story] == [
        TYPES[n]
        for n in ("assessment.recorded", "proposal.created", "budget.reserved", "proposal.approved")
    ]
    assert {e["correlationid"] for e in story} == {correlation}  # one story, one id
    assert [e["causationid"] for e in story[1:]] == [e["id"] for e in story[:-1]]

    [proposal] = chain.training.get("/proposals", employee_nip=org.employee["nip"])["items"]
    assert proposal["proposal_id"] == approved["data"]["proposal_id"]
    assert proposal["assessment_id"] == assessment["id"]
    assert proposal["status"] == "approved" and proposal["fiscal_year"] == chain.year
    assert (proposal["total_cost_rupiah"], proposal["total_jp"], proposal["reserved_rupiah"]) == (
        6_250_000,
        40,
        6_250_000,
    )
    items = by_code(proposal["items"])
    assert set(items) == {"KOM-EFEKTIF", "PP-DIGITAL"}  # the cheaper per JP of the two for M.03
    assert {i["status"] for i in items.values()} == {"approved"}
    [reason] = items["KOM-EFEKTIF"]["reasons"]
    assert (reason["competency_code"], reason["gap"], reason["rule"]) == (
        "M.03",
        -0.5,
        "closes_gap",
    )
    assert reason["explanation"].startswith("Menutup kesenjangan")
    assert items["PP-DIGITAL"]["reasons"][0]["gap"] == -1.0

    position = seed.position(org)
    assert rupiah(position, "allocated", "reserved", "spent", "available") == (
        50_000_000,
        6_250_000,
        0,
        43_750_000,
    )
    decision = chain.budget.get(f"/proposals/{proposal['proposal_id']}")
    assert decision["status"] == "reserved" and decision["reserved_rupiah"] == 6_250_000
    assert reserved["data"]["amount_rupiah"] == 6_250_000 and reserved["data"]["partial"] is False

    # Siti reads her result, the proposal and its approval in Bahasa Indonesia
    result = chain.mail(SITI, "Hasil penilaian kompetensi Anda")
    assert result.subject == "Hasil penilaian kompetensi Anda: JPM 91,67% (Memenuhi Syarat)"
    assert result.message["To"] == f"Siti Rahmawati <{SITI}>"
    assert result.body.startswith("Yth. Siti Rahmawati,")
    assert f"tanggal {chain.tanggal(chain.day(0))} untuk jabatan Kepala Seksi" in result.body
    assert "- M.03 Komunikasi: standar 2, capaian 1,5, gap -0,5" in result.body
    assert "- M.05 Pelayanan Publik: standar 2, capaian 1, gap -1" in result.body
    assert "- M.01 Integritas: standar 2, capaian 2, gap 0" in result.body
    assert "Kompetensi yang perlu dikembangkan: Komunikasi, Pelayanan Publik." in result.body

    dates = f"{chain.tanggal(chain.day(1))} s.d. {chain.tanggal(chain.day(3))}"
    proposed = chain.mail(SITI, f"Usulan pengembangan kompetensi tahun {chain.year} untuk Anda")
    assert "Pelatihan Komunikasi Efektif (klasikal" in proposed.body
    assert f"24 JP, Rp 2.500.000, {dates}" in proposed.body
    assert "16 JP, Rp 3.750.000" in proposed.body
    assert "Jumlah: 40 JP, Rp 6.250.000." in proposed.body
    assert "JP yang telah Anda selesaikan tahun ini: 0 JP" in proposed.body
    assert "Komunikasi Publik Tingkat Lanjut" not in proposed.body

    approval = chain.mail(SITI, "Usulan pengembangan kompetensi Anda disetujui")
    assert "Bimbingan Teknis Pelayanan Publik Digital" in approval.body
    assert "Anggaran yang dicadangkan: Rp 6.250.000." in approval.body

    # her supervisor hears of the team's proposal, charged to the unit
    team = chain.mail(BUDI, "Usulan pengembangan kompetensi untuk Siti Rahmawati")
    assert "Anggota tim Anda, Siti Rahmawati (NIP 19860926 201505 2 001)" in team.body
    assert "Jumlah: 40 JP, Rp 6.250.000, dibebankan pada unit Kelurahan Plaju Ulu." in team.body

    # the signed events the inspectorate subscribed to, and only those
    chain.webhooks(receiver, 2)
    chain.settled()
    received = chain.webhooks(receiver, 2)
    assert sorted(r["event"]["type"] for r in received) == sorted(
        [TYPES["proposal.approved"], TYPES["budget.reserved"]]
    )
    assert all(r["signature_valid"] and r["status"] == 200 for r in received)
    assert {r["event"]["id"] for r in received} == {approved["id"], reserved["id"]}
    assert all(r["headers"]["X-Kompas-Signature"].startswith("sha256=") for r in received)

    # exactly these four e-mails, each once; the same messages wait in the inboxes
    assert sorted((m.to[0], m.subject) for m in chain.mails()) == sorted(
        [
            (SITI, result.subject),
            (SITI, proposed.subject),
            (SITI, approval.subject),
            (BUDI, team.subject),
        ]
    )
    inbox = chain.inbox(org.employee["nip"])
    assert inbox["total"] == 3 and inbox["unread"] == 3
    assert {m["subject"] for m in inbox["items"]} == {
        result.subject,
        proposed.subject,
        approval.subject,
    }
    assert [m["subject"] for m in chain.inbox(org.supervisor["nip"])["items"]] == [team.subject]

    # every delivery went out once, at the first attempt, and was announced under the same
    # correlation id as the assessment that started it all
    log = chain.notification.get("/deliveries", per_page=100)["items"]
    assert sorted(d["channel"] for d in log) == ["email"] * 4 + ["inbox"] * 4 + ["webhook"] * 2
    assert {(d["status"], d["attempts"]) for d in log} == {("delivered", 1)}
    delivered = chain.named("notification.delivered")
    assert sorted(e["data"]["channel"] for e in delivered) == sorted(d["channel"] for d in log)
    untraced = [e["data"]["channel"] for e in delivered if e["correlationid"] != correlation]
    assert untraced == [], "deliveries announced under another correlation id"


def test_a_budget_too_small_waitlists_the_proposal_offers_a_free_alternative_and_tells_officials(
    chain, seed, levels, webhook_receiver
):
    org = seed.organisation(standards={"M.03": 3})  # this post needs Komunikasi at level 3
    seed.programme("KOM-PUBLIK", "Pelatihan Komunikasi Publik", 4_800_000, {"M.03": 3}, jp=32)
    free = seed.programme(
        "KOM-EL",
        "E-learning Komunikasi Efektif",
        0,
        {"M.03": 2},
        jp=None,  # the e-learning default
        form="nonklasikal",
        activity="e_learning",
        online=True,
        days=(0, 20),
        capacity=500,
    )
    assert free["jp"] == 10
    seed.allocation(org, 1_000_000)
    officials = seed.officials(org)
    receiver = webhook_receiver()
    seed.subscription(receiver, ["budget.rejected", "proposal.waitlisted"])

    seed.assess(org, levels(2, {"M.03": 1}), str(uuid.uuid4()))

    [rejected] = chain.wait("budget.rejected")
    [waitlisted] = chain.wait("proposal.waitlisted")
    original, alternative = chain.wait("proposal.created", 2)
    [approved] = chain.wait("proposal.approved")
    assert [i["programme_code"] for i in original["data"]["items"]] == ["KOM-PUBLIK"]
    assert rejected["data"] | {"item_ids": None} == {
        "unit_code": org.unit,
        "fiscal_year": chain.year,
        "allocated_rupiah": 1_000_000,
        "committed_rupiah": 0,
        "available_rupiah": 1_000_000,
        "proposal_id": original["data"]["proposal_id"],
        "item_ids": None,
        "requested_rupiah": 4_800_000,
        "reason": "insufficient_funds",
    }
    assert waitlisted["data"]["proposal_id"] == original["data"]["proposal_id"]
    assert waitlisted["data"]["reason"] == "insufficient_funds"
    assert waitlisted["data"]["alternative_proposal_id"] == alternative["data"]["proposal_id"]
    assert alternative["causationid"] == rejected["id"]
    # the free alternative is paid for (nothing to reserve) and approved on its own
    assert approved["data"]["proposal_id"] == alternative["data"]["proposal_id"]
    assert approved["data"]["reserved_rupiah"] == 0

    proposals = chain.training.get("/proposals", employee_nip=org.employee["nip"])["items"]
    states = {p["proposal_id"]: p for p in proposals}
    first = states[original["data"]["proposal_id"]]
    second = states[alternative["data"]["proposal_id"]]
    assert (first["status"], first["status_reason"]) == ("waitlisted", "insufficient_funds")
    assert [i["status"] for i in first["items"]] == ["waitlisted"]
    assert second["status"] == "approved" and second["alternative_of"] == first["proposal_id"]
    assert (second["total_cost_rupiah"], second["total_jp"]) == (0, 10)
    [item] = second["items"]
    assert item["programme_code"] == "KOM-EL"
    assert [(r["competency_code"], r["gap"], r["rule"]) for r in item["reasons"]] == [
        ("M.03", -2.0, "cheaper_alternative")
    ]

    position = seed.position(org)
    assert rupiah(position, "reserved", "available") == (0, 1_000_000)
    decision = chain.budget.get(f"/proposals/{first['proposal_id']}")
    assert (decision["status"], decision["reason"]) == ("rejected", "insufficient_funds")
    assert [i["state"] for i in decision["items"]] == ["refused"]

    # the unit's operator and BKPSDM are told, in Bahasa Indonesia; another unit is not
    subject = f"Anggaran pelatihan Kelurahan Plaju Ulu tahun {chain.year} tidak mencukupi"
    for address in (OPERATOR, ADMIN):
        told = chain.mail(address, subject)
        assert subject == told.subject
        assert (
            "Usulan pengembangan kompetensi senilai Rp 4.800.000 untuk unit Kelurahan Plaju Ulu "
            "tidak dapat dibiayai: anggaran yang tersedia tidak mencukupi." in told.body
        )
        assert "Alokasi: Rp 1.000.000" in told.body
        assert "Terpakai dan dicadangkan: Rp 0" in told.body
        assert "Tersedia: Rp 1.000.000" in told.body
    for official in ("operator", "admin"):
        inbox = chain.inbox(officials[official]["id"])
        assert [m["subject"] for m in inbox["items"]] == [subject]

    # Siti hears that her training waits, and of the free alternative, then its approval
    waiting = chain.mail(SITI, "Usulan pengembangan kompetensi Anda masuk daftar tunggu")
    assert "Pelatihan Komunikasi Publik (klasikal" in waiting.body
    assert "32 JP, Rp 4.800.000" in waiting.body
    assert "Alternatif yang lebih hemat atau tanpa biaya telah diusulkan untuk Anda." in (
        waiting.body
    )
    offered = chain.mail(SITI, "Usulan pengembangan kompetensi tahun", count=2)
    offer = next(m for m in offered if "E-learning Komunikasi Efektif" in m.body)
    assert "Usulan ini adalah alternatif yang lebih hemat" in offer.body
    assert "Jumlah: 10 JP, Rp 0." in offer.body
    approval = chain.mail(SITI, "Usulan pengembangan kompetensi Anda disetujui")
    assert "E-learning Komunikasi Efektif (nonklasikal" in approval.body
    assert "Anggaran yang dicadangkan: Rp 0." in approval.body
    chain.mail(BUDI, "Usulan pengembangan kompetensi untuk Siti Rahmawati", count=2)

    chain.webhooks(receiver, 2)
    chain.settled()
    assert chain.mails(ELSEWHERE) == []
    assert len(chain.mails(OPERATOR)) == len(chain.mails(ADMIN)) == 1
    received = chain.webhooks(receiver, 2)
    assert sorted(r["event"]["type"] for r in received) == sorted(
        [TYPES["budget.rejected"], TYPES["proposal.waitlisted"]]
    )
    assert all(r["signature_valid"] and r["status"] == 200 for r in received)
    # she reads Bahasa Indonesia, not the event's reason code ("Alasan: insufficient_funds.")
    assert "insufficient_funds" not in waiting.body


def test_completion_fills_the_jp_ledger_spends_the_reservation_and_enters_the_history(
    chain, seed, levels, webhook_receiver
):
    org = seed.organisation()
    seed.programme("KOM-EFEKTIF", "Pelatihan Komunikasi Efektif", 2_500_000, {"M.03": 3})
    seed.allocation(org, 20_000_000)
    receiver = webhook_receiver()
    seed.subscription(receiver, ["enrollment.completed", "budget.spent"])
    seed.assess(org, levels(2, {"M.03": 1.5}), str(uuid.uuid4()))
    [approved] = chain.wait("proposal.approved")
    proposal_id = approved["data"]["proposal_id"]
    assert seed.position(org)["reserved_rupiah"] == 2_500_000

    # the unit's operator enrols her, and records the completion when the batch is over
    [enrolment] = chain.training.post(f"/proposals/{proposal_id}/enrollments")
    assert enrolment["status"] == "enrolled" and enrolment["programme_code"] == "KOM-EFEKTIF"
    enrolled = chain.mail(SITI, "Anda terdaftar sebagai peserta Pelatihan Komunikasi Efektif")
    start, end = chain.day(1), chain.day(3)
    assert f"Jadwal: {chain.tanggal(start)} s.d. {chain.tanggal(end)}" in enrolled.body
    assert "Tempat: Aula Kantor Camat Plaju" in enrolled.body
    done = chain.training.post(f"/enrollments/{enrolment['enrollment_id']}/complete", expect=200)
    assert done["status"] == "completed"

    [completed] = chain.wait("enrollment.completed")
    [spent] = chain.wait("budget.spent")
    assert spent["causationid"] == completed["id"]
    assert spent["data"]["amount_rupiah"] == 2_500_000
    assert spent["data"]["enrollment_id"] == enrolment["enrollment_id"]
    assert spent["data"]["proposal_id"] == proposal_id

    # training: the JP ledger of the year, and the proposal completed
    ledger = chain.training.get(f"/employees/{org.employee['nip']}/jp", year=chain.year)
    assert (ledger["jp"], ledger["minimum_jp"], ledger["shortfall_jp"]) == (24, 20, 0)
    [entry] = ledger["entries"]
    assert (entry["source"], entry["title"], entry["jp_year"]) == (
        "enrollment",
        "Pelatihan Komunikasi Efektif",
        end.year,
    )
    assert (entry["started_on"], entry["ended_on"]) == (str(start), str(end))
    assert chain.training.get(f"/proposals/{proposal_id}")["status"] == "completed"
    under = chain.training.get("/jp/under-minimum", year=chain.year, unit_code=org.unit)
    assert [e["nip"] for u in under["units"] for e in u["employees"]] == [org.supervisor["nip"]]

    # budget: the reservation became spending
    position = seed.position(org)
    assert rupiah(position, "reserved", "spent", "committed", "available") == (
        0,
        2_500_000,
        2_500_000,
        17_500_000,
    )
    kinds = chain.budget.get("/ledger", proposal_id=proposal_id)["items"]
    assert sorted(e["kind"] for e in kinds) == ["reservation", "spend"]

    # competency: the development history with JP per year in her profile
    def history():
        profile = chain.competency.get(f"/employees/{org.employee['nip']}/profile")
        return profile if profile["development"]["activities"] else None

    profile = wait_for(history, 60, "the development history")
    [activity] = profile["development"]["activities"]
    assert activity == {
        "enrollment_id": enrolment["enrollment_id"],
        "programme_code": "KOM-EFEKTIF",
        "programme_title": "Pelatihan Komunikasi Efektif",
        "form": "klasikal",
        "activity": "pelatihan_manajerial",
        "jp": 24,
        "started_on": str(start),
        "ended_on": str(end),
        "jp_year": end.year,
        "competency_codes": ["M.03"],
    }
    assert profile["development"]["jp_per_year"] == [{"year": end.year, "jp": 24}]
    assert profile["latest_assessment"]["jpm"] == 97.22

    # notification: the completion by e-mail and in her inbox; the inspectorate's webhooks
    finished = chain.mail(SITI, "Pengembangan kompetensi selesai: Pelatihan Komunikasi Efektif")
    assert f"({chain.tanggal(start)} s.d. {chain.tanggal(end)})" in finished.body
    assert f"24 JP dicatat untuk tahun {end.year}." in finished.body
    received = chain.webhooks(receiver, 2)
    assert sorted(r["event"]["type"] for r in received) == sorted(
        [TYPES["enrollment.completed"], TYPES["budget.spent"]]
    )
    assert all(r["signature_valid"] and r["status"] == 200 for r in received)
    chain.settled()
    subjects = [m["subject"] for m in chain.inbox(org.employee["nip"])["items"]]
    assert subjects[0] == finished.subject  # newest first
    assert len(subjects) == 5  # result, proposal, approval, enrolment, completion


def test_a_reassessment_with_the_same_gaps_reserves_nothing_new_for_what_is_already_booked(
    chain, seed, levels
):
    org = seed.organisation()
    seed.programme("KOM-EFEKTIF", "Pelatihan Komunikasi Efektif", 2_500_000, {"M.03": 3})
    seed.allocation(org, 20_000_000)
    first = seed.assess(org, levels(2, {"M.03": 1.5}), str(uuid.uuid4()))
    [approved] = chain.wait("proposal.approved")
    assert seed.position(org)["reserved_rupiah"] == 2_500_000

    # the same gaps again, from a written test the same day: M.03 is booked already
    again = chain.competency.post(
        "/assessments",
        {
            "nip": org.employee["nip"],
            "assessed_on": first["assessed_on"],
            "method": "test",
            "levels": levels(2, {"M.03": 1.5}),
        },
    )
    assert again["supersedes"] == first["id"]
    [_, reviewed] = chain.wait("assessment.reviewed", 2)
    assert reviewed["data"]["assessment_id"] == again["id"]
    assert reviewed["data"]["outcome"] == "no_proposal"
    findings = {c["competency_code"]: c["finding"] for c in reviewed["data"]["competencies"]}
    assert findings["M.03"] == "already_booked"
    chain.settled()
    assert len(chain.named("proposal.created")) == 1
    assert len(chain.named("budget.reserved")) == 1
    assert seed.position(org)["reserved_rupiah"] == 2_500_000
    proposal = chain.training.get(f"/proposals/{approved['data']['proposal_id']}")
    assert proposal["status"] == "approved"
