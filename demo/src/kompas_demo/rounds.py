"""An assessment round through the whole chain: import, wait until it settles, summarise.

The round is written as the CSV an assessment centre would hand over and imported through
competency's ``POST /assessment-imports`` in chunks (the same file again changes nothing).
Competency announces each result; training proposes development for the gaps; budget
reserves or rejects; notification tells the people concerned. The round has *settled* when:

- no service has events left in its outbox (``asn_outbox_backlog`` is 0 everywhere);
- no proposal of the fiscal year is still ``pending_budget``;
- every employee whose current assessment has a gap has a proposal for that assessment;
- notification has heard of every current assessment (one inbox message each), and every
  e-mail or webhook delivery has been attempted at least once;
- and none of those figures has moved for a quiet period (events may still be in a queue).
"""

from __future__ import annotations

import csv
import io
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from tqdm import tqdm

from .api import ServiceError, Services
from .dataset import AssessmentRow

FIELDS = ("nip", "nama", "assessed_on", "method", "jabatan_code")
STATUSES = (
    "pending_budget",
    "approved",
    "partially_approved",
    "waitlisted",
    "enrolled",
    "completed",
    "cancelled",
)
CHANNELS = ("email", "inbox", "webhook")
DELIVERY_STATES = ("delivered", "pending", "parked")


# --- the file -----------------------------------------------------------------------------


def level_text(level: float) -> str:
    return str(int(level)) if float(level).is_integer() else str(level)


def competency_columns(rows: Iterable[AssessmentRow]) -> list[str]:
    """Managerial first (M.), then socio-cultural (SK.), then technical, each sorted."""
    codes = {code for row in rows for code in row.levels}
    order = {"M": 0, "SK": 1}
    return sorted(codes, key=lambda code: (order.get(code.split(".")[0], 2), code))


def to_csv(rows: Sequence[AssessmentRow]) -> bytes:
    """The round as a CSV file: one row per employee, one column per competency code."""
    codes = competency_columns(rows)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*FIELDS, *codes])
    for row in rows:
        writer.writerow(
            [
                row.nip,
                row.name,
                row.assessed_on.isoformat(),
                row.method,
                row.jabatan_code,
                *(level_text(row.levels[c]) if c in row.levels else "" for c in codes),
            ]
        )
    return out.getvalue().encode("utf-8")


def chunks(content: bytes, size: int) -> list[bytes]:
    """The file cut into files of ``size`` data rows, each with the header."""
    header, *lines = content.decode("utf-8").splitlines(keepends=True)
    return [
        (header + "".join(lines[start : start + size])).encode("utf-8")
        for start in range(0, len(lines), size)
    ]


@dataclass
class ImportReport:
    rows: int = 0
    stored: int = 0
    unchanged: int = 0
    rejected: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)


def import_file(
    services: Services, content: bytes, filename: str, *, chunk_size: int, progress: bool
) -> ImportReport:
    """POST the file in chunks; a chunk imported before answers its first report (replayed),
    whose rows are then counted as unchanged."""
    report = ImportReport()
    parts = chunks(content, chunk_size)
    offset = 0
    with tqdm(
        total=sum(p.count(b"\n") - 1 for p in parts),
        desc="impor hasil penilaian",
        unit="baris",
        disable=not progress,
    ) as bar:
        for part in parts:
            answer = services.competency.request(
                "POST",
                "/assessment-imports",
                expect=(200, 201),
                params={"filename": filename, "format": "csv"},
                data=part,
                headers={"Content-Type": "text/csv; charset=utf-8"},
            )
            stored = 0 if answer["replayed"] else answer["stored"]
            report.rows += answer["rows"]
            report.stored += stored
            report.unchanged += answer["unchanged"] + answer["stored"] - stored
            report.rejected += answer["rejected"]
            report.errors += [{**e, "row": e["row"] + offset} for e in answer["errors"]]
            offset += answer["rows"]
            bar.update(answer["rows"])
    return report


# --- what the services say ----------------------------------------------------------------


@dataclass
class Gaps:
    """The current assessments and their gaps, as competency holds them."""

    assessments: dict[str, str]  # nip → current assessment id
    with_gaps: dict[str, str]  # nip → current assessment id, for those with a negative gap
    gaps: int  # (employee, competency) pairs below the standard


