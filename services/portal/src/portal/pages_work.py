"""Work pages of operators and BKPSDM: development done elsewhere."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, redirect, request

from .api import ServiceProblem
from .pages_setup import refused
from .web import current, render_page

blueprint = Blueprint("work", __name__)
FORMS = (("klasikal", "klasikal"), ("nonklasikal", "nonklasikal"), ("pendidikan", "pendidikan"))
FIELDS = (
    "employee_nip",
    "title",
    "form",
    "jp",
    "started_on",
    "ended_on",
    "provider",
    "evidence",
    "competency_codes",
)


def _number(text: str) -> Any:
    """A whole number as a number; anything else as typed, for the service to name."""
    return int(text) if text.isdigit() else text


def development_body(values: dict[str, str]) -> dict[str, Any]:
    """The request as the person filled it in: empty optional fields left out."""
    body: dict[str, Any] = {
        k: v for k, v in values.items() if v and k not in ("jp", "competency_codes")
    }
    if values.get("jp"):
        body["jp"] = _number(values["jp"])
    codes = [c.strip() for c in values.get("competency_codes", "").split(",") if c.strip()]
    if codes:
        body["competency_codes"] = codes
    return body


@blueprint.get("/pengembangan")
def development_form() -> Response:
    values = {"employee_nip": request.args.get("nip", ""), "form": "nonklasikal"}
    return render_page(
        "development_record.html", nav="overview", values=values, errors={}, forms=FORMS
    )


@blueprint.post("/pengembangan")
def record_development() -> Response:
    values = {name: request.form.get(name, "").strip() for name in FIELDS}
    try:
        current().services.post("training", "/development-records", development_body(values))
    except ServiceProblem as problem:
        errors = refused(problem)
        return render_page(
            "development_record.html",
            status=problem.status,
            nav="overview",
            values=values,
            errors=errors,
            problem=problem,
            forms=FORMS,
        )
    return redirect(f"/pegawai/{values['employee_nip']}#development", code=303)
