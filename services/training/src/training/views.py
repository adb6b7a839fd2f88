"""How rows look from outside: HTTP views (dicts for the output schemas) and event data."""

from __future__ import annotations

from typing import Any

from asn_shared.shown import attributes

from . import domain
from .models import Assessment, Batch, Enrollment, LedgerEntry, Programme, Proposal, ProposalItem

EXPLANATIONS = {
    domain.Rule.CLOSES_GAP: "Menutup kesenjangan {code}: level {achieved:g} menuju {required}.",
    domain.Rule.NARROWS_GAP: (
        "Mempersempit kesenjangan {code} (gap {gap:g}); belum ada program yang mencapai "
        "level {required}."
    ),
    domain.Rule.JP_TOP_UP: ("Melengkapi {minimum} JP pengembangan kompetensi tahun ini ({code})."),
    domain.Rule.CHEAPER_ALTERNATIVE: (
        "Alternatif gratis atau lebih murah untuk {code} (gap {gap:g}), karena anggaran "
        "tidak mencukupi."
    ),
}


def reason_of(stored: dict[str, Any]) -> domain.Reason:
    return domain.Reason(
        stored["competency_code"],
        domain.Rule(stored["rule"]),
        stored["required_level"],
        stored["achieved_level"],
    )


def reason_row(reason: domain.Reason) -> dict[str, Any]:
    return {
        "competency_code": reason.competency_code,
        "rule": reason.rule.value,
        "required_level": reason.required_level,
        "achieved_level": reason.achieved_level,
    }


def reason_view(stored: dict[str, Any]) -> dict[str, Any]:
    reason = reason_of(stored)
    explanation = EXPLANATIONS[reason.rule].format(
        code=reason.competency_code,
        achieved=reason.achieved_level,
        required=reason.required_level,
        gap=reason.gap,
        minimum=domain.MINIMUM_JP_PER_YEAR,
    )
    return {**stored, "gap": reason.gap, "explanation": explanation}


def batch_view(batch: Batch) -> dict[str, Any]:
    return {
        **batch_data(batch),
        **attributes(batch, "programme_code", "capacity", "enrolled"),
        "seats_left": batch.capacity - batch.enrolled,
    }


def programme_view(programme: Programme) -> dict[str, Any]:
    return {
        **attributes(
            programme, "code", "title", "form", "activity", "jp", "cost_rupiah", "provider"
        ),
        "competencies": [
            {"competency_code": c.competency_code, "level": c.level} for c in programme.competencies
        ],
        "batches": [batch_view(b) for b in programme.batches],
    }


def item_facts(item: ProposalItem) -> dict[str, Any]:
    """What the item's view and its event data both say."""
    return {
        "item_id": item.id,
        **attributes(
            item, "programme_code", "programme_title", "form", "activity", "jp", "cost_rupiah"
        ),
        "competency_codes": list(item.competency_codes),
        "funding": item.funding,
    }


def item_view(item: ProposalItem) -> dict[str, Any]:
    return {
        **item_facts(item),
        "batch": batch_view(item.batch) if item.batch else None,
        "reasons": [reason_view(r) for r in item.reasons],
        "status": item.status,
    }


def proposal_view(proposal: Proposal) -> dict[str, Any]:
    return {
        **proposal_plan(proposal),
        **attributes(proposal, "status_reason", "reserved_rupiah", "created_at", "updated_at"),
        "items": [item_view(item) for item in proposal.items],
    }


def enrollment_facts(enrollment: Enrollment) -> dict[str, Any]:
    """What the enrolment's view and its ``enrollment.created`` data both say."""
    return {
        "enrollment_id": enrollment.id,
        **attributes(enrollment, "proposal_id", "employee_nip", "unit_code", "programme_code"),
        "programme_title": enrollment.programme.title,
        "jp": enrollment.jp,
    }


def enrollment_view(enrollment: Enrollment) -> dict[str, Any]:
    return {
        **enrollment_facts(enrollment),
        **attributes(enrollment, "item_id", "cost_rupiah"),
        "competency_codes": list(enrollment.competency_codes),
        "status": enrollment.status,
        "batch": batch_view(enrollment.batch),
        "ended_on": enrollment.ended_on,
    }


