"""The overview of BKPSDM (the city) and of a unit operator (their units), and a unit's page.

Every figure is a service's: the gap report per unit (competency), employees under 20 JP
(training), budget positions (budget) and the cost of closing open gaps (training's report).
The portal only puts them side by side.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, Response, request

from .api import ServiceProblem
from .web import current, render_page

blueprint = Blueprint("admin", __name__)
SHADES = (0.0, 0.10, 0.25, 0.50, 0.75)  # lower bounds of shades 1-5 (0 exactly: shade 0)


def shade(share: float | None) -> str:
    if share is None:
        return "shade-none"
    if share == 0:
        return "shade-0"
    return f"shade-{sum(1 for bound in SHADES if share > bound)}"


def units_in_view(units: list[dict[str, Any]], top: str | None) -> list[dict[str, Any]]:
    """Every unit (BKPSDM), or an operator's unit and those below it, in tree order."""
    children: dict[str | None, list[dict]] = {}
    for unit in units:
        children.setdefault(unit.get("parent_code"), []).append(unit)
    ordered: list[dict[str, Any]] = []

    def walk(parent: str | None, depth: int) -> None:
        for unit in sorted(children.get(parent, []), key=lambda u: u["code"]):
            ordered.append({**unit, "depth": depth})
            walk(unit["code"], depth + 1)

    roots = [u for u in units if u["code"] == top] if top else children.get(None, [])
    for root in roots:
        ordered.append({**root, "depth": 0})
        walk(root["code"], 1)
    return ordered


def heatmap(reports: dict[str, dict]) -> dict[str, Any]:
    """Units by competencies: the share of the assessed below standard, with the counts."""
    names: dict[str, str] = {}
    for report in reports.values():
        for row in report["competencies"]:
            if row["assessed"]:
                names[row["competency_code"]] = row["competency_name"]
    columns = sorted(names)
    rows = []
    for code, report in reports.items():
        if not report["assessed"]:
            continue
        by_code = {row["competency_code"]: row for row in report["competencies"]}
        cells = []
        for competency in columns:
            row = by_code.get(competency)
            share = row["below_standard"] / row["assessed"] if row and row["assessed"] else None
            cells.append(
                {"competency": competency, "row": row, "share": share, "shade": shade(share)}
            )
        rows.append({"unit": code, "cells": cells})
    return {"columns": [(code, names[code]) for code in columns], "rows": rows}


def _overview_data(year: int) -> dict[str, Any]:
    person = current()
    services = person.services
    units = services.every("competency", "/units")
    view = units_in_view(units, person.unit if person.role == "operator" else None)
    calls = {
        unit["code"]: (
            "competency",
            f"/units/{unit['code']}/gap-report",
            {"include_sub_units": "false", "year": year},
        )
        for unit in view
    }
    calls["#jp"] = ("training", "/jp/under-minimum", {"year": year})
    calls["#budget"] = ("budget", "/allocations", {"fiscal_year": year, "per_page": 500})
    calls["#cost"] = ("training", "/reports/gap-closing-cost", {"fiscal_year": year})
    found = services.gather(calls)
    reports = {code: found[code] for code in (u["code"] for u in view)}
    refused = [r for r in reports.values() if isinstance(r, ServiceProblem)]
    if reports and len(refused) == len(reports):
        raise refused[0]  # no unit's report is open to this person: the service says why
    return {"view": view, "reports": reports, "found": found}


def _per_unit_rows(view, reports, found) -> list[dict[str, Any]]:
    under = found["#jp"]
    under_by_unit = (
        {u["unit_code"]: len(u["employees"]) for u in under["units"]}
        if not isinstance(under, ServiceProblem)
        else {}
    )
    budget = found["#budget"]
    positions = (
        {p["unit_code"]: p for p in budget["items"]}
        if not isinstance(budget, ServiceProblem)
        else {}
    )
    cost = found["#cost"]
    costs = (
        {c["unit_code"]: c for c in cost["units"]} if not isinstance(cost, ServiceProblem) else {}
    )
    rows = []
    for unit in view:
        report = reports[unit["code"]]
        if isinstance(report, ServiceProblem):
            rows.append({"unit": unit, "problem": report})
            continue
        employees = report["employees"]
        rows.append(
            {
                "unit": unit,
                "report": report,
                "under_jp": under_by_unit.get(unit["code"], 0),
                "compliant": employees - under_by_unit.get(unit["code"], 0),
                "position": positions.get(unit["code"]),
                "cost": costs.get(unit["code"]),
            }
        )
    return rows


@blueprint.get("/ikhtisar")
def overview() -> Response:
    year = int(request.args.get("tahun") or date.today().year)
    data = _overview_data(year)
    reports = {c: r for c, r in data["reports"].items() if not isinstance(r, ServiceProblem)}
    rows = _per_unit_rows(data["view"], data["reports"], data["found"])
    shown = [row for row in rows if row.get("report") and row["report"]["employees"]]
    problems = {
        name: data["found"][name]
        for name in ("#jp", "#budget", "#cost")
        if isinstance(data["found"][name], ServiceProblem)
    }
    return render_page(
        "overview.html",
        nav="overview",
        year=year,
        rows=shown,
        totals={
            "employees": sum(r["employees"] for r in reports.values()),
            "assessed": sum(r["assessed"] for r in reports.values()),
            "assessed_in_year": sum(r.get("assessed_in_year") or 0 for r in reports.values()),
        },
        heat=heatmap({code: r for code, r in reports.items() if r["employees"]}),
        categories=sorted(
            {(c["code"], c["label"]) for r in reports.values() for c in r["categories"]}
        ),
        problems=problems,
    )


@blueprint.get("/unit/<code>")
def unit(code: str) -> Response:
    services = current().services
    competency = request.args.get("kompetensi")
    report = services.get("competency", f"/units/{code}/gap-report", include_sub_units="false")
    employees = services.every("competency", "/employees", unit=code, include_sub_units="false")
    below = None
    if competency:
        assessments = services.every(
            "competency",
            "/assessments",
            unit=code,
            include_sub_units="false",
            current_only="true",
        )
        below = [
            {"assessment": a, "result": r}
            for a in assessments
            for r in a["results"]
            if r["competency_code"] == competency and r["gap"] < 0
        ]
    unit_info = services.get("competency", f"/units/{code}")
    return render_page(
        "unit.html",
        nav="overview",
        unit=unit_info,
        report=report,
        employees=employees,
        competency=competency,
        below=below,
        names={e["nip"]: e["name"] for e in employees},
    )
