"""How rows look from outside: HTTP views (dicts for the output schemas) and event data."""

from __future__ import annotations

from typing import Any

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
        "batch_id": batch.id,
        "programme_code": batch.programme_code,
        "starts_on": batch.starts_on,
        "ends_on": batch.ends_on,
        "place": batch.place,
        "online": batch.online,
        "capacity": batch.capacity,
        "enrolled": batch.enrolled,
        "seats_left": batch.capacity - batch.enrolled,
    }


def programme_view(programme: Programme) -> dict[str, Any]:
    return {
        "code": programme.code,
        "title": programme.title,
        "form": programme.form,
        "activity": programme.activity,
        "jp": programme.jp,
        "cost_rupiah": programme.cost_rupiah,
        "provider": programme.provider,
        "competencies": [
            {"competency_code": c.competency_code, "level": c.level} for c in programme.competencies
        ],
        "batches": [batch_view(b) for b in programme.batches],
    }


def item_view(item: ProposalItem) -> dict[str, Any]:
    return {
        "item_id": item.id,
        "programme_code": item.programme_code,
        "programme_title": item.programme_title,
        "form": item.form,
        "activity": item.activity,
        "jp": item.jp,
        "cost_rupiah": item.cost_rupiah,
        "competency_codes": list(item.competency_codes),
        "batch": batch_view(item.batch) if item.batch else None,
        "reasons": [reason_view(r) for r in item.reasons],
        "status": item.status,
        "funding": item.funding,
    }


def proposal_view(proposal: Proposal) -> dict[str, Any]:
    return {
        "proposal_id": proposal.id,
        "employee_nip": proposal.employee_nip,
        "employee_name": proposal.employee_name,
        "unit_code": proposal.unit_code,
        "fiscal_year": proposal.fiscal_year,
        "status": proposal.status,
        "status_reason": proposal.status_reason,
        "assessment_id": proposal.assessment_id,
        "jabatan_code": proposal.jabatan_code,
        "supersedes": proposal.supersedes,
        "alternative_of": proposal.alternative_of,
        "total_cost_rupiah": proposal.total_cost_rupiah,
        "total_jp": proposal.total_jp,
        "jp_before": proposal.jp_before,
        "reserved_rupiah": proposal.reserved_rupiah,
        "created_at": proposal.created_at,
        "updated_at": proposal.updated_at,
        "items": [item_view(item) for item in proposal.items],
    }


def enrollment_view(enrollment: Enrollment) -> dict[str, Any]:
    return {
        "enrollment_id": enrollment.id,
        "proposal_id": enrollment.proposal_id,
        "item_id": enrollment.item_id,
        "employee_nip": enrollment.employee_nip,
        "unit_code": enrollment.unit_code,
        "programme_code": enrollment.programme_code,
        "programme_title": enrollment.programme.title,
        "jp": enrollment.jp,
        "cost_rupiah": enrollment.cost_rupiah,
        "competency_codes": list(enrollment.competency_codes),
        "status": enrollment.status,
        "batch": batch_view(enrollment.batch),
        "ended_on": enrollment.ended_on,
    }


def ledger_entry_view(entry: LedgerEntry) -> dict[str, Any]:
    return {
        "entry_id": entry.id,
        "source": "enrollment" if entry.enrollment_id else "direct",
        "enrollment_id": entry.enrollment_id,
        "proposal_id": entry.proposal_id,
        "programme_code": entry.programme_code,
        "title": entry.title,
        "form": entry.form,
        "activity": entry.activity,
        "provider": entry.provider,
        "jp": entry.jp,
        "started_on": entry.started_on,
        "ended_on": entry.ended_on,
        "jp_year": entry.jp_year,
        "competency_codes": list(entry.competency_codes),
        "cost_rupiah": entry.cost_rupiah,
        "evidence": entry.evidence,
    }


# --- event data (the catalogue's schemas, exactly) ----------------------------------------


def batch_data(batch: Batch) -> dict[str, Any]:
    return {
        "batch_id": batch.id,
        "starts_on": batch.starts_on,
        "ends_on": batch.ends_on,
        "place": batch.place,
        "online": batch.online,
    }


def item_data(item: ProposalItem) -> dict[str, Any]:
    return {
        "item_id": item.id,
        "programme_code": item.programme_code,
        "programme_title": item.programme_title,
        "form": item.form,
        "activity": item.activity,
        "jp": item.jp,
        "cost_rupiah": item.cost_rupiah,
        "competency_codes": list(item.competency_codes),
        "batch": batch_data(item.batch) if item.batch else None,
        "reasons": [
            {"competency_code": r["competency_code"], "gap": reason_of(r).gap, "rule": r["rule"]}
            for r in item.reasons
        ],
        "funding": item.funding,
    }


def proposal_facts(proposal: Proposal) -> dict[str, Any]:
    return {
        "proposal_id": proposal.id,
        "employee_nip": proposal.employee_nip,
        "employee_name": proposal.employee_name,
        "unit_code": proposal.unit_code,
        "fiscal_year": proposal.fiscal_year,
        "status": proposal.status,
    }


def proposal_created_data(proposal: Proposal) -> dict[str, Any]:
    return {
        **proposal_facts(proposal),
        "assessment_id": proposal.assessment_id,
        "jabatan_code": proposal.jabatan_code,
        "supersedes": proposal.supersedes,
        "alternative_of": proposal.alternative_of,
        "items": [item_data(item) for item in proposal.items],
        "total_cost_rupiah": proposal.total_cost_rupiah,
        "total_jp": proposal.total_jp,
        "jp_before": proposal.jp_before,
    }


def enrollment_created_data(enrollment: Enrollment) -> dict[str, Any]:
    programme = enrollment.programme
    return {
        "enrollment_id": enrollment.id,
        "proposal_id": enrollment.proposal_id,
        "employee_nip": enrollment.employee_nip,
        "unit_code": enrollment.unit_code,
        "programme_code": programme.code,
        "programme_title": programme.title,
        "form": programme.form,
        "jp": enrollment.jp,
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
