"""HTTP bodies and query strings of the training service (marshmallow).

Input schemas refuse unknown fields and name every invalid one; output schemas are what the
API returns and what its OpenAPI document shows.
"""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from asn_shared.vocabulary import Funding
from asn_shared.web import PageQuery, page_schema

from .domain import FORMS, ItemStatus, Rule, Status

NIP = validate.Regexp(r"^\d{18}$", error="NIP harus 18 digit.")
CODE = validate.Regexp(
    r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$", error="Kode: huruf, angka, titik, garis bawah, strip."
)
LEVEL = validate.Range(min=1, max=5)
MAX_RUPIAH = 10**15  # as budget's limit: well inside PostgreSQL's bigint
RUPIAH = validate.Range(min=0, max=MAX_RUPIAH, error="Rupiah utuh, 0 sampai 10^15.")
MAX_JP = 10_000  # bounds keep every count inside an integer column
MAX_CAPACITY = 100_000
TEXT = validate.Length(min=1, max=500)


def rupiah(description: str, **options) -> fields.Integer:
    return fields.Integer(
        strict=True,
        validate=RUPIAH,
        metadata={"description": f"{description}, whole rupiah"},
        **options,
    )


class DatesInOrder:
    """``ends_on`` (or ``ended_on``) may not come before the start."""

    START, END = "starts_on", "ends_on"

    @validates_schema
    def dates_in_order(self, data, **kwargs):
        start, end = data.get(self.START), data.get(self.END)
        if start and end and end < start:
            raise ValidationError("Tanggal selesai sebelum tanggal mulai.", self.END)


# --- catalogue ----------------------------------------------------------------------------


class ActivityOut(Schema):
    code = fields.String(required=True)
    form = fields.String(required=True)
    name = fields.String(required=True)
    default_jp = fields.Integer(required=True)


class ActivityUpdate(Schema):
    default_jp = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=0, max=MAX_JP)
    )


class ProgrammeCompetency(Schema):
    competency_code = fields.String(required=True, validate=CODE, metadata={"example": "M.03"})
    level = fields.Integer(
        required=True, strict=True, validate=LEVEL, metadata={"description": "level reached"}
    )


class BatchIn(DatesInOrder, Schema):
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(required=True)
    place = fields.String(allow_none=True, load_default=None, validate=TEXT)
    online = fields.Boolean(load_default=False)
    capacity = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1, max=MAX_CAPACITY)
    )

    @validates_schema
    def place_or_online(self, data, **kwargs):
        if not data.get("online") and not data.get("place"):
            raise ValidationError("Tempat wajib diisi untuk angkatan tatap muka.", "place")


class BatchOut(Schema):
    batch_id = fields.UUID(required=True)
    programme_code = fields.String(required=True)
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(required=True)
    place = fields.String(allow_none=True)
    online = fields.Boolean(required=True)
    capacity = fields.Integer(required=True)
    enrolled = fields.Integer(required=True)
    seats_left = fields.Integer(required=True)


class ProgrammeIn(Schema):
    code = fields.String(required=True, validate=CODE)
    title = fields.String(required=True, validate=TEXT)
    form = fields.String(required=True, validate=validate.OneOf(FORMS))
    activity = fields.String(
        allow_none=True,
        load_default=None,
        validate=CODE,
        metadata={"description": "a code of GET /activities; gives the default JP"},
    )
    jp = fields.Integer(
        strict=True,
        validate=validate.Range(min=1, max=MAX_JP),
        metadata={"description": "1 JP = 45 minutes; default: the activity's"},
    )
    cost_rupiah = rupiah("cost per participant (0: free)", required=True)
    provider = fields.String(allow_none=True, load_default=None, validate=TEXT)
    competencies = fields.List(
        fields.Nested(ProgrammeCompetency), required=True, validate=validate.Length(min=1)
    )
    batches = fields.List(fields.Nested(BatchIn), load_default=list)

    @validates_schema
    def distinct_competencies(self, data, **kwargs):
        codes = [c["competency_code"] for c in data.get("competencies", [])]
        if len(codes) != len(set(codes)):
            raise ValidationError("Kompetensi tercantum lebih dari sekali.", "competencies")


