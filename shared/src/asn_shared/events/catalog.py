"""The suite's event types: the wire contract other services and agencies code against.

Each schema is the ``data`` of one version of one event. Events carry the state a consumer
needs (event-carried state transfer), so nobody has to call the producer back.

Terms of art keep their Indonesian names: *nip* (the civil servant's 18-digit number),
*jabatan* (the post held), *golongan* (civil-service rank), *JPM* (Job Person Match).

One module, however long: the whole contract in one place is what a subscriber reads.
"""

from typing import Any

from marshmallow import Schema, fields, validate

from ..vocabulary import (
    Channel,
    CompetencyKind,
    Finding,
    Form,
    Funding,
    JabatanKind,
    ProposalStatus,
    values,
)
from .registry import event_type

LEVEL = validate.Range(min=0, max=5)
NIP = validate.Regexp(r"^[0-9]{18}$", error="NIP must be 18 ASCII digits (0-9).")
JABATAN_KINDS = values(JabatanKind)
COMPETENCY_KINDS = values(CompetencyKind)


class Unit(Schema):
    """An organisational unit (OPD, kecamatan, kelurahan, puskesmas, school, ...)."""

    code = fields.String(required=True)
    name = fields.String(required=True)
    parent_code = fields.String(allow_none=True)


class Jabatan(Schema):
    """The post an employee holds or is assessed against."""

    code = fields.String(required=True)
    name = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(JABATAN_KINDS))
    grade = fields.String(allow_none=True, metadata={"description": "e.g. ahli muda"})


class Employee(Schema):
    """What other services need to know about an ASN: identity, place and contact."""

    nip = fields.String(required=True, validate=NIP)
    name = fields.String(required=True)
    sex = fields.String(required=True, validate=validate.OneOf(("L", "P")))
    golongan = fields.String(allow_none=True, metadata={"description": "e.g. III/a"})
    unit = fields.Nested(Unit, required=True)
    jabatan = fields.Nested(Jabatan, allow_none=True)
    email = fields.Email(allow_none=True)
    phone = fields.String(allow_none=True)
    supervisor_nip = fields.String(allow_none=True, validate=NIP)
    language = fields.String(
        load_default="id", dump_default="id", validate=validate.OneOf(("id", "en"))
    )
    version = fields.Integer(
        required=True,
        validate=validate.Range(min=1),
        metadata={"description": "Grows with every change; keep the highest one seen."},
    )


class UnitState(Unit):
    kind = fields.String(allow_none=True, metadata={"description": "e.g. kelurahan, puskesmas"})
    changed_at = fields.AwareDateTime(
        required=True, metadata={"description": "Keep the state with the latest changed_at."}
    )


@event_type("unit.registered", version=1, producer="competency")
class UnitRegistered(UnitState):
    """A unit was added to the organisation tree; other services scope operators with it."""


@event_type("unit.updated", version=1, producer="competency")
class UnitUpdated(UnitState):
    """A unit was renamed or moved under another parent; the whole current state is carried."""


@event_type("employee.registered", version=1, producer="competency")
class EmployeeRegistered(Employee):
    """An employee was registered, with contact, supervisor, unit and preferred language."""


@event_type("employee.updated", version=1, producer="competency")
class EmployeeUpdated(Employee):
    """An employee's data changed; the whole current state is carried, with its version."""


class CompetencyResult(Schema):
    competency_code = fields.String(required=True, metadata={"description": "e.g. M.01"})
    competency_name = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(COMPETENCY_KINDS))
    required_level = fields.Integer(required=True, validate=LEVEL)
    achieved_level = fields.Float(
        required=True, validate=LEVEL, metadata={"description": "1 to 5 in half levels"}
    )
    gap = fields.Float(required=True, metadata={"description": "achieved - required"})


class JpmCategory(Schema):
    code = fields.String(required=True, metadata={"description": "e.g. MS, MMS, KMS"})
    label = fields.String(required=True, metadata={"description": "e.g. Memenuhi Syarat"})
    scheme = fields.String(required=True)


