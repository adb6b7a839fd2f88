"""An employee's profile (as the person, their operator or BKPSDM sees it) and the inbox."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, Response, abort, request

from .api import ServiceProblem
from .web import current, render_page

blueprint = Blueprint("employee", __name__)
MINIMUM_JP = 20


def chart(results: list[dict[str, Any]]) -> dict[str, Any]:
    """An SVG bar chart's geometry: per competency the achieved level against the standard."""
    row, label_width, scale = 28, 250, 60  # one level = 60 px, levels 0-5
    bars = []
    for index, result in enumerate(results):
        achieved = result.get("achieved_level") or 0
        bars.append(
            {
                "y": index * row + 4,
                "label": f"{result['competency_code']} {result['competency_name']}"[:38],
                "achieved_width": achieved * scale,
                "required_x": label_width + result["required_level"] * scale,
                "below": (result.get("gap") or 0) < 0,
                "text_x": label_width + max(achieved, result["required_level"]) * scale + 6,
                "result": result,
            }
        )
    return {
        "bars": bars,
        "label_width": label_width,
        "width": label_width + 5 * scale + 70,
        "height": len(results) * row + 24,
        "ticks": [(level, label_width + level * scale) for level in range(6)],
        "track": 5 * scale,
    }


@blueprint.get("/pegawai/<nip>")
def profile(nip: str) -> Response:
    services = current().services
    year = date.today().year
    found = services.gather(
        {
            "profile": ("competency", f"/employees/{nip}/profile", {}),
            "jp": ("training", f"/employees/{nip}/jp", {"year": year}),
            "proposals": ("training", "/proposals", {"employee_nip": nip, "per_page": 100}),
            "enrollments": ("training", "/enrollments", {"employee_nip": nip, "per_page": 100}),
        }
    )
    for answer in found.values():
        if isinstance(answer, ServiceProblem):
            raise answer
    profile = found["profile"]
    latest = profile.get("latest_assessment") or {}
    results = latest.get("results") or []
    jp = found["jp"]
    return render_page(
        "profile.html",
        nav="profile" if current().nip == nip else "overview",
        profile=profile,
        latest=latest,
        chart=chart(results),
        gaps=[r for r in results if (r.get("gap") or 0) < 0],
        jp=jp,
        jp_width=min(jp["jp"], jp["minimum_jp"] or MINIMUM_JP) / (jp["minimum_jp"] or MINIMUM_JP),
        proposals=found["proposals"]["items"],
        enrollments=found["enrollments"]["items"],
        year=year,
    )


def _own_nip() -> str:
    nip = current().nip
    if not nip:
        abort(404)
    return nip


@blueprint.get("/kotak-masuk")
def inbox() -> Response:
    nip = _own_nip()
    unread_only = request.args.get("unread") == "1"
    page = current().services.get(
        "notification",
        f"/recipients/{nip}/inbox",
        unread="true" if unread_only else None,
        per_page=100,
    )
    return render_page("inbox.html", nav="inbox", page=page, unread_only=unread_only)


@blueprint.post("/kotak-masuk/<message_id>")
def mark(message_id: str) -> Response:
    nip = _own_nip()
    read = request.form.get("read") == "1"
    message = current().services.patch(
        "notification", f"/recipients/{nip}/inbox/{message_id}", {"read": read}
    )
    if request.headers.get("HX-Request"):
        return render_page("_inbox_message.html", message=message)
    return Response(status=303, headers={"Location": "/kotak-masuk"})