def current_gaps(services: Services) -> Gaps:
    assessments, with_gaps, gaps = {}, {}, 0
    for assessment in services.competency.every("/assessments", current_only="true"):
        nip, identifier = assessment["nip"], assessment["id"]
        assessments[nip] = identifier
        below = sum(1 for result in assessment["results"] if result["gap"] < 0)
        if below:
            with_gaps[nip] = identifier
            gaps += below
    return Gaps(assessments, with_gaps, gaps)


def every_proposal(services: Services) -> list[dict[str, Any]]:
    return list(services.training.every("/proposals"))


def unreviewed(services: Services, gaps: Gaps, nips: list[str]) -> list[str]:
    """Of ``nips``, those whose current assessment training has not reviewed as leading to
    no proposal (nothing on offer narrows the gap, or development already booked closes it)."""
    waiting = []
    for nip in nips:
        answer = services.training.request(
            "GET", f"/assessments/{gaps.with_gaps[nip]}/review", expect=(200, 404)
        )
        if not answer or answer.get("outcome") != "no_proposal":
            waiting.append(nip)
    return waiting


def undecided(gaps: Gaps, all_proposals: Iterable[dict[str, Any]]) -> list[str]:
    """NIPs with a gap whose current assessment has no proposal decided by the budget."""
    decided = {
        p["assessment_id"]
        for p in all_proposals
        if p["status"] != "pending_budget" and p["alternative_of"] is None
    }
    return sorted(nip for nip, assessment in gaps.with_gaps.items() if assessment not in decided)


@dataclass(frozen=True)
class Pulse:
    """Cheap figures, read every poll, that move while the chain works."""

    backlog: int
    pending_budget: int
    proposals: int
    ledger: int
    deliveries: int
    results_told: int

    @property
    def fingerprint(self) -> tuple[int, ...]:
        return (self.proposals, self.ledger, self.deliveries, self.results_told)


def pulse(services: Services, fiscal_year: int) -> Pulse:
    return Pulse(
        backlog=sum(client.outbox_backlog() for client in services.all()),
        pending_budget=services.training.total(
            "/proposals", fiscal_year=fiscal_year, status="pending_budget"
        ),
        proposals=services.training.total("/proposals", fiscal_year=fiscal_year),
        ledger=services.budget.total("/ledger", fiscal_year=fiscal_year),
        deliveries=services.notification.total("/deliveries"),
        results_told=services.notification.total(
            "/deliveries", event_type="assessment.recorded", channel="inbox"
        ),
    )


def unattempted_deliveries(services: Services) -> int:
    return sum(
        1 for d in services.notification.every("/deliveries", status="pending") if not d["attempts"]
    )


# --- waiting --------------------------------------------------------------------------------


@dataclass
class Settling:
    settled: bool
    seconds: float
    waiting_for: list[str]


def wait_until_settled(
    services: Services,
    fiscal_year: int,
    *,
    timeout: float,
    quiet: float = 3.0,
    poll: float = 1.0,
    progress: bool = True,
) -> Settling:
    """Poll the services until the round has settled (see the module's docstring)."""
    started = time.monotonic()
    watch = Watch(services, fiscal_year, current_gaps(services), quiet)
    with tqdm(
        total=len(watch.gaps.assessments),
        desc="rantai: hasil diberitahukan",
        unit="pegawai",
        disable=not progress,
    ) as bar:
        while True:
            waiting = watch.check(bar)
            elapsed = time.monotonic() - started
            if not waiting or elapsed > timeout:
                return Settling(not waiting, elapsed, waiting)
            time.sleep(poll)


@dataclass
class Watch:
    services: Services
    fiscal_year: int
    gaps: Gaps
    quiet: float
    last: tuple[int, ...] | None = None
    still_since: float = field(default_factory=time.monotonic)

    def check(self, bar: tqdm) -> list[str]:
        """What the round still waits for; nothing once it has settled. A service that does
        not answer (busy, restarting) is asked again at the next poll."""
        try:
            now = pulse(self.services, self.fiscal_year)
        except ServiceError as exc:
            return [str(exc)]
        bar.n = min(now.results_told, bar.total)
        bar.set_postfix(
            usulan=now.proposals,
            menunggu_anggaran=now.pending_budget,
            outbox=now.backlog,
            notifikasi=now.deliveries,
            refresh=False,
        )
        bar.refresh()
        if now.fingerprint != self.last:
            self.last, self.still_since = now.fingerprint, time.monotonic()
        waiting = _waiting_for(now, self.gaps)
        if waiting:
            return waiting
        if time.monotonic() - self.still_since < self.quiet:
            return ["masa tenang belum tercapai"]
        try:
            return _final_check(self.services, self.fiscal_year, self.gaps)
        except ServiceError as exc:
            return [str(exc)]