@event_type("assessment.recorded", version=1, producer="competency")
class AssessmentRecorded(Schema):
    """An assessment result was recorded, with every gap, the JPM and its category."""

    assessment_id = fields.UUID(required=True)
    supersedes = fields.UUID(allow_none=True, metadata={"description": "the previous result"})
    employee = fields.Nested(Employee, required=True)
    jabatan = fields.Nested(Jabatan, required=True, metadata={"description": "assessed against"})
    assessed_on = fields.Date(required=True)
    method = fields.String(
        required=True,
        validate=validate.OneOf(("assessment_centre", "test", "360", "portfolio")),
    )
    results = fields.List(
        fields.Nested(CompetencyResult), required=True, validate=validate.Length(min=1)
    )
    jpm = fields.Float(
        required=True,
        validate=validate.Range(min=0),
        metadata={"description": "Job Person Match, percent"},
    )
    jpm_method = fields.String(required=True, validate=validate.OneOf(("capped", "uncapped")))
    category = fields.Nested(JpmCategory, required=True)
    current = fields.Boolean(
        load_default=True,
        dump_default=True,
        metadata={
            "description": "The current assessment is the latest of one employee for one "
            "jabatan (the one in ``jabatan``): False for an older result recorded after a "
            "newer one of the same employee and jabatan, history only. An assessment for "
            "another jabatan never supersedes it."
        },
    )


# --- training -----------------------------------------------------------------------------

RUPIAH = validate.Range(min=0)
FORMS = values(Form)
FUNDING = values(Funding)
PROPOSAL_STATES = values(ProposalStatus)


def rupiah(description: str, **options: Any) -> fields.Integer:
    """Money is whole rupiah: an integer, never a float."""
    return fields.Integer(
        validate=RUPIAH, metadata={"description": f"{description}, whole rupiah"}, **options
    )


class Batch(Schema):
    batch_id = fields.UUID(required=True)
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(required=True)
    place = fields.String(allow_none=True, metadata={"description": "None when online"})
    online = fields.Boolean(required=True)


class ProposalReason(Schema):
    """Why an item was proposed: the gap it closes, or the 20 JP top-up."""

    competency_code = fields.String(allow_none=True)
    gap = fields.Float(allow_none=True)
    rule = fields.String(
        required=True, metadata={"description": "e.g. closes_gap, jp_top_up, cheaper_alternative"}
    )


class ProposalItem(Schema):
    item_id = fields.UUID(required=True)
    programme_code = fields.String(required=True)
    programme_title = fields.String(required=True)
    form = fields.String(required=True, validate=validate.OneOf(FORMS))
    activity = fields.String(
        allow_none=True, metadata={"description": "e.g. pelatihan teknis, e-learning, coaching"}
    )
    jp = fields.Integer(
        required=True, validate=validate.Range(min=0), metadata={"description": "1 JP = 45 min"}
    )
    cost_rupiah = rupiah("cost per participant", required=True)
    competency_codes = fields.List(fields.String(), required=True)
    batch = fields.Nested(Batch, allow_none=True)
    reasons = fields.List(fields.Nested(ProposalReason), required=True)
    funding = fields.String(
        allow_none=True,
        validate=validate.OneOf(FUNDING),
        metadata={
            "description": "once approved: budget (reserved by the budget service) or other "
            "(an operator approved it funded another way; never charged to the unit's budget)"
        },
    )


class ProposalFacts(Schema):
    """What every proposal event says of its proposal."""

    proposal_id = fields.UUID(required=True)
    employee_nip = fields.String(required=True, validate=NIP)
    employee_name = fields.String(required=True)
    unit_code = fields.String(required=True, metadata={"description": "the unit charged"})
    fiscal_year = fields.Integer(required=True, validate=validate.Range(min=2000, max=2100))
    status = fields.String(required=True, validate=validate.OneOf(PROPOSAL_STATES))


@event_type("proposal.created", version=1, producer="training")
class ProposalCreated(ProposalFacts):
    """Development was proposed for an employee; it waits for the budget's answer."""

    assessment_id = fields.UUID(allow_none=True)
    jabatan_code = fields.String(
        allow_none=True, metadata={"description": "the jabatan of the assessment it follows"}
    )
    supersedes = fields.UUID(allow_none=True, metadata={"description": "replaced proposal"})
    alternative_of = fields.UUID(
        allow_none=True,
        metadata={"description": "the waitlisted proposal this cheaper one stands in for"},
    )
    items = fields.List(fields.Nested(ProposalItem), required=True, validate=validate.Length(min=1))
    total_cost_rupiah = rupiah("sum of the items' costs", required=True)
    total_jp = fields.Integer(required=True, validate=validate.Range(min=0))
    jp_before = fields.Integer(
        required=True,
        validate=validate.Range(min=0),
        metadata={"description": "JP already completed in the fiscal year"},
    )


