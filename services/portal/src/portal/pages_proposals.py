"""The proposals queue: filter by unit, status and age; approve, cancel, enrol."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Blueprint, Response, redirect, request

from . import i18n
from .api import ServiceProblem
from .web import current, render_page

blueprint = Blueprint("proposals", __name__)
STATUSES = tuple(i18n.STATUSES["id"])  # as training names them, in life-cycle order
SHOWN = 200  # rows on one page of the queue


def _filters() -> dict[str, Any]:
    age = request.args.get("umur", "").strip()
    return {
        "unit": request.args.get("unit", "").strip(),
        "status": request.args.get("status", "").strip(),
        "age": int(age) if age.isdigit() else None,
    }


def _older_than(proposal: dict[str, Any], days: int | None) -> bool:
    if not days:
        return True
    created = datetime.fromisoformat(proposal["created_at"])
    return created <= datetime.now(UTC) - timedelta(days=days)


@blueprint.get("/usulan")
def queue() -> Response:
    filters = _filters()
    every = current().services.every("training", "/proposals", unit_code=filters["unit"] or None)
    alternatives: dict[str, list[dict]] = {}
    for proposal in every:
        if proposal.get("alternative_of"):
            alternatives.setdefault(proposal["alternative_of"], []).append(proposal)
    chosen = [
        p
        for p in every
        if (not filters["status"] or p["status"] == filters["status"])
        and _older_than(p, filters["age"])
    ]
    chosen.sort(key=lambda p: p["created_at"])
    return render_page(
        "proposals.html",
        nav="proposals",
        filters=filters,
        statuses=STATUSES,
        proposals=chosen[:SHOWN],
        total=len(chosen),
        alternatives=alternatives,
    )


def _row(proposal: dict[str, Any], **context: Any) -> Response:
    if request.headers.get("HX-Request"):
        return render_page("_proposal_row.html", p=proposal, alternatives={}, **context)
    return redirect(request.referrer or "/usulan", code=303)


def _act(proposal_id: str, path: str, body: dict[str, Any], **context: Any) -> Response:
    services = current().services
    try:
        answer = services.post("training", f"/proposals/{proposal_id}/{path}", body)
    except ServiceProblem as problem:
        if problem.status not in (400, 409, 422):
            raise
        proposal = services.get("training", f"/proposals/{proposal_id}")
        return _row(proposal, problem=problem, **context)
    if path == "enrollments":
        answer = services.get("training", f"/proposals/{proposal_id}")
    return _row(answer, done=path, **context)


@blueprint.post("/usulan/<proposal_id>/setujui")
def approve(proposal_id: str) -> Response:
    note = request.form.get("note", "").strip()
    return _act(proposal_id, "approve", {"note": note} if note else {})


@blueprint.post("/usulan/<proposal_id>/batalkan")
def cancel(proposal_id: str) -> Response:
    reason = request.form.get("reason", "")
    return _act(proposal_id, "cancel", {"reason": reason.strip()}, typed_reason=reason)


@blueprint.post("/usulan/<proposal_id>/daftarkan")
def enrol(proposal_id: str) -> Response:
    return _act(proposal_id, "enrollments", {})


@blueprint.get("/usulan/<proposal_id>/baris")
def row(proposal_id: str) -> Response:
    """One row again, for a page waiting on an event (polled while it is under way)."""
    proposal = current().services.get("training", f"/proposals/{proposal_id}")
    return render_page("_proposal_row.html", p=proposal, alternatives={})
