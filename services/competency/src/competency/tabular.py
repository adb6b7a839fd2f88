"""Reading an assessment centre's spreadsheet (CSV or XLSX) into numbered rows.

Plain Python, shared by the service's import and the operator's command-line tool. Row
numbers are the ones a person sees in a spreadsheet: the header is row 1.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

XLSX_MAGIC = b"PK\x03\x04"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = ("csv", "xlsx")


class UnreadableFile(ValueError):
    """The file is not a CSV or XLSX table this service can read; the message says why."""


@dataclass
class Table:
    format: str
    header: list[str]
    rows: list[tuple[int, list[Any]]] = field(default_factory=list)  # (row number, cells)


def detect_format(content: bytes, filename: str | None = None) -> str:
    if content.startswith(XLSX_MAGIC):
        return "xlsx"
    if filename and filename.lower().endswith((".xlsx", ".xlsm")):
        raise UnreadableFile("Berkas bernama .xlsx tetapi isinya bukan XLSX.")
    return "csv"


def read_table(content: bytes, fmt: str | None = None, *, first_row: int = 2) -> Table:
    """The header and the non-blank rows of the first sheet, numbered from ``first_row``."""
    fmt = fmt or detect_format(content)
    if fmt == "xlsx":
        return _read_xlsx(content, first_row)
    if fmt == "csv":
        return _read_csv(content, first_row)
    raise UnreadableFile(f"Format {fmt!r} tidak dikenal; gunakan csv atau xlsx.")


def _decode(content: bytes) -> str:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return content.decode("cp1252", errors="replace")


def _read_csv(content: bytes, first_row: int) -> Table:
    text = _decode(content)
    first_line = text.split("\n", 1)[0]
    # spreadsheets set to Indonesian write ';' because ',' is their decimal separator
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise UnreadableFile("Berkas kosong: baris judul kolom tidak ditemukan.") from None
    except csv.Error as exc:
        raise UnreadableFile(f"Berkas CSV tidak dapat dibaca: {exc}.") from None
    table = Table("csv", [cell.strip() for cell in header])
    offset = first_row - 2
    try:
        for cells in reader:
            if any(cell.strip() for cell in cells):
                table.rows.append((reader.line_num + offset, cells))
    except csv.Error as exc:
        raise UnreadableFile(f"Berkas CSV rusak di baris {reader.line_num}: {exc}.") from None
    return table


def _read_xlsx(content: bytes, first_row: int) -> Table:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds for a broken file
        raise UnreadableFile(f"Berkas XLSX tidak dapat dibaca: {type(exc).__name__}.") from None
    try:
        sheet = workbook.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            raise UnreadableFile("Lembar kerja kosong: baris judul kolom tidak ditemukan.")
        table = Table("xlsx", [_text(cell).strip() for cell in header])
        for number, cells in enumerate(rows, start=first_row):
            if any(_text(cell).strip() for cell in cells):
                table.rows.append((number, list(cells)))
        return table
    finally:
        workbook.close()


def _text(cell: Any) -> str:
    return "" if cell is None else str(cell)


def cell_text(cell: Any) -> str:
    """A cell as the text a person reads: dates ISO, whole floats without '.0'."""
    if cell is None:
        return ""
    if isinstance(cell, datetime):
        return cell.date().isoformat()
    if isinstance(cell, date):
        return cell.isoformat()
    if isinstance(cell, float):
        # a NIP typed into a number cell comes back as a float too large to hold 18 digits
        return str(int(cell)) if cell.is_integer() and abs(cell) < 2**53 else repr(cell)
    return str(cell).strip()


def to_csv(header: list[str], rows: list[list[Any]]) -> bytes:
    """A CSV file of ``rows`` under ``header`` (how the CLI sends a chunk of any file)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for cells in rows:
        writer.writerow([cell_text(cell) for cell in cells])
    return out.getvalue().encode("utf-8")