def _waiting_for(now: Pulse, gaps: Gaps) -> list[str]:
    waiting = []
    if now.backlog:
        waiting.append(f"{now.backlog} peristiwa di outbox")
    if now.pending_budget:
        waiting.append(f"{now.pending_budget} usulan pending_budget")
    if now.results_told < len(gaps.assessments):
        waiting.append(
            f"notifikasi baru memberi tahu {now.results_told} dari {len(gaps.assessments)} hasil"
        )
    return waiting


def _final_check(services: Services, fiscal_year: int, gaps: Gaps) -> list[str]:
    waiting = []
    # a proposal may belong to next year (its batches end then), or training may have
    # found nothing to propose: its review of the assessment says so
    missing = unreviewed(services, gaps, undecided(gaps, every_proposal(services)))
    if missing:
        waiting.append(f"{len(missing)} pegawai dengan gap belum punya usulan yang diputuskan")
    unattempted = unattempted_deliveries(services)
    if unattempted:
        waiting.append(f"{unattempted} pengiriman belum dicoba")
    return waiting


# --- the summary ----------------------------------------------------------------------------


def summarise(
    services: Services,
    fiscal_year: int,
    *,
    assessed_on: date,
    imported: ImportReport,
    settling: Settling,
) -> dict[str, Any]:
    """The round's figures, every one read from the services' APIs."""
    gaps = current_gaps(services)
    all_proposals = every_proposal(services)  # this year's and those planned for the next
    statuses = Counter(p["status"] for p in all_proposals)
    report = services.budget.get("/reports/utilisation", fiscal_year=fiscal_year)
    names = {unit["code"]: unit["name"] for unit in services.competency.every("/units")}
    per_unit: dict[str, Counter] = defaultdict(Counter)
    for proposal in (p for p in all_proposals if p["fiscal_year"] == fiscal_year):
        per_unit[proposal["unit_code"]][proposal["status"]] += 1
        per_unit[proposal["unit_code"]]["total"] += 1
    allocated = {unit["unit_code"] for unit in report["units"]}
    return {
        "assessed_on": assessed_on.isoformat(),
        "fiscal_year": fiscal_year,
        "settled": settling.settled,
        "waited_seconds": round(settling.seconds, 1),
        "waiting_for": settling.waiting_for,
        "import": {
            "rows": imported.rows,
            "stored": imported.stored,
            "unchanged": imported.unchanged,
            "rejected": imported.rejected,
        },
        "assessed": len(gaps.assessments),
        "employees_with_gaps": len(gaps.with_gaps),
        "gaps": gaps.gaps,
        "proposals": {
            "total": len(all_proposals),
            "alternatives": sum(1 for p in all_proposals if p["alternative_of"] is not None),
            "by_status": {status: statuses[status] for status in STATUSES},
        },
        "units": [
            {
                "unit_code": unit["unit_code"],
                "unit_name": names.get(unit["unit_code"], unit["unit_name"]),
                "allocated_rupiah": unit["allocated_rupiah"],
                "reserved_rupiah": unit["reserved_rupiah"],
                "available_rupiah": unit["available_rupiah"],
                "utilisation_percent": unit["utilisation_percent"],
                "proposals": per_unit[unit["unit_code"]]["total"],
                "waitlisted": per_unit[unit["unit_code"]]["waitlisted"],
            }
            for unit in report["units"]
        ],
        "units_without_allocation": [
            {
                "unit_code": code,
                "unit_name": names.get(code, code),
                "proposals": counts["total"],
                "waitlisted": counts["waitlisted"],
            }
            for code, counts in sorted(per_unit.items())
            if code not in allocated
        ],
        "budget_totals": report["totals"],
        "notifications": {
            channel: {
                state: services.notification.total("/deliveries", channel=channel, status=state)
                for state in DELIVERY_STATES
            }
            for channel in CHANNELS
        },
    }


def rupiah(amount: int) -> str:
    """Whole rupiah with dots between thousands: ``Rp 5.260.000``."""
    sign = "-" if amount < 0 else ""
    return f"{sign}Rp {abs(int(amount)):,}".replace(",", ".")


def number(value: int) -> str:
    return f"{value:,}".replace(",", ".")


def percent(value: float) -> str:
    return f"{value:.1f}".replace(".", ",") + " %"