def ledger_entry_view(entry: LedgerEntry) -> dict[str, Any]:
    return {
        "entry_id": entry.id,
        "source": "enrollment" if entry.enrollment_id else "direct",
        **attributes(
            entry,
            *("enrollment_id", "proposal_id", "programme_code", "title", "form", "activity"),
            *("provider", "jp", "started_on", "ended_on", "jp_year"),
        ),
        "competency_codes": list(entry.competency_codes),
        **attributes(entry, "cost_rupiah", "evidence"),
    }


# --- event data (the catalogue's schemas, exactly) ----------------------------------------


def batch_data(batch: Batch) -> dict[str, Any]:
    return {
        "batch_id": batch.id,
        **attributes(batch, "starts_on", "ends_on", "place", "online"),
    }


def item_data(item: ProposalItem) -> dict[str, Any]:
    return {
        **item_facts(item),
        "batch": batch_data(item.batch) if item.batch else None,
        "reasons": [
            {"competency_code": r["competency_code"], "gap": reason_of(r).gap, "rule": r["rule"]}
            for r in item.reasons
        ],
    }


def proposal_facts(proposal: Proposal) -> dict[str, Any]:
    return {
        "proposal_id": proposal.id,
        **attributes(
            proposal, "employee_nip", "employee_name", "unit_code", "fiscal_year", "status"
        ),
    }


def proposal_plan(proposal: Proposal) -> dict[str, Any]:
    """What the proposal's view and its ``proposal.created`` data both say, but the items."""
    return {
        **proposal_facts(proposal),
        **attributes(
            proposal,
            *("assessment_id", "jabatan_code", "supersedes", "alternative_of"),
            *("total_cost_rupiah", "total_jp", "jp_before"),
        ),
    }


def proposal_created_data(proposal: Proposal) -> dict[str, Any]:
    return {**proposal_plan(proposal), "items": [item_data(item) for item in proposal.items]}


def enrollment_created_data(enrollment: Enrollment) -> dict[str, Any]:
    return {
        **enrollment_facts(enrollment),
        "form": enrollment.programme.form,
        "batch": batch_data(enrollment.batch),
    }


def enrollment_completed_data(entry: LedgerEntry, item: ProposalItem | None) -> dict[str, Any]:
    """``item``: the proposal item the completion settles (its reservation, or its funding
    from another source); None for direct enrolments and development recorded elsewhere."""
    return {
        "enrollment_id": entry.enrollment_id or entry.id,
        "proposal_id": entry.proposal_id,
        "proposal_item_id": item.id if item else None,
        "funding": item.funding if item else None,
        "employee_nip": entry.employee_nip,
        "unit_code": entry.unit_code,
        "programme_code": entry.programme_code,
        "programme_title": entry.title,
        "form": entry.form,
        "activity": entry.activity,
        "jp": entry.jp,
        "started_on": entry.started_on,
        "ended_on": entry.ended_on,
        "jp_year": entry.jp_year,
        "competency_codes": list(entry.competency_codes),
        "cost_rupiah": entry.cost_rupiah,
    }


# --- what an assessment led to ------------------------------------------------------------------


def review_row(review: domain.Review) -> dict[str, Any]:
    """The review as stored (JSONB) and shown: plain values only."""
    return {
        "fiscal_year": review.fiscal_year,
        "next_year": review.next_year,
        "competencies": [
            {
                "competency_code": c.competency_code,
                "required_level": c.required_level,
                "achieved_level": c.achieved_level,
                "gap": c.achieved_level - c.required_level,
                "finding": c.finding.value,
                "programme_code": c.programme_code,
            }
            for c in review.competencies
        ],
        "jp": {
            "counted": review.jp_counted,
            "minimum": review.minimum_jp,
            "finding": review.jp_finding.value,
        },
    }


UNMET = (domain.Finding.NO_PROGRAMME.value, domain.Finding.NARROWED.value)


def assessment_review_view(assessment: Assessment) -> dict[str, Any]:
    review = assessment.review or {}
    competencies = review.get("competencies", [])
    return {
        "assessment_id": assessment.id,
        "employee_nip": assessment.employee_nip,
        "unit_code": assessment.unit_code,
        "jabatan_code": assessment.jabatan_code,
        "assessed_on": assessment.assessed_on,
        "outcome": assessment.outcome,
        "proposal_id": assessment.proposal_id,
        "fiscal_year": review.get("fiscal_year"),
        "next_year": review.get("next_year", False),
        "competencies": competencies,
        "unmet": [c for c in competencies if c["finding"] in UNMET],
        "jp": review.get("jp"),
    }


def assessment_reviewed_data(assessment: Assessment) -> dict[str, Any]:
    return assessment_review_view(assessment)