class ProgrammeOut(Schema):
    code = fields.String(required=True)
    title = fields.String(required=True)
    form = fields.String(required=True)
    activity = fields.String(allow_none=True)
    jp = fields.Integer(required=True)
    cost_rupiah = fields.Integer(required=True)
    provider = fields.String(allow_none=True)
    competencies = fields.List(fields.Nested(ProgrammeCompetency), required=True)
    batches = fields.List(fields.Nested(BatchOut), required=True)


class ProgrammeQuery(PageQuery):
    competency_code = fields.String(validate=CODE)
    form = fields.String(validate=validate.OneOf(FORMS))


ProgrammePage = page_schema(ProgrammeOut, "ProgrammePage")


# --- proposals ----------------------------------------------------------------------------


class ReasonOut(Schema):
    competency_code = fields.String(required=True)
    rule = fields.String(required=True, validate=validate.OneOf([r.value for r in Rule]))
    required_level = fields.Integer(required=True)
    achieved_level = fields.Float(required=True)
    gap = fields.Float(required=True)
    explanation = fields.String(required=True, metadata={"description": "Bahasa Indonesia"})


class ProposalItemOut(Schema):
    item_id = fields.UUID(required=True)
    programme_code = fields.String(required=True)
    programme_title = fields.String(required=True)
    form = fields.String(required=True)
    activity = fields.String(allow_none=True)
    jp = fields.Integer(required=True)
    cost_rupiah = fields.Integer(required=True)
    competency_codes = fields.List(fields.String(), required=True)
    batch = fields.Nested(BatchOut, allow_none=True)
    reasons = fields.List(fields.Nested(ReasonOut), required=True)
    status = fields.String(required=True, validate=validate.OneOf([s.value for s in ItemStatus]))
    funding = fields.String(
        allow_none=True,
        validate=validate.OneOf([f.value for f in Funding]),
        metadata={"description": "once approved: budget, or other (funded another way)"},
    )


class ProposalOut(Schema):
    proposal_id = fields.UUID(required=True)
    employee_nip = fields.String(required=True)
    employee_name = fields.String(required=True)
    unit_code = fields.String(required=True, metadata={"description": "the unit charged"})
    fiscal_year = fields.Integer(required=True)
    status = fields.String(required=True, validate=validate.OneOf([s.value for s in Status]))
    status_reason = fields.String(allow_none=True)
    assessment_id = fields.UUID(allow_none=True)
    jabatan_code = fields.String(allow_none=True)
    supersedes = fields.UUID(allow_none=True)
    alternative_of = fields.UUID(allow_none=True)
    total_cost_rupiah = fields.Integer(required=True)
    total_jp = fields.Integer(required=True)
    jp_before = fields.Integer(required=True)
    reserved_rupiah = fields.Integer(required=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)
    items = fields.List(fields.Nested(ProposalItemOut), required=True)


class ProposalQuery(PageQuery):
    employee_nip = fields.String(validate=NIP)
    unit_code = fields.String()
    status = fields.String(validate=validate.OneOf([s.value for s in Status]))
    fiscal_year = fields.Integer(validate=validate.Range(min=2000, max=2100))


ProposalPage = page_schema(ProposalOut, "ProposalPage")


class ApprovalIn(Schema):
    note = fields.String(allow_none=True, load_default=None, validate=TEXT)


class CancellationIn(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=3, max=500))


# --- enrolment and completion ---------------------------------------------------------------


class EnrollmentIn(Schema):
    """Enrol an employee directly, without a proposal."""

    employee_nip = fields.String(required=True, validate=NIP)
    programme_code = fields.String(required=True)
    batch_id = fields.UUID(required=True, metadata={"description": "full: the next one"})


class EnrollmentOut(Schema):
    enrollment_id = fields.UUID(required=True)
    proposal_id = fields.UUID(allow_none=True)
    item_id = fields.UUID(allow_none=True)
    employee_nip = fields.String(required=True)
    unit_code = fields.String(required=True)
    programme_code = fields.String(required=True)
    programme_title = fields.String(required=True)
    jp = fields.Integer(required=True)
    cost_rupiah = fields.Integer(required=True)
    competency_codes = fields.List(fields.String(), required=True)
    status = fields.String(
        required=True, validate=validate.OneOf(("enrolled", "completed", "cancelled"))
    )
    batch = fields.Nested(BatchOut, required=True)
    ended_on = fields.Date(allow_none=True)