@event_type("proposal.approved", version=1, producer="training")
class ProposalApproved(ProposalFacts):
    """The budget covered the proposal (status approved) or some of its items (partially)."""

    approved_items = fields.List(fields.Nested(ProposalItem), required=True)
    reserved_rupiah = rupiah("reserved for the approved items", required=True)


@event_type("proposal.waitlisted", version=1, producer="training")
class ProposalWaitlisted(ProposalFacts):
    """Items the budget could not pay wait; a cheaper or free alternative may be proposed."""

    waitlisted_items = fields.List(fields.Nested(ProposalItem), required=True)
    reason = fields.String(required=True)
    alternative_proposal_id = fields.UUID(allow_none=True)


@event_type("proposal.cancelled", version=1, producer="training")
class ProposalCancelled(ProposalFacts):
    """A proposal was cancelled (by an operator, or superseded); its reservation is released."""

    reason = fields.String(required=True)


@event_type("enrollment.created", version=1, producer="training")
class EnrollmentCreated(Schema):
    """An employee was enrolled in a batch of a programme."""

    enrollment_id = fields.UUID(required=True)
    proposal_id = fields.UUID(allow_none=True)
    employee_nip = fields.String(required=True, validate=NIP)
    unit_code = fields.String(required=True)
    programme_code = fields.String(required=True)
    programme_title = fields.String(required=True)
    form = fields.String(required=True, validate=validate.OneOf(FORMS))
    jp = fields.Integer(required=True, validate=validate.Range(min=0))
    batch = fields.Nested(Batch, required=True)


@event_type("enrollment.completed", version=1, producer="training")
class EnrollmentCompleted(Schema):
    """Development was completed; its JP count toward the calendar year it ended in."""

    enrollment_id = fields.UUID(required=True)
    proposal_id = fields.UUID(
        allow_none=True,
        metadata={"description": "None when recorded directly, e.g. a seminar elsewhere"},
    )
    proposal_item_id = fields.UUID(
        allow_none=True,
        metadata={"description": "the proposal item it settles: budget spends its reservation"},
    )
    funding = fields.String(
        allow_none=True,
        validate=validate.OneOf(FUNDING),
        metadata={"description": "the item's funding; other: nothing is charged to the budget"},
    )
    employee_nip = fields.String(required=True, validate=NIP)
    unit_code = fields.String(required=True)
    programme_code = fields.String(allow_none=True)
    programme_title = fields.String(required=True)
    form = fields.String(required=True, validate=validate.OneOf(FORMS))
    activity = fields.String(allow_none=True)
    jp = fields.Integer(required=True, validate=validate.Range(min=0))
    started_on = fields.Date(required=True)
    ended_on = fields.Date(required=True)
    jp_year = fields.Integer(required=True, metadata={"description": "year of ended_on"})
    competency_codes = fields.List(fields.String(), required=True)
    cost_rupiah = rupiah("spent", required=True)


FINDINGS = values(Finding)


class CompetencyFinding(Schema):
    competency_code = fields.String(required=True)
    required_level = fields.Integer(required=True, validate=LEVEL)
    achieved_level = fields.Float(required=True, validate=LEVEL)
    gap = fields.Float(required=True)
    finding = fields.String(
        required=True,
        validate=validate.OneOf(FINDINGS),
        metadata={
            "description": "no_gap, proposed (closes the gap), narrowed (the best on offer "
            "falls short), already_booked (approved or enrolled development closes it), "
            "no_programme (nothing on offer in the year planned)"
        },
    )
    programme_code = fields.String(allow_none=True)


class JpFinding(Schema):
    counted = fields.Integer(
        required=True, metadata={"description": "JP completed or booked in the fiscal year"}
    )
    minimum = fields.Integer(required=True)
    finding = fields.String(
        required=True,
        validate=validate.OneOf(FINDINGS),
        metadata={"description": "minimum_reached, top_up_proposed, no_programme, not_planned"},
    )


