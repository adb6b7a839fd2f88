"""BKPSDM's setup pages: jabatan standards, the catalogue's batches, allocations and
amendments, and notification rules, templates (with a preview), officials and webhook
subscriptions. Each change is the owning service's; a refusal comes back beside its field.

Longer than most modules: one blueprint (``setup.*``, the name every setup link uses) holds
every setup page, so that they send a change and show its refusal in one way."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, Response, redirect, request
from jinja2 import ChainableUndefined
from jinja2.sandbox import SandboxedEnvironment

from . import formats
from .api import ServiceProblem
from .web import current, render_page

blueprint = Blueprint("setup", __name__)
EDITABLE = (400, 404, 409, 422)


def refused(problem: ServiceProblem) -> dict[str, list[str]]:
    """A refusal to show beside the fields of the form (anything else is an error page)."""
    if problem.status not in EDITABLE:
        raise problem
    return problem.field_messages()


def _number(text: str) -> Any:
    return int(text) if text.strip().isdigit() else text.strip()


# --- jabatan standards ----------------------------------------------------------------------


@blueprint.get("/jabatan")
def standards() -> Response:
    services = current().services
    unit = request.args.get("unit", "").strip()
    units = services.every("competency", "/units")
    jabatan = services.every("competency", "/jabatan", unit=unit or None) if unit else []
    columns = sorted({s["competency_code"] for j in jabatan for s in j["standards"]})
    return render_page(
        "standards.html", nav="setup", units=units, unit=unit, jabatan=jabatan, columns=columns
    )


@blueprint.post("/jabatan/<code>/standar/<competency>")
def set_standard(code: str, competency: str) -> Response:
    typed = request.form.get("required_level", "")
    errors: dict[str, list[str]] = {}
    try:
        current().services.put(
            "competency",
            f"/jabatan/{code}/standards/{competency}",
            {"required_level": _number(typed)},
        )
    except ServiceProblem as problem:
        errors = refused(problem)
    cell = {
        "code": code,
        "competency": competency,
        "level": typed,
        "errors": errors,
        "saved": not errors,
    }
    if request.headers.get("HX-Request"):
        return render_page("_standard_cell.html", cell=cell, status=200 if not errors else 422)
    return redirect(request.referrer or "/jabatan", code=303)


# --- catalogue --------------------------------------------------------------------------------


@blueprint.get("/program")
def catalogue() -> Response:
    programmes = current().services.every("training", "/programmes")
    return render_page(
        "catalogue.html", nav="setup", programmes=programmes, errors={}, values={}, target=None
    )


PROGRAMME_FIELDS = ("code", "title", "form", "jp", "cost_rupiah", "provider", "competencies")


def competency_levels(text: str) -> list[dict[str, Any]]:
    """``M.01:3, T.TIK.01:2`` as the catalogue takes it; what does not parse goes as typed,
    for the service to name."""
    found = []
    for part in (p.strip() for p in text.split(",")):
        if part:
            code, _, level = part.partition(":")
            found.append({"competency_code": code.strip(), "level": _number(level)})
    return found


@blueprint.post("/program")
def add_programme() -> Response:
    values = {k: request.form.get(k, "").strip() for k in PROGRAMME_FIELDS}
    body: dict[str, Any] = {k: v for k, v in values.items() if v}
    for name in ("jp", "cost_rupiah"):
        if values[name]:
            body[name] = _number(values[name].replace(".", ""))
    body["competencies"] = competency_levels(values["competencies"])
    return _catalogue_change("/programmes", body, values, "#new", values["code"])


@blueprint.post("/program/<code>/angkatan")
def add_batch(code: str) -> Response:
    values = {
        k: request.form.get(k, "").strip() for k in ("starts_on", "ends_on", "place", "capacity")
    }
    body: dict[str, Any] = {k: v for k, v in values.items() if v and k != "capacity"}
    body["capacity"] = _number(values["capacity"]) if values["capacity"] else None
    body["online"] = request.form.get("online") == "1"
    return _catalogue_change(f"/programmes/{code}/batches", body, values, code, code)


def _catalogue_change(
    path: str, body: dict[str, Any], values: dict[str, str], target: str, programme: str
) -> Response:
    """Send a change to training's catalogue; refused, the catalogue again with the form
    (``target``) as it was typed and the refusal beside its fields."""
    services = current().services
    try:
        services.post("training", path, body)
    except ServiceProblem as problem:
        programmes = services.every("training", "/programmes")
        return render_page(
            "catalogue.html",
            status=problem.status,
            nav="setup",
            programmes=programmes,
            errors=refused(problem),
            values=values,
            target=target,
        )
    return redirect(f"/program#programme-{programme}", code=303)


# --- allocations ------------------------------------------------------------------------------


@blueprint.get("/anggaran")
def allocations() -> Response:
    year = int(request.args.get("tahun") or date.today().year)
    positions = current().services.every("budget", "/allocations", fiscal_year=year)
    return render_page(
        "allocations.html",
        nav="setup",
        year=year,
        positions=positions,
        errors={},
        values={},
        target=None,
    )


ALLOCATION_FIELDS = (
    "unit_code",
    "amount_rupiah",
    "sub_activity_code",
    "sub_activity_name",
    "account_code",
    "account_name",
    "reference",
)


@blueprint.post("/anggaran/<int:year>")
def allocate(year: int) -> Response:
    values = {k: request.form.get(k, "").strip() for k in ALLOCATION_FIELDS}
    body: dict[str, Any] = {k: v for k, v in values.items() if v}
    body["fiscal_year"] = year
    if values["amount_rupiah"]:
        body["amount_rupiah"] = _number(values["amount_rupiah"].replace(".", ""))
    return _budget_change("/allocations", body, values, year, "#new", values["unit_code"])


@blueprint.post("/anggaran/<unit>/<int:year>/perubahan")
def amend(unit: str, year: int) -> Response:
    values = {k: request.form.get(k, "").strip() for k in ("allocated_rupiah", "reference")}
    body: dict[str, Any] = {
        "allocated_rupiah": _number(values["allocated_rupiah"].replace(".", ""))
    }
    if values["reference"]:
        body["reference"] = values["reference"]
    path = f"/allocations/{unit}/{year}/amendments"
    return _budget_change(path, body, values, year, unit, unit)


def _budget_change(
    path: str, body: dict[str, Any], values: dict[str, str], year: int, target: str, unit: str
) -> Response:
    """Send a change to budget; refused, the allocations again with the form (``target``) as
    it was typed and the refusal beside its fields."""
    services = current().services
    try:
        services.post("budget", path, body)
    except ServiceProblem as problem:
        positions = services.every("budget", "/allocations", fiscal_year=year)
        return render_page(
            "allocations.html",
            status=problem.status,
            nav="setup",
            year=year,
            positions=positions,
            errors=refused(problem),
            values=values,
            target=target,
        )
    return redirect(f"/anggaran?tahun={year}#allocation-{unit}", code=303)


# --- notification -----------------------------------------------------------------------------

SAMPLE = {
    "recipient": {"name": "Siti Rahmawati, S.E."},
    "unit_name": "Kelurahan Plaju Ulu",
    "data": {
        "jpm": 0.78,
        "assessed_on": "2026-11-26",
        "fiscal_year": 2026,
        "category": {"label": "Masih Memenuhi Syarat"},
        "jabatan": {"name": "Kepala Seksi Pemerintahan"},
        "results": [
            {
                "competency_code": "M.01",
                "competency_name": "Integritas",
                "required_level": 3,
                "achieved_level": 2.5,
                "gap": -0.5,
            },
            {
                "competency_code": "M.02",
                "competency_name": "Kerjasama",
                "required_level": 3,
                "achieved_level": 3,
                "gap": 0,
            },
        ],
        "requested_rupiah": 5_260_000,
        "allocated_rupiah": 10_000_000,
        "committed_rupiah": 8_500_000,
        "available_rupiah": 1_500_000,
        "threshold_percent": 80,
        "total_cost_rupiah": 5_260_000,
        "reason": "insufficient_funds",
    },
}


def _preview_environment() -> SandboxedEnvironment:
    """Notification's filters, so a template reads here as in the e-mail; a field the sample
    lacks renders empty."""
    environment = SandboxedEnvironment(undefined=ChainableUndefined, autoescape=False)
    environment.filters.update(
        rupiah=formats.rupiah,
        date=formats.tanggal,
        number=lambda v: formats.decimal(v, 1) if isinstance(v, float) else formats.number(v),
        gap=lambda v: formats.decimal(v, 1),
        percent=lambda v: formats.percent(v) if isinstance(v, int | float) else "",
        nip=formats.nip,
    )
    return environment


def preview(subject: str, body: str) -> dict[str, str]:
    environment = _preview_environment()
    try:
        return {
            "subject": environment.from_string(subject).render(**SAMPLE),
            "body": environment.from_string(body).render(**SAMPLE),
        }
    except Exception as exc:  # noqa: BLE001 - any template fault is shown to its author
        return {"error": f"{type(exc).__name__}: {exc}"}


def _notification_lists() -> dict[str, Any]:
    found = current().services.gather(
        {
            "rules": ("notification", "/rules", {}),
            "templates": ("notification", "/templates", {}),
            "officials": ("notification", "/officials", {"per_page": 500}),
            "subscriptions": ("notification", "/subscriptions", {"per_page": 500}),
        }
    )
    for answer in found.values():
        if isinstance(answer, ServiceProblem):
            raise answer
    return found


RULE_AUDIENCES = (
    ("employee", "pegawai"),
    ("supervisor", "atasan"),
    ("unit_operator", "operator unit"),
    ("bkpsdm_admin", "admin BKPSDM"),
)
RULE_CHANNELS = (("email", "e-mail"), ("inbox", "kotak masuk"))
OFFICIAL_ROLES = (("unit_operator", "operator unit"), ("bkpsdm_admin", "admin BKPSDM"))
LANGUAGE_OPTIONS = (("id", "Bahasa Indonesia"), ("en", "English"))


def _template_options(templates: list[dict]) -> list[tuple[str, str]]:
    """A rule names a template by key; notification wants it in Bahasa Indonesia at least."""
    return [(key, key) for key in sorted({t["key"] for t in templates if t["language"] == "id"})]


def _setup_page(status: int = 200, **forms: Any) -> Response:
    """The notification setup page; ``forms`` holds the values and errors of a refused form."""
    lists = _notification_lists()
    context = {"errors": {}, "values": {}, "rule_errors": {}, "rule_values": {}, **forms}
    return render_page(
        "notification_setup.html",
        status=status,
        nav="setup",
        **lists,
        template_options=_template_options(lists["templates"]),
        audiences=RULE_AUDIENCES,
        channels=RULE_CHANNELS,
        roles=OFFICIAL_ROLES,
        **context,
    )


@blueprint.get("/notifikasi")
def notification_setup() -> Response:
    return _setup_page()


@blueprint.get("/notifikasi/templat/<key>/<language>")
def template_form(key: str, language: str) -> Response:
    templates = current().services.get("notification", "/templates")
    found = next((t for t in templates if t["key"] == key and t["language"] == language), None)
    values = {"subject": found["subject"], "body": found["body"]} if found else {}
    return render_page(
        "template.html",
        nav="setup",
        key=key,
        template_language=language,
        values=values,
        errors={},
        preview=preview(**values) if found else None,
    )


@blueprint.post("/notifikasi/pratinjau")
def template_preview() -> Response:
    return render_page(
        "_template_preview.html",
        preview=preview(request.form.get("subject", ""), request.form.get("body", "")),
    )


@blueprint.post("/notifikasi/templat/<key>/<language>")
def save_template(key: str, language: str) -> Response:
    values = {"subject": request.form.get("subject", ""), "body": request.form.get("body", "")}
    try:
        current().services.put("notification", f"/templates/{key}/{language}", values)
    except ServiceProblem as problem:
        return render_page(
            "template.html",
            status=problem.status,
            nav="setup",
            key=key,
            template_language=language,
            values=values,
            errors=refused(problem),
            preview=preview(**values),
        )
    return redirect("/notifikasi#templates", code=303)


@blueprint.post("/notifikasi/petugas")
def add_official() -> Response:
    values = {
        k: request.form.get(k, "").strip()
        for k in ("role", "name", "email", "unit_code", "language")
    }
    body = {k: v for k, v in values.items() if v}
    services = current().services
    try:
        services.post("notification", "/officials", body)
    except ServiceProblem as problem:
        return _setup_page(problem.status, errors=refused(problem), values=values)
    return redirect("/notifikasi#officials", code=303)


def _official(official_id: str) -> dict[str, Any]:
    officials = current().services.every("notification", "/officials")
    found = next((o for o in officials if o["id"] == official_id), None)
    if found is None:
        raise ServiceProblem("notification", 404, {"detail": "Petugas ini tidak ditemukan."})
    return found


def _official_form(official: dict, values: dict, errors: dict, status: int = 200) -> Response:
    return render_page(
        "official.html",
        status=status,
        nav="setup",
        official=official,
        values=values,
        errors=errors,
        roles=OFFICIAL_ROLES,
        languages=LANGUAGE_OPTIONS,
    )


@blueprint.get("/notifikasi/petugas/<official_id>")
def official_form(official_id: str) -> Response:
    official = _official(official_id)
    values = {k: official.get(k) or "" for k in ("role", "name", "email", "unit_code", "language")}
    return _official_form(official, values, {})


@blueprint.post("/notifikasi/petugas/<official_id>")
def change_official(official_id: str) -> Response:
    official = _official(official_id)
    values = {
        k: request.form.get(k, "").strip()
        for k in ("role", "name", "email", "unit_code", "language")
    }
    body = {**values, "unit_code": values["unit_code"] or None}
    try:
        current().services.patch("notification", f"/officials/{official_id}", body)
    except ServiceProblem as problem:
        return _official_form(official, values, refused(problem), problem.status)
    return redirect("/notifikasi#officials", code=303)


def _rule_values() -> dict[str, Any]:
    values: dict[str, Any] = {
        k: request.form.get(k, "").strip() for k in ("event_type", "audience", "template")
    }
    values["channels"] = request.form.getlist("channels")
    return values


@blueprint.post("/notifikasi/aturan")
def add_rule() -> Response:
    values = _rule_values()
    body = {k: v for k, v in values.items() if v}
    try:
        current().services.post("notification", "/rules", body)
    except ServiceProblem as problem:
        return _setup_page(problem.status, rule_errors=refused(problem), rule_values=values)
    return redirect("/notifikasi#rules", code=303)


def _rule(rule_id: int) -> dict[str, Any]:
    found = next(
        (r for r in current().services.get("notification", "/rules") if r["id"] == rule_id), None
    )
    if found is None:
        raise ServiceProblem("notification", 404, {"detail": "Aturan ini tidak ditemukan."})
    return found


def _rule_form(rule: dict, values: dict, errors: dict, status: int = 200) -> Response:
    templates = current().services.get("notification", "/templates")
    return render_page(
        "rule.html",
        status=status,
        nav="setup",
        rule=rule,
        values=values,
        errors=errors,
        channels=RULE_CHANNELS,
        template_options=_template_options(templates),
        audiences=dict(RULE_AUDIENCES),
    )


@blueprint.get("/notifikasi/aturan/<int:rule_id>/ubah")
def rule_form(rule_id: int) -> Response:
    rule = _rule(rule_id)
    values = {
        "channels": rule["channels"],
        "template": rule["template"],
        "active": "1" if rule["active"] else "0",
    }
    return _rule_form(rule, values, {})


@blueprint.post("/notifikasi/aturan/<int:rule_id>/ubah")
def change_rule(rule_id: int) -> Response:
    rule = _rule(rule_id)
    values = {
        "channels": request.form.getlist("channels"),
        "template": request.form.get("template", "").strip(),
        "active": request.form.get("active", "1"),
    }
    body = {**values, "active": values["active"] == "1"}
    try:
        current().services.patch("notification", f"/rules/{rule_id}", body)
    except ServiceProblem as problem:
        return _rule_form(rule, values, refused(problem), problem.status)
    return redirect("/notifikasi#rules", code=303)


@blueprint.post("/notifikasi/aturan/<int:rule_id>")
def switch_rule(rule_id: int) -> Response:
    active = request.form.get("active") == "1"
    current().services.patch("notification", f"/rules/{rule_id}", {"active": active})
    return redirect("/notifikasi#rules", code=303)


@blueprint.post("/notifikasi/petugas/<official_id>/hapus")
def remove_official(official_id: str) -> Response:
    current().services.delete("notification", f"/officials/{official_id}")
    return redirect("/notifikasi#officials", code=303)


@blueprint.post("/notifikasi/langganan/<subscription_id>/hapus")
def cancel_subscription(subscription_id: str) -> Response:
    current().services.delete("notification", f"/subscriptions/{subscription_id}")
    return redirect("/notifikasi#subscriptions", code=303)