class EnrollmentQuery(PageQuery):
    employee_nip = fields.String(validate=NIP)
    proposal_id = fields.UUID()
    batch_id = fields.UUID()
    status = fields.String(validate=validate.OneOf(("enrolled", "completed", "cancelled")))


EnrollmentPage = page_schema(EnrollmentOut, "EnrollmentPage")


class CompletionIn(DatesInOrder, Schema):
    START, END = "started_on", "ended_on"
    started_on = fields.Date(metadata={"description": "default: the batch's start"})
    ended_on = fields.Date(metadata={"description": "default: the batch's end; sets the JP year"})


# --- the JP ledger --------------------------------------------------------------------------


class DevelopmentRecordIn(DatesInOrder, Schema):
    """Development completed elsewhere (a seminar, a course), recorded with its evidence."""

    START, END = "started_on", "ended_on"
    employee_nip = fields.String(required=True, validate=NIP)
    title = fields.String(required=True, validate=TEXT)
    form = fields.String(required=True, validate=validate.OneOf(FORMS))
    activity = fields.String(allow_none=True, load_default=None, validate=CODE)
    jp = fields.Integer(strict=True, validate=validate.Range(min=0, max=MAX_JP))
    minutes = fields.Integer(
        strict=True,
        validate=validate.Range(min=0, max=MAX_JP * 45),
        metadata={"description": "instead of jp: whole JP of 45 minutes are credited"},
    )
    started_on = fields.Date(required=True)
    ended_on = fields.Date(required=True)
    provider = fields.String(allow_none=True, load_default=None, validate=TEXT)
    evidence = fields.String(
        required=True,
        validate=validate.Length(min=3, max=1000),
        metadata={"description": "certificate number, letter or document link"},
    )
    competency_codes = fields.List(fields.String(validate=CODE), load_default=list)
    cost_rupiah = rupiah("paid for it", load_default=0)

    @validates_schema
    def jp_or_minutes(self, data, **kwargs):
        if "jp" in data and "minutes" in data:
            raise ValidationError("Isi jp atau minutes, bukan keduanya.", "minutes")


class LedgerEntryOut(Schema):
    entry_id = fields.UUID(required=True)
    source = fields.String(required=True, validate=validate.OneOf(("enrollment", "direct")))
    enrollment_id = fields.UUID(allow_none=True)
    proposal_id = fields.UUID(allow_none=True)
    programme_code = fields.String(allow_none=True)
    title = fields.String(required=True)
    form = fields.String(required=True)
    activity = fields.String(allow_none=True)
    provider = fields.String(allow_none=True)
    jp = fields.Integer(required=True)
    started_on = fields.Date(required=True)
    ended_on = fields.Date(required=True)
    jp_year = fields.Integer(required=True)
    competency_codes = fields.List(fields.String(), required=True)
    cost_rupiah = fields.Integer(required=True)
    evidence = fields.String(allow_none=True)


class YearQuery(Schema):
    year = fields.Integer(
        validate=validate.Range(min=2000, max=2100), metadata={"description": "default: this year"}
    )


class JpLedgerOut(Schema):
    employee_nip = fields.String(required=True)
    employee_name = fields.String(allow_none=True)
    unit_code = fields.String(allow_none=True)
    year = fields.Integer(required=True)
    jp = fields.Integer(required=True)
    minimum_jp = fields.Integer(required=True)
    shortfall_jp = fields.Integer(required=True)
    entries = fields.List(fields.Nested(LedgerEntryOut), required=True)


class UnderMinimumQuery(YearQuery):
    unit_code = fields.String()


class EmployeeJp(Schema):
    nip = fields.String(required=True)
    name = fields.String(required=True)
    jp = fields.Integer(required=True)
    shortfall_jp = fields.Integer(required=True)


class UnitUnderMinimum(Schema):
    unit_code = fields.String(required=True)
    unit_name = fields.String(required=True)
    employees = fields.List(fields.Nested(EmployeeJp), required=True)


class UnderMinimumOut(Schema):
    year = fields.Integer(required=True)
    minimum_jp = fields.Integer(required=True)
    units = fields.List(fields.Nested(UnitUnderMinimum), required=True)