def render(summary: dict[str, Any]) -> str:
    """The summary as an operator reads it (Bahasa Indonesia)."""
    imported, proposals_ = summary["import"], summary["proposals"]
    by_status = proposals_["by_status"]
    lines = [
        f"Ringkasan putaran penilaian {summary['assessed_on']} "
        f"(tahun anggaran {summary['fiscal_year']})",
        "",
        f"  Baris diimpor          : {number(imported['rows'])} (baru {number(imported['stored'])}"
        f", sudah tercatat {number(imported['unchanged'])}, ditolak "
        f"{number(imported['rejected'])})",
        f"  Pegawai dinilai        : {number(summary['assessed'])}",
        f"  Pegawai dengan gap     : {number(summary['employees_with_gaps'])}",
        f"  Gap kompetensi         : {number(summary['gaps'])}",
        f"  Usulan pengembangan    : {number(proposals_['total'])} (termasuk "
        f"{number(proposals_['alternatives'])} usulan alternatif)",
        f"    disetujui            : {number(by_status['approved'])}",
        f"    disetujui sebagian   : {number(by_status['partially_approved'])}",
        f"    daftar tunggu        : {number(by_status['waitlisted'])}",
    ]
    others = [
        f"{status} {number(by_status[status])}"
        for status in ("pending_budget", "enrolled", "completed", "cancelled")
        if by_status[status]
    ]
    if others:
        lines.append(f"    lainnya              : {', '.join(others)}")
    lines += ["", "  Anggaran pelatihan per unit (dicadangkan dari pagu):"]
    lines += _unit_table(summary)
    lines += ["", "  Notifikasi menurut kanal (log pengiriman):"]
    for channel, states in summary["notifications"].items():
        lines.append(
            f"    {channel:<8} terkirim {number(states['delivered']):>6}   menunggu "
            f"{number(states['pending']):>5}   gagal/parkir {number(states['parked']):>4}"
        )
    seconds = f"{summary['waited_seconds']:.1f}".replace(".", ",")
    if summary["settled"]:
        lines += ["", f"  Rantai tenang setelah {seconds} detik."]
    else:
        lines += [
            "",
            f"  PERINGATAN: rantai belum tenang setelah {seconds} detik; masih menunggu: "
            + "; ".join(summary["waiting_for"]),
        ]
    return "\n".join(lines)


def _unit_table(summary: dict[str, Any]) -> list[str]:
    units = sorted(summary["units"], key=lambda u: u["unit_name"])
    width = max([len(u["unit_name"]) for u in units] + [len("Jumlah"), 10])
    head = (
        f"    {'Unit':<{width}}  {'Pagu':>16}  {'Dicadangkan':>16}  {'Sisa':>16}  "
        f"{'Serapan':>8}  {'Usulan':>6}  {'Tunggu':>6}"
    )
    lines = [head, "    " + "-" * (len(head) - 4)]
    for unit in units:
        lines.append(
            f"    {unit['unit_name']:<{width}}  {rupiah(unit['allocated_rupiah']):>16}  "
            f"{rupiah(unit['reserved_rupiah']):>16}  {rupiah(unit['available_rupiah']):>16}  "
            f"{percent(unit['utilisation_percent']):>8}  {unit['proposals']:>6}  "
            f"{unit['waitlisted']:>6}"
        )
    totals = summary["budget_totals"]
    lines.append("    " + "-" * (len(head) - 4))
    lines.append(
        f"    {'Jumlah':<{width}}  {rupiah(totals['allocated_rupiah']):>16}  "
        f"{rupiah(totals['reserved_rupiah']):>16}  {rupiah(totals['available_rupiah']):>16}  "
        f"{percent(totals['utilisation_percent']):>8}"
    )
    for unit in summary["units_without_allocation"]:
        lines.append(
            f"    Tanpa pagu: {unit['unit_name']} — {unit['proposals']} usulan, "
            f"{unit['waitlisted']} di daftar tunggu"
        )
    return lines


def write_csv(rows: Sequence[AssessmentRow], path: Path) -> bytes:
    content = to_csv(rows)
    path.write_bytes(content)
    return content


def standards_of(services: Services) -> dict[str, dict[str, int]]:
    """Each jabatan's required level per competency, as the competency service holds it."""
    return {
        jabatan["code"]: {
            cell["competency_code"]: cell["required_level"] for cell in jabatan["standards"]
        }
        for jabatan in services.competency.every("/jabatan")
    }
