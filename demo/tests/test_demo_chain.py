"""``kompas-demo seed`` and ``round`` against the four services running as real processes:
the summary it prints must be what the services' APIs say, and running it again changes
nothing."""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from pathlib import Path

from asn_testkit.auth import admin_http

from kompas_demo.rounds import rupiah

EMPLOYEES = 40
ARGS = ("--employees", str(EMPLOYEES), "--quiet")


def every(url: str, **params) -> list[dict]:
    items, page = [], 1
    while True:
        answer = admin_http.get(url, params={**params, "page": page, "per_page": 500}, timeout=30)
        assert answer.status_code == 200, answer.text
        items += answer.json()["items"]
        if page * 500 >= answer.json()["total"]:
            return items
        page += 1


def total(url: str, **params) -> int:
    answer = admin_http.get(url, params={**params, "per_page": 1}, timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()["total"]


def seeded_counts(output: str) -> dict[str, tuple[int, int]]:
    """The seed's table: kind → (created, already there)."""
    rows = re.findall(r"^  (\S.*?)\s+(\d+)\s+(\d+)$", output, re.MULTILINE)
    return {kind: (int(created), int(existing)) for kind, created, existing in rows}


def test_seed_then_round_settles_and_the_summary_matches_the_services(
    kompas_demo, suite_urls, smtp_server, tmp_path: Path
) -> None:
    competency, training, budget, notification = (
        suite_urls[name] for name in ("competency", "training", "budget", "notification")
    )

    # seed, then seed again: everything is there already, nothing is added
    first = kompas_demo("seed", *ARGS)
    assert first.returncode == 0, first.stderr
    created = seeded_counts(first.stdout)
    assert created["pegawai"] == (EMPLOYEES, 0) and created["unit"][0] > 20
    again = kompas_demo("seed", *ARGS)
    assert again.returncode == 0, again.stderr
    assert {
        kind: counts[0] for kind, counts in seeded_counts(again.stdout).items()
    } == dict.fromkeys(created, 0)
    assert seeded_counts(again.stdout) == {kind: (0, c[0]) for kind, c in created.items()}
    assert total(f"{competency}/employees") == EMPLOYEES
    assert total(f"{notification}/officials") == created["petugas notifikasi"][0]

    # the round, with the summary as JSON
    csv_path = tmp_path / "penilaian.csv"
    run = kompas_demo("round", *ARGS, "--json", "--csv", str(csv_path), "--quiet-period", "2")
    assert run.returncode == 0, run.stderr + run.stdout
    summary = json.loads(run.stdout)
    assert summary["settled"] is True
    assert summary["import"] == {
        "rows": EMPLOYEES,
        "stored": EMPLOYEES,
        "unchanged": 0,
        "rejected": 0,
    }
    assert len(csv_path.read_text().splitlines()) == EMPLOYEES + 1

    # competency: who was assessed and who falls short
    assessments = every(f"{competency}/assessments", current_only="true")
    short = {a["nip"]: a["id"] for a in assessments if any(r["gap"] < 0 for r in a["results"])}
    gaps = sum(1 for a in assessments for r in a["results"] if r["gap"] < 0)
    assert summary["assessed"] == len(assessments) == EMPLOYEES
    assert summary["employees_with_gaps"] == len(short) > 0
    assert summary["gaps"] == gaps

    # training: every employee with a gap has a proposal the budget has decided
    proposals = every(f"{training}/proposals")
    statuses = Counter(p["status"] for p in proposals)
    assert summary["proposals"]["total"] == len(proposals)
    assert summary["proposals"]["by_status"] == {
        status: statuses[status] for status in summary["proposals"]["by_status"]
    }
    assert statuses["pending_budget"] == 0
    decided = {p["assessment_id"] for p in proposals if p["alternative_of"] is None}
    assert set(short.values()) <= decided
    assert statuses["approved"] > 0 and statuses["waitlisted"] > 0  # tight budgets show

    # budget: what each unit reserved is what training holds as reserved for its proposals
    year = summary["fiscal_year"]
    this_year = [p for p in proposals if p["fiscal_year"] == year]  # in December some are next
    reserved_by_training = defaultdict(int)
    for proposal in this_year:
        reserved_by_training[proposal["unit_code"]] += proposal["reserved_rupiah"]
    for unit in summary["units"]:
        position = admin_http.get(
            f"{budget}/allocations/{unit['unit_code']}/{year}", timeout=30
        ).json()
        assert unit["reserved_rupiah"] == position["reserved_rupiah"]
        assert unit["reserved_rupiah"] == reserved_by_training[unit["unit_code"]]
        assert unit["allocated_rupiah"] == position["allocated_rupiah"]
    reserved = sum(unit["reserved_rupiah"] for unit in summary["units"])
    assert reserved == summary["budget_totals"]["reserved_rupiah"] > 0
    without = {unit["unit_code"] for unit in summary["units_without_allocation"]}
    assert without == {p["unit_code"] for p in this_year} - {
        u["unit_code"] for u in summary["units"]
    }

    # notification: the delivery log, and the e-mails the SMTP server really received
    for channel, states in summary["notifications"].items():
        for state, count in states.items():
            assert count == total(f"{notification}/deliveries", channel=channel, status=state)
    email = summary["notifications"]["email"]
    assert email["delivered"] == len(smtp_server.messages()) > 0
    assert email["pending"] == email["parked"] == 0
    told = total(f"{notification}/deliveries", event_type="assessment.recorded", channel="inbox")
    assert told == EMPLOYEES

    # the same round again, as an operator reads it: nothing new, the same figures
    repeat = kompas_demo("round", *ARGS, "--csv", str(csv_path), "--quiet-period", "1")
    assert repeat.returncode == 0, repeat.stderr + repeat.stdout
    assert f"{EMPLOYEES} (baru 0, sudah tercatat {EMPLOYEES}, ditolak 0)" in repeat.stdout
    assert rupiah(reserved) in repeat.stdout
    assert f"Usulan pengembangan    : {len(proposals)} " in repeat.stdout
    assert total(f"{training}/proposals") == len(proposals)
