"""The suite's event types: the wire contract other services and agencies code against.

Each schema is the ``data`` of one version of one event. Events carry the state a consumer
needs (event-carried state transfer), so nobody has to call the producer back.

Terms of art keep their Indonesian names: *nip* (the civil servant's 18-digit number),
*jabatan* (the post held), *golongan* (civil-service rank), *JPM* (Job Person Match).
"""

from marshmallow import Schema, fields, validate

from .registry import event_type

LEVEL = validate.Range(min=0, max=5)
NIP = validate.Regexp(r"^\d{18}$", error="NIP must be 18 digits.")
JABATAN_KINDS = (
    "jpt_utama",
    "jpt_madya",
    "jpt_pratama",
    "administrator",
    "pengawas",
    "fungsional",
    "pelaksana",
)
COMPETENCY_KINDS = ("manajerial", "sosial_kultural", "teknis")


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
