"""Assessment imports: upload, the refused rows (a page at a time, and as CSV), then how far
the chain got: a small resource of counts that each poll advances by asking only about what
is still open, and the proposals, a page at a time, once the chain has settled."""

from __future__ import annotations

import csv
import io
from typing import Any

from flask import Blueprint, Response, redirect, request

from .api import ServiceProblem
from .sessions import FollowedImport
from .web import current, render_page, store

blueprint = Blueprint("imports", __name__)
ROWS_PER_PAGE = 50  # refused rows, and proposals, per page
CHECKS_PER_POLL = 200  # open reviews and undecided proposals asked about per poll


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
    kind = "xlsx" if upload.filename.lower().endswith(".xlsx") else "csv"
    try:
        report = current().services.post(
            "competency",
            "/assessment-imports",
            params={"filename": upload.filename, "format": kind},
            files={"file": (upload.filename, upload.read(), upload.mimetype)},
        )
    except ServiceProblem as problem:
        if problem.status >= 500 or problem.status in (401, 403):
            raise
        return render_page(
            "import.html", nav="import", report=None, problem=problem, status=problem.status
        )
    store().keep_import(current().session.owner, report)
    target = f"/impor/{report['import_id']}"
    if request.headers.get("HX-Request"):
        return Response(status=204, headers={"HX-Location": target})
    return redirect(target, code=303)


def _followed(import_id: str) -> FollowedImport:
    found = store().followed_import(current().session.owner, import_id)
    if found is None:
        raise ServiceProblem("portal", 404, {"detail": "Impor ini tidak dikenal."})
    return found


def page_of(items: list, page_text: str | None) -> tuple[list, int, int]:
    """(the items of the page asked for, its number, the number of pages)."""
    pages = max(1, -(-len(items) // ROWS_PER_PAGE))
    page = min(max(int(page_text) if (page_text or "").isdigit() else 1, 1), pages)
    return items[(page - 1) * ROWS_PER_PAGE : page * ROWS_PER_PAGE], page, pages


@blueprint.get("/impor/<import_id>")
def result(import_id: str) -> Response:
    report = _followed(import_id).report
    refused, page, pages = page_of(report["errors"], request.args.get("halaman"))
    return render_page(
        "import.html", nav="import", report=report, refused=refused, page=page, pages=pages
    )


@blueprint.get("/impor/<import_id>/ditolak.csv")
def refused_csv(import_id: str) -> Response:
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


def advance(import_id: str, progress: dict[str, Any]) -> dict[str, Any]:
    """One step of following the chain. The import's assessments are read once (competency,
    by import); then each step asks training only about assessments not reviewed yet and
    proposals not decided yet, at most CHECKS_PER_POLL of each. A review is stored with its
    proposal, so a reviewed assessment names its proposal (or that none was needed)."""
    services = current().services
    if "gaps" not in progress:
        recorded = services.every("competency", "/assessments", import_id=import_id)
        progress = {
            "assessments": len(recorded),
            "gaps": {  # assessment id → NIP, of those with a gap
                a["id"]: a["nip"] for a in recorded if any(r["gap"] < 0 for r in a["results"])
            },
            "reviewed": {},  # assessment id → its proposal id, or None
            "statuses": {},  # proposal id → its status
        }
    reviewed, statuses = progress["reviewed"], progress["statuses"]
    unreviewed = sorted(a for a in progress["gaps"] if a not in reviewed)[:CHECKS_PER_POLL]
    calls = {a: ("training", f"/assessments/{a}/review", {}) for a in unreviewed}
    for assessment_id, review in _answers(calls, missing_ok=True):
        reviewed[assessment_id] = review["proposal_id"]
    undecided = [p for p in reviewed.values() if p and statuses.get(p) in (None, "pending_budget")]
    calls = {p: ("training", f"/proposals/{p}", {}) for p in undecided[:CHECKS_PER_POLL]}
    for proposal_id, proposal in _answers(calls):
        statuses[proposal_id] = proposal["status"]
    return progress


def _answers(calls: dict[str, tuple], missing_ok: bool = False):
    """(name, answer) for each call, several at a time; a 404 is skipped when ``missing_ok``
    (not there yet)."""
    for key, answer in current().services.gather(calls).items():
        if isinstance(answer, ServiceProblem):
            if missing_ok and answer.status == 404:
                continue
            raise answer
        yield key, answer


def counts(progress: dict[str, Any]) -> dict[str, Any]:
    proposals = [p for p in progress["reviewed"].values() if p]
    waiting = sum(
        1 for p in proposals if progress["statuses"].get(p, "pending_budget") == "pending_budget"
    )
    reviewed = len(progress["reviewed"])
    return {
        "assessments": progress["assessments"],
        "with_gaps": len(progress["gaps"]),
        "reviewed": reviewed,
        "proposals": len(proposals),
        "waiting": waiting,
        "settled": reviewed == len(progress["gaps"]) and waiting == 0,
    }


@blueprint.get("/impor/<import_id>/kemajuan")
def progress(import_id: str) -> Response:
    followed = _followed(import_id)
    state = followed.progress
    if not state or not counts(state)["settled"]:
        state = advance(import_id, state)
        store().save_progress(current().session.owner, import_id, state)
    shown = counts(state)
    # 286: htmx stops polling once the chain has settled
    status = 286 if shown["settled"] else 200
    return render_page("_chain_progress.html", import_id=import_id, state=shown, status=status)


@blueprint.get("/impor/<import_id>/usulan")
def proposals(import_id: str) -> Response:
    """The import's proposals (with the alternatives of those waitlisted), a page of employees
    at a time, once the chain has settled."""
    state = _followed(import_id).progress
    gaps = state.get("gaps", {})
    nips = sorted({gaps[a] for a, proposal in state.get("reviewed", {}).items() if proposal})
    shown, page, pages = page_of(nips, request.args.get("halaman"))
    calls = {n: ("training", "/proposals", {"employee_nip": n, "per_page": 100}) for n in shown}
    found = [
        proposal
        for _, answer in _answers(calls)
        for proposal in answer["items"]
        if proposal["assessment_id"] in gaps
    ]
    return render_page(
        "_chain_proposals.html", import_id=import_id, proposals=found, page=page, pages=pages
    )