@event_type("assessment.reviewed", version=1, producer="training")
class AssessmentReviewed(Schema):
    """What training made of a current assessment: the proposal (if any), and per competency
    and for the year's 20 JP what was found, so a gap left open is never silent."""

    assessment_id = fields.UUID(required=True)
    employee_nip = fields.String(required=True, validate=NIP)
    unit_code = fields.String(allow_none=True)
    jabatan_code = fields.String(allow_none=True)
    assessed_on = fields.Date(required=True)
    outcome = fields.String(required=True, validate=validate.OneOf(("proposed", "no_proposal")))
    proposal_id = fields.UUID(allow_none=True)
    fiscal_year = fields.Integer(
        required=True, metadata={"description": "the year planned (its batches end in it)"}
    )
    next_year = fields.Boolean(
        required=True,
        metadata={"description": "no batch of the current year narrows a gap: next year's"},
    )
    competencies = fields.List(fields.Nested(CompetencyFinding), required=True)
    unmet = fields.List(
        fields.Nested(CompetencyFinding),
        required=True,
        metadata={"description": "gaps the proposal leaves open (no_programme, narrowed)"},
    )
    jp = fields.Nested(JpFinding, required=True)


# --- budget -------------------------------------------------------------------------------


class BudgetPosition(Schema):
    unit_code = fields.String(required=True)
    fiscal_year = fields.Integer(required=True, validate=validate.Range(min=2000, max=2100))
    allocated_rupiah = rupiah("allocated", required=True)
    committed_rupiah = rupiah("reserved plus spent", required=True)
    available_rupiah = rupiah("allocated minus committed", required=True)


@event_type("budget.reserved", version=1, producer="budget")
class BudgetReserved(BudgetPosition):
    """Money was reserved for a proposal: all its items, or (partial) those listed."""

    reservation_id = fields.UUID(required=True)
    proposal_id = fields.UUID(required=True)
    item_ids = fields.List(fields.UUID(), required=True)
    rejected_item_ids = fields.List(fields.UUID(), required=True)
    # the contract's name; marshmallow's metaclass takes declared fields off the class, so
    # Schema.partial (a load option) is not shadowed
    partial = fields.Boolean(required=True)  # type: ignore[assignment]
    amount_rupiah = rupiah("reserved", required=True)


@event_type("budget.rejected", version=1, producer="budget")
class BudgetRejected(BudgetPosition):
    """Nothing could be reserved for a proposal; says what was asked and what is left."""

    proposal_id = fields.UUID(required=True)
    item_ids = fields.List(fields.UUID(), required=True)
    requested_rupiah = rupiah("requested", required=True)
    reason = fields.String(
        required=True, validate=validate.OneOf(("insufficient_funds", "no_allocation"))
    )


@event_type("budget.released", version=1, producer="budget")
class BudgetReleased(BudgetPosition):
    """A cancelled proposal's reservation went back to the unit's available budget."""

    proposal_id = fields.UUID(required=True)
    amount_rupiah = rupiah("released", required=True)


@event_type("budget.spent", version=1, producer="budget")
class BudgetSpent(BudgetPosition):
    """Completed development turned (part of) a reservation into spending."""

    proposal_id = fields.UUID(allow_none=True)
    enrollment_id = fields.UUID(required=True)
    amount_rupiah = rupiah("spent", required=True)


@event_type("budget.threshold_reached", version=1, producer="budget")
class BudgetThresholdReached(BudgetPosition):
    """A unit's committed share of its allocation crossed a threshold (once per year each)."""

    threshold_percent = fields.Integer(required=True, validate=validate.Range(min=1, max=100))


# --- notification -------------------------------------------------------------------------

CHANNELS = values(Channel)


class Delivery(Schema):
    delivery_id = fields.UUID(required=True)
    source_event_id = fields.String(required=True)
    source_event_type = fields.String(required=True)
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    recipient = fields.String(required=True, metadata={"description": "NIP, address or URL"})
    attempts = fields.Integer(required=True, validate=validate.Range(min=1))


@event_type("notification.delivered", version=1, producer="notification")
class NotificationDelivered(Delivery):
    """A notification reached its recipient over one channel."""


@event_type("notification.failed", version=1, producer="notification")
class NotificationFailed(Delivery):
    """A notification could not be delivered; ``parked`` once retries are exhausted."""

    error = fields.String(required=True)
    parked = fields.Boolean(required=True)
