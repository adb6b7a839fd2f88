"""``competency-import``: an operator imports an assessment centre's file through the API.

    KOMPAS_TOKEN=<token> competency-import hasil-penilaian.xlsx --url http://localhost:8001

The bearer token (role admin) comes from the environment, never from the command line,
where other users of the machine could read it.
The file (CSV or XLSX) is read here and sent in chunks of rows to
``POST /assessment-imports``, so a progress bar can follow the rows; the row report is
printed with the row numbers of the original file. Importing the same file again changes
nothing. Exit status: 0 all rows good, 1 some rows rejected, 2 the file could not be imported.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

import requests
from tqdm import tqdm

from . import tabular

EXIT_OK, EXIT_REJECTED, EXIT_FAILED = 0, 1, 2


class ImportFailed(Exception):
    """The service refused the file or could not be reached; the message says why."""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="competency-import",
        description="Impor hasil penilaian kompetensi (CSV/XLSX) melalui API layanan kompetensi.",
    )
    parser.add_argument("file", type=Path, help="berkas CSV atau XLSX")
    parser.add_argument("--url", default="http://localhost:8001", help="alamat layanan kompetensi")
    parser.add_argument("--chunk-size", type=int, default=500, help="baris per permintaan")
    parser.add_argument("--timeout", type=float, default=300.0, help="detik per permintaan")
    parser.add_argument("--json", action="store_true", help="cetak laporan sebagai JSON")
    parser.add_argument("--quiet", action="store_true", help="tanpa bilah kemajuan")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        content = args.file.read_bytes()
        fmt = tabular.detect_format(content, args.file.name)
        table = tabular.read_table(content, fmt)
        report = import_table(table, args)
    except (OSError, tabular.UnreadableFile, ImportFailed) as exc:
        print(f"Impor gagal: {exc}", file=sys.stderr)
        return EXIT_FAILED
    report.update(filename=args.file.name, format=fmt)
    print(json.dumps(report, indent=2, ensure_ascii=False) if args.json else render(report))
    return EXIT_REJECTED if report["rejected"] else EXIT_OK


def import_table(table: tabular.Table, args: argparse.Namespace) -> dict[str, Any]:
    """Send the rows in chunks; merge the chunk reports under the file's own row numbers."""
    total = {"rows": 0, "stored": 0, "unchanged": 0, "rejected": 0, "replayed_chunks": 0}
    errors: list[dict[str, Any]] = []
    size = max(1, args.chunk_size)
    with tqdm(total=len(table.rows), unit="baris", desc=args.file.name, disable=args.quiet) as bar:
        for start in range(0, len(table.rows), size):
            chunk = table.rows[start : start + size]
            report = post_chunk(table.header, chunk, args)
            if report["replayed"]:  # the first report of this chunk: its rows are in already
                report["unchanged"] += report["stored"]
                report["stored"] = 0
                total["replayed_chunks"] += 1
            for name in ("rows", "stored", "unchanged", "rejected"):
                total[name] += report[name]
            numbers = [number for number, _ in chunk]
            errors.extend({**e, "row": numbers[e["row"] - 2]} for e in report["errors"])
            bar.update(len(chunk))
    return {**total, "errors": errors}


def post_chunk(header: list[str], chunk: list[tuple[int, list[Any]]], args) -> dict[str, Any]:
    body = tabular.to_csv(header, [cells for _, cells in chunk])
    try:
        response = requests.post(
            f"{args.url.rstrip('/')}/assessment-imports",
            params={"filename": args.file.name, "format": "csv"},
            data=body,
            headers={
                "Content-Type": "text/csv; charset=utf-8",
                "Authorization": f"Bearer {os.environ.get('KOMPAS_TOKEN', '')}",
            },
            timeout=args.timeout,
        )
    except requests.RequestException as exc:
        raise ImportFailed(f"layanan tidak dapat dihubungi ({type(exc).__name__}).") from None
    if response.status_code not in (200, 201):
        raise ImportFailed(describe_problem(response))
    return response.json()


def describe_problem(response: requests.Response) -> str:
    try:
        problem = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    detail = problem.get("detail") or problem.get("title") or f"HTTP {response.status_code}"
    if problem.get("errors"):
        detail += " " + json.dumps(problem["errors"], ensure_ascii=False)
    return detail


def render(report: dict[str, Any]) -> str:
    lines = [
        f"Berkas: {report['filename']} ({report['format']}), {report['rows']} baris",
        f"Tersimpan: {report['stored']}  Sudah tercatat: {report['unchanged']}  "
        f"Ditolak: {report['rejected']}",
    ]
    if report["replayed_chunks"]:
        lines.append(
            f"({report['replayed_chunks']} bagian berkas ini sudah pernah diimpor: tidak ada "
            "yang berubah)"
        )
    if report["errors"]:
        width = max(len(str(e["column"])) for e in report["errors"])
        lines.append("")
        lines.append(f"{'Baris':>6}  {'Kolom':<{width}}  Alasan")
        lines.extend(
            f"{e['row']:>6}  {e['column']:<{width}}  {e['reason']}" for e in report["errors"]
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
