"""The import adapter: a CSV or XLSX file of assessments read into submissions for the
:class:`~.recording.Recorder`, row by row, with a report of the rows refused and why; the same
file sent again answers its earlier report.
"""

from __future__ import annotations

import hashlib
import re
import time
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.exc import IntegrityError

from asn_shared.errors import Invalid, TooLarge
from asn_shared.persistence import UnitOfWork

from . import domain, repository, tabular
from .recording import Recorder, Rejected, Submission

MAX_IMPORT_ROWS = 10_000  # per request; competency-import sends a bigger file in chunks
YIELD_EVERY = 200  # rows between giving other requests (health checks too) their turn
COLUMN_ALIASES = {
    "nip": "nip",
    "assessed_on": "assessed_on",
    "tanggal": "assessed_on",
    "tanggal_penilaian": "assessed_on",
    "method": "method",
    "metode": "method",
    "jabatan_code": "jabatan_code",
    "jabatan": "jabatan_code",
    "kode_jabatan": "jabatan_code",
}
IGNORED_COLUMNS = {"nama", "name", "catatan", "keterangan", "note", "notes"}
METHOD_ALIASES = {"assessment_center": "assessment_centre", "ac": "assessment_centre"}
SCIENTIFIC = re.compile(r"^\d(\.\d+)?e\+?\d+$", re.IGNORECASE)

# --- a file of assessments ----------------------------------------------------------------


@dataclass
class Columns:
    fields: dict[str, int]  # nip, assessed_on, method, jabatan_code → index
    competencies: dict[int, str]  # index → competency code
    names: list[str]  # the header as written

    def name_of(self, problem_key: str) -> str:
        """The column, as its header is written, that a field or competency code is in."""
        if problem_key in self.fields:
            return self.names[self.fields[problem_key]]
        for index, code in self.competencies.items():
            if code == problem_key:
                return self.names[index]
        return problem_key

    def position(self, column: str) -> int:
        return self.names.index(column) if column in self.names else -1


def import_assessments(
    uow: UnitOfWork,
    rules: domain.Rules,
    content: bytes,
    *,
    filename: str | None = None,
    fmt: str | None = None,
    first_row: int = 2,
    today: date | None = None,
) -> tuple[bool, dict[str, Any]]:
    """Import a CSV or XLSX file; (True, report) when new, (False, report) for a replay.

    Good rows are stored and announced; bad ones are reported by row, column and reason.
    The same file imported again changes nothing and returns the first report.
    """
    digest = hashlib.sha256(content).hexdigest()
    with uow:
        earlier = _earlier_import(uow, digest, first_row)
        if earlier is not None:
            return False, earlier
        try:
            fmt = fmt or tabular.detect_format(content, filename)
            if fmt == "csv" and b"\x00" in content:  # no text cell may hold it (PostgreSQL)
                raise tabular.UnreadableFile(
                    "Berkas CSV memuat byte NUL (mungkin UTF-16): simpan sebagai CSV UTF-8."
                )
            table = tabular.read_table(content, fmt, first_row=first_row)
        except tabular.UnreadableFile as exc:
            raise Invalid({"file": [str(exc)]}, str(exc), code="import.unreadable") from None
        if len(table.rows) > MAX_IMPORT_ROWS:
            raise TooLarge(
                f"Berkas memuat {len(table.rows)} baris; paling banyak {MAX_IMPORT_ROWS} baris "
                "per unggahan. competency-import mengirim berkas besar per 500 baris.",
                limit_rows=MAX_IMPORT_ROWS,
            )
        repo = uow.repository(repository.sql)
        columns = _columns(repo.competency_codes(), table.header)
        import_id = uuid.uuid4()
        errors: list[dict[str, Any]] = []
        parsed = []
        for index, (number, cells) in enumerate(table.rows):
            _take_turns(index)
            try:
                parsed.append((number, _submission(columns, cells)))
            except Rejected as exc:
                errors.extend(_row_errors(number, exc, columns))
        recorder = Recorder(
            uow, rules, {s.nip for _, s in parsed}, import_id=import_id, today=today
        )
        stored = unchanged = 0
        for index, (number, submission) in enumerate(parsed):
            _take_turns(index)
            try:
                outcome = recorder.record(submission, origin=number)
            except Rejected as exc:
                errors.extend(_row_errors(number, exc, columns))
                continue
            stored += outcome.status == "stored"
            unchanged += outcome.status == "unchanged"
        errors.sort(key=lambda error: (error["row"], columns.position(error["column"])))
        report = {
            "import_id": str(import_id),
            "filename": filename,
            "format": fmt,
            "sha256": digest,
            "rows": len(table.rows),
            "stored": stored,
            "unchanged": unchanged,
            "rejected": len({error["row"] for error in errors}),
            "errors": errors,
            "replayed": False,
        }
        repo.add_import(
            {
                "id": import_id,
                "filename": filename,
                "sha256": digest,
                "first_row": first_row,
                "format": fmt,
                "report": report,
            }
        )
        recorder.flush()
        try:
            uow.commit()
        except IntegrityError:  # the same file, imported concurrently, committed first
            uow.rollback()
            earlier = _earlier_import(uow, digest, first_row)
            if earlier is None:
                raise
            return False, earlier
        return True, report


