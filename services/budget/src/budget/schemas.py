"""Bodies and query strings of the budget service's HTTP API (marshmallow)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from asn_shared.web import PageQuery, page_schema

from .models import ENTRY_KINDS, ITEM_STATES, PROPOSAL_STATUSES

MAX_RUPIAH = 10**15  # far above any budget; keeps sums inside PostgreSQL's bigint
YEAR = validate.Range(min=2000, max=2100, error="Tahun anggaran harus antara 2000 dan 2100.")
BUDGET_CODE = validate.Regexp(
    r"^[0-9A-Za-z]+(\.[0-9A-Za-z]+)*$",
    error="Kode anggaran berupa segmen huruf/angka dipisah titik, mis. 5.1.02.02.12.0001.",
)
UNIT_CODE = validate.Regexp(
    r"^[^/?#\s]{1,64}$", error="Kode unit 1-64 karakter, tanpa spasi, '/', '?' atau '#'."
)


def rupiah(description: str, *, minimum: int = 1, **options) -> fields.Integer:
    """Whole rupiah: an integer (1.5, "100" and true are refused), ``minimum`` or more."""
    return fields.Integer(
        strict=True,
        validate=validate.Range(
            min=minimum,
            max=MAX_RUPIAH,
            error=f"Harus bilangan bulat rupiah antara {minimum} dan {MAX_RUPIAH}.",
        ),
        error_messages={
            "invalid": "Harus bilangan bulat rupiah (tanpa desimal, bukan teks).",
            "null": "Harus bilangan bulat rupiah, bukan null.",
            "required": "Wajib diisi: bilangan bulat rupiah.",
        },
        metadata={"description": f"{description}, whole rupiah"},
        **options,
    )


def money_out(description: str) -> fields.Integer:
    return fields.Integer(required=True, metadata={"description": f"{description}, whole rupiah"})


class AllocationIn(Schema):
    unit_code = fields.String(required=True, validate=UNIT_CODE)
    unit_name = fields.String(allow_none=True, validate=validate.Length(max=200))
    fiscal_year = fields.Integer(
        required=True, strict=True, validate=YEAR, metadata={"description": "calendar year"}
    )
    amount_rupiah = rupiah("the initial allocation (pagu)", required=True)
    sub_activity_code = fields.String(
        required=True,
        validate=BUDGET_CODE,
        metadata={"example": "x.xx.01.2.05.0009", "description": "sub-kegiatan"},
    )
    sub_activity_name = fields.String(
        allow_none=True,
        validate=validate.Length(max=300),
        metadata={"example": "Pendidikan dan Pelatihan Pegawai Berdasarkan Tugas dan Fungsi"},
    )
    account_code = fields.String(
        required=True,
        validate=BUDGET_CODE,
        metadata={"example": "5.1.02.02.12.0001", "description": "kode rekening belanja"},
    )
    account_name = fields.String(
        allow_none=True,
        validate=validate.Length(max=300),
        metadata={"example": "Belanja Kursus Singkat/Pelatihan"},
    )
    reference = fields.String(
        allow_none=True,
        validate=validate.Length(max=200),
        metadata={"description": "the budget document, e.g. DPA number"},
    )
    note = fields.String(allow_none=True, validate=validate.Length(max=1000))


class AmendmentIn(Schema):
    allocated_rupiah = rupiah(
        "the new allocated total after the amendment (not a difference)", required=True
    )
    reference = fields.String(
        allow_none=True,
        validate=validate.Length(max=200),
        metadata={"description": "the amending document, e.g. DPPA number"},
    )
    note = fields.String(allow_none=True, validate=validate.Length(max=1000))


class PositionOut(Schema):
    unit_code = fields.String(required=True)
    unit_name = fields.String(allow_none=True)
    fiscal_year = fields.Integer(required=True)
    sub_activity_code = fields.String(required=True)
    sub_activity_name = fields.String(allow_none=True)
    account_code = fields.String(required=True)
    account_name = fields.String(allow_none=True)
    allocated_rupiah = money_out("initial allocation plus amendments")
    reserved_rupiah = money_out("reserved for approved proposal items")
    spent_rupiah = money_out("spent on completed development")
    committed_rupiah = money_out("reserved plus spent")
    available_rupiah = money_out("allocated minus committed")
    utilisation_percent = fields.Float(
        required=True, metadata={"description": "committed / allocated x 100"}
    )
    thresholds_reached = fields.List(
        fields.Integer(), required=True, metadata={"description": "announced this year"}
    )


class AllocationQuery(PageQuery):
    fiscal_year = fields.Integer(validate=YEAR)
    unit_code = fields.String()


AllocationPage = page_schema(PositionOut, "AllocationPage")


class LedgerEntryOut(Schema):
    id = fields.Integer(required=True, metadata={"description": "ledger order"})
    unit_code = fields.String(required=True)
    fiscal_year = fields.Integer(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(ENTRY_KINDS))
    amount_rupiah = money_out("the movement's size")
    allocated_delta = fields.Integer(required=True, metadata={"description": "effect, rupiah"})
    reserved_delta = fields.Integer(required=True, metadata={"description": "effect, rupiah"})
    spent_delta = fields.Integer(required=True, metadata={"description": "effect, rupiah"})
    proposal_id = fields.UUID(allow_none=True)
    reservation_id = fields.UUID(allow_none=True)
    enrollment_id = fields.UUID(allow_none=True)
    event_id = fields.String(allow_none=True, metadata={"description": "the causing event"})
    reference = fields.String(allow_none=True)
    note = fields.String(allow_none=True)
    recorded_at = fields.DateTime(required=True)


class LedgerQuery(PageQuery):
    unit_code = fields.String()
    fiscal_year = fields.Integer(validate=YEAR)
    kind = fields.String(validate=validate.OneOf(ENTRY_KINDS))
    proposal_id = fields.UUID()


LedgerPage = page_schema(LedgerEntryOut, "LedgerPage")


class UtilisationQuery(Schema):
    fiscal_year = fields.Integer(required=True, validate=YEAR)


class UtilisationTotals(Schema):
    allocated_rupiah = money_out("allocated")
    reserved_rupiah = money_out("reserved")
    spent_rupiah = money_out("spent")
    committed_rupiah = money_out("reserved plus spent")
    available_rupiah = money_out("available")
    utilisation_percent = fields.Float(required=True)


class UtilisationReport(Schema):
    fiscal_year = fields.Integer(required=True)
    units = fields.List(
        fields.Nested(PositionOut),
        required=True,
        metadata={"description": "highest utilisation first"},
    )
    totals = fields.Nested(UtilisationTotals, required=True)


class ProposalItemOut(Schema):
    item_id = fields.UUID(required=True)
    programme_code = fields.String(required=True)
    cost_rupiah = money_out("cost")
    state = fields.String(required=True, validate=validate.OneOf(ITEM_STATES))
    enrollment_id = fields.UUID(allow_none=True)
    spent_rupiah = fields.Integer(allow_none=True)


class ProposalOut(Schema):
    proposal_id = fields.UUID(required=True)
    unit_code = fields.String(required=True)
    fiscal_year = fields.Integer(required=True)
    employee_nip = fields.String(allow_none=True)
    status = fields.String(required=True, validate=validate.OneOf(PROPOSAL_STATUSES))
    reason = fields.String(allow_none=True)
    reservation_id = fields.UUID(allow_none=True)
    requested_rupiah = money_out("requested")
    reserved_rupiah = money_out("reserved")
    items = fields.List(fields.Nested(ProposalItemOut), required=True)
