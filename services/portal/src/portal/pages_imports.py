"""Assessment imports: upload, the refused rows (also as CSV), then how far the chain got."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from typing import Any

import openpyxl
from flask import Blueprint, Response, redirect, request

from .api import ServiceProblem
from .sessions import FollowedImport
from .web import current, render_page, store

blueprint = Blueprint("imports", __name__)
NIP = re.compile(r"\d{18}")


def nips_of(name: str, content: bytes) -> list[str]:
    """The NIPs of the file's rows, to follow them through the chain; a row whose NIP is not
    18 digits was refused and has no result to follow."""
    rows = _xlsx_rows(content) if name.lower().endswith(".xlsx") else _csv_rows(content)
    found = {str(row.get("nip") or "").replace(" ", "") for row in rows}
    return sorted(nip for nip in found if NIP.fullmatch(nip))


def _csv_rows(content: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig", errors="replace"))))


def _xlsx_rows(content: bytes) -> list[dict]:
    try:
        sheet = openpyxl.load_workbook(io.BytesIO(content), read_only=True).active
        rows = sheet.iter_rows(values_only=True)
        header = [str(cell or "").strip() for cell in next(rows)]
    except (OSError, ValueError, KeyError, StopIteration, zipfile.BadZipFile):
        return []  # competency says what is wrong with the file
    return [dict(zip(header, row, strict=False)) for row in rows]


@blueprint.get("/impor")
def form() -> Response:
    return render_page("import.html", nav="import", report=None)


@blueprint.post("/impor")
def upload() -> Response:
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return render_page(
            "import.html",
            nav="import",
            report=None,
            field_error="Pilih berkas CSV atau XLSX.",
            status=400,
        )
    content = upload.read()
    kind = "xlsx" if upload.filename.lower().endswith(".xlsx") else "csv"
    try:
        report = current().services.post(
            "competency",
            "/assessment-imports",
            params={"filename": upload.filename, "format": kind},
            files={"file": (upload.filename, content, upload.mimetype)},
        )
    except ServiceProblem as problem:
        if problem.status >= 500 or problem.status in (401, 403):
            raise
        return render_page(
            "import.html", nav="import", report=None, problem=problem, status=problem.status
        )
    store().keep_import(current().session.owner, report, nips_of(upload.filename, content))
    target = f"/impor/{report['import_id']}"
    if request.headers.get("HX-Request"):
        return Response(status=204, headers={"HX-Location": target})
    return redirect(target, code=303)


def _followed(import_id: str) -> FollowedImport:
    found = store().followed_import(current().session.owner, import_id)
    if found is None:
        raise ServiceProblem("portal", 404, {"detail": "Impor ini tidak dikenal."})
    return found


@blueprint.get("/impor/<import_id>")
def result(import_id: str) -> Response:
    followed = _followed(import_id)
    return render_page("import.html", nav="import", report=followed.report, nips=followed.nips)


@blueprint.get("/impor/<import_id>/ditolak.csv")
def refused(import_id: str) -> Response:
    report = _followed(import_id).report
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["baris", "kolom", "alasan"])
    for error in report["errors"]:
        writer.writerow([error["row"], error["column"], error["reason"]])
    return Response(
        out.getvalue(),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="ditolak-{import_id}.csv"'},
    )


def chain_progress(import_id: str, nips: list[str], reviewed: set[str]) -> dict[str, Any]:
    """The import's assessments in competency, their reviews and proposals in training, and
    what still waits for budget. ``reviewed`` (kept between polls) grows as training reviews
    them: a review is stored with its proposal, so asking for reviews before proposals never
    sees a reviewed assessment whose proposal is not there yet."""
    services = current().services
    assessments = [
        a
        for nip in nips
        for a in services.get("competency", "/assessments", nip=nip, per_page=50)["items"]
        if a.get("import_id") == import_id
    ]
    with_gaps = {a["id"] for a in assessments if any(r["gap"] < 0 for r in a["results"])}
    for assessment_id in sorted(with_gaps - reviewed):
        try:
            services.get("training", f"/assessments/{assessment_id}/review")
        except ServiceProblem as problem:
            if problem.status != 404:
                raise
        else:
            reviewed.add(assessment_id)
    proposals = [
        p
        for nip in nips
        for p in services.get("training", "/proposals", employee_nip=nip, per_page=100)["items"]
        if p["assessment_id"] in with_gaps
    ]
    waiting = sum(1 for p in proposals if p["status"] == "pending_budget")
    return {
        "assessments": len(assessments),
        "with_gaps": len(with_gaps),
        "proposals": proposals,
        "waiting": waiting,
        "settled": reviewed >= with_gaps and waiting == 0,
    }


@blueprint.get("/impor/<import_id>/kemajuan")
def progress(import_id: str) -> Response:
    followed = _followed(import_id)
    reviewed = set(followed.progress.get("reviewed", []))
    state = chain_progress(import_id, followed.nips, reviewed)
    store().save_progress(
        current().session.owner, import_id, {**followed.progress, "reviewed": sorted(reviewed)}
    )
    # 286: htmx stops polling once the chain has settled
    status = 286 if state["settled"] else 200
    return render_page("_chain_progress.html", import_id=import_id, state=state, status=status)