def _take_turns(index: int) -> None:
    """Let other green threads run now and then: an import is CPU work that never waits."""
    if index % YIELD_EVERY == YIELD_EVERY - 1:
        time.sleep(0)  # green under nameko's monkey-patching: a switch to the hub


def _earlier_import(uow: UnitOfWork, digest: str, first_row: int) -> dict[str, Any] | None:
    report = uow.repository(repository.sql).import_report(digest, first_row)
    return None if report is None else {**report, "replayed": True}


def _columns(known: list[str], header: list[str]) -> Columns:
    """Map the header to fields and the ``known`` competency codes; a 400 naming unknown
    columns."""
    codes = {code.upper(): code for code in known}
    fields: dict[str, int] = {}
    competencies: dict[int, str] = {}
    unknown = []
    for index, name in enumerate(header):
        key = name.strip().lower().replace(" ", "_")
        if key in COLUMN_ALIASES:
            fields.setdefault(COLUMN_ALIASES[key], index)
        elif name.strip().upper() in codes:
            competencies[index] = codes[name.strip().upper()]
        elif key and key not in IGNORED_COLUMNS:
            unknown.append(name)
    missing = [name for name in ("nip", "assessed_on", "method") if name not in fields]
    if unknown or missing or not competencies:
        problems = {}
        if unknown:
            problems["unknown_columns"] = unknown
        if missing:
            problems["missing_columns"] = missing
        if not competencies:
            problems["competency_columns"] = ["Tidak ada kolom kode kompetensi (mis. M.01)."]
        raise Invalid(
            problems,
            "Judul kolom tidak sesuai: kolom wajib nip, assessed_on, method; kolom lain "
            "berupa kode kompetensi (mis. M.01, SK.01); jabatan_code boleh ada.",
            code="import.columns",
        )
    return Columns(fields, competencies, [name.strip() for name in header])


def _cell(cells: list[Any], index: int | None) -> Any:
    if index is None or index >= len(cells):
        return None
    return cells[index]


def _submission(columns: Columns, cells: list[Any]) -> Submission:
    """One row's values, or Rejected naming every column that cannot be read."""
    problems: dict[str, str] = {}
    nip = _nip(_cell(cells, columns.fields["nip"]), problems)
    assessed_on = _date(_cell(cells, columns.fields["assessed_on"]), problems)
    method = _method(_cell(cells, columns.fields["method"]), problems)
    jabatan_code = tabular.cell_text(_cell(cells, columns.fields.get("jabatan_code"))) or None
    levels: dict[str, Decimal] = {}
    for index, code in columns.competencies.items():
        text = tabular.cell_text(_cell(cells, index))
        if not text:
            continue
        try:
            levels[code] = domain.parse_level(text)
        except domain.InvalidLevel as exc:
            problems[code] = str(exc)
    if problems:
        raise Rejected(problems)
    return Submission(nip, jabatan_code, assessed_on, method, levels)


def _nip(cell: Any, problems: dict[str, str]) -> str | None:
    text = tabular.cell_text(cell)
    if isinstance(cell, float) or SCIENTIFIC.match(text):
        problems["nip"] = (
            f"NIP tersimpan sebagai angka ({text}) sehingga digitnya hilang; "
            "format kolom NIP sebagai Teks."
        )
        return None
    try:
        return domain.parse_nip(text).value
    except domain.InvalidNip as exc:
        problems["nip"] = " ".join(exc.messages)
        return None


def _date(cell: Any, problems: dict[str, str]) -> date | None:
    if isinstance(cell, datetime):
        return cell.date()
    if isinstance(cell, date):
        return cell
    text = tabular.cell_text(cell)
    for pattern in ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    problems["assessed_on"] = (
        f"Tanggal '{text}' tidak dikenali; tulis YYYY-MM-DD (mis. 2026-03-15) atau DD/MM/YYYY."
        if text
        else "Tanggal penilaian wajib diisi."
    )
    return None


def _method(cell: Any, problems: dict[str, str]) -> str | None:
    key = tabular.cell_text(cell).lower().replace(" ", "_").replace("-", "_")
    key = METHOD_ALIASES.get(key, key)
    if key in domain.ASSESSMENT_METHODS:
        return key
    problems["method"] = (
        f"Metode '{tabular.cell_text(cell)}' tidak dikenal; pilih salah satu: "
        f"{', '.join(domain.ASSESSMENT_METHODS)}."
    )
    return None


def _row_errors(number: int, exc: Rejected, columns: Columns) -> list[dict[str, Any]]:
    return [
        {"row": number, "column": columns.name_of(name), "reason": reason}
        for name, reason in exc.problems.items()
    ]
