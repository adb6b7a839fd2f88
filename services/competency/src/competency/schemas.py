"""marshmallow schemas of the HTTP bodies and query strings (also the OpenAPI document).

One module for the whole HTTP surface, so a body and its OpenAPI description are read in one
place; its length is the API's, one short class per body.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from asn_shared.errors import CodedMessage
from asn_shared.vocabulary import CompetencyKind, values
from asn_shared.web import PageQuery

from . import domain

CODE = validate.Regexp(
    r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$",
    error="Kode hanya boleh berisi huruf, angka, titik, garis bawah dan tanda hubung.",
)
COMPETENCY_KINDS = values(CompetencyKind)
GOLONGAN = tuple(
    f"{rank}/{room}"
    for rank, rooms in (("I", "abcd"), ("II", "abcd"), ("III", "abcd"), ("IV", "abcde"))
    for room in rooms
)
LEVEL_RANGE = validate.Range(min=domain.MIN_LEVEL, max=domain.MAX_LEVEL)
NAME = validate.Length(min=1, max=200)


class Nip(fields.String):
    """A NIP as written on paper (spaces allowed); refused with the reason per broken part."""

    def _deserialize(self, value: Any, attr, data, **kwargs) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            return domain.parse_nip(text).value
        except domain.InvalidNip as exc:
            raise ValidationError(
                [CodedMessage(code, text) for code, text in exc.problems.items()]
            ) from None


class Level(fields.Field):
    """An achieved level, 1 to 5 in half levels: a number or a string ("3,5" allowed)."""

    def _deserialize(self, value: Any, attr, data, **kwargs):
        try:
            return domain.parse_level(value)
        except domain.InvalidLevel as exc:
            raise ValidationError(str(exc)) from None

    def _serialize(self, value: Any, attr, obj, **kwargs):
        return None if value is None else float(value)


# --- dictionary ---------------------------------------------------------------------------


class LevelLabelOut(Schema):
    level = fields.Integer(required=True)
    label = fields.String(required=True)


class CompetencyLevelIn(Schema):
    level = fields.Integer(required=True, validate=LEVEL_RANGE)
    description = fields.String(required=True, validate=validate.Length(min=1, max=1000))


class CompetencyLevelOut(CompetencyLevelIn):
    label = fields.String(required=True, metadata={"description": "the level's name"})


def _distinct_levels(levels: list[dict]) -> None:
    numbers = [level["level"] for level in levels]
    if len(numbers) != len(set(numbers)):
        raise ValidationError("Setiap level hanya boleh muncul sekali.", "levels")


class CompetencyIn(Schema):
    code = fields.String(required=True, validate=CODE, metadata={"example": "T.PKM.01"})
    name = fields.String(required=True, validate=NAME)
    kind = fields.String(
        load_default="teknis",
        validate=validate.OneOf(["teknis"]),
        metadata={"description": "only technical competencies are added; the rest is seeded"},
    )
    description = fields.String(allow_none=True)
    levels = fields.List(fields.Nested(CompetencyLevelIn), load_default=list)

    @validates_schema
    def _levels(self, data: dict, **kwargs) -> None:
        _distinct_levels(data.get("levels", []))


class CompetencyPatch(Schema):
    name = fields.String(validate=NAME)
    description = fields.String(allow_none=True)
    levels = fields.List(
        fields.Nested(CompetencyLevelIn),
        metadata={"description": "level descriptions to set; levels not listed are kept"},
    )

    @validates_schema
    def _levels(self, data: dict, **kwargs) -> None:
        _distinct_levels(data.get("levels", []))


class CompetencyOut(Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(COMPETENCY_KINDS))
    description = fields.String(allow_none=True)
    levels = fields.List(fields.Nested(CompetencyLevelOut), required=True)


class CompetencyQuery(PageQuery):
    kind = fields.String(validate=validate.OneOf(COMPETENCY_KINDS))


class GradeDefault(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(domain.JABATAN_KINDS))
    grade = fields.String(
        load_default="",
        validate=validate.OneOf(("", *domain.FUNCTIONAL_GRADES)),
        metadata={"description": "functional grade; empty for other kinds"},
    )
    competency_code = fields.String(required=True)
    level = fields.Integer(required=True, validate=LEVEL_RANGE)


# --- units and jabatan --------------------------------------------------------------------


class UnitIn(Schema):
    code = fields.String(required=True, validate=CODE, metadata={"example": "KEC-PLAJU"})
    name = fields.String(required=True, validate=NAME)
    kind = fields.String(
        allow_none=True, metadata={"description": "e.g. pemda, opd, kecamatan, kelurahan"}
    )
    parent_code = fields.String(allow_none=True)


class UnitPatch(Schema):
    name = fields.String(validate=NAME)
    kind = fields.String(allow_none=True)
    parent_code = fields.String(allow_none=True)


class UnitOut(UnitIn):
    pass


class UnitQuery(PageQuery):
    parent_code = fields.String(metadata={"description": "only the direct sub-units of this"})
    roots = fields.Boolean(load_default=False, metadata={"description": "only top-level units"})


class StandardCellOut(Schema):
    competency_code = fields.String(required=True)
    competency_name = fields.String(required=True)
    kind = fields.String(required=True)
    required_level = fields.Integer(required=True)


class JabatanIn(Schema):
    code = fields.String(required=True, validate=CODE)
    name = fields.String(required=True, validate=NAME)
    kind = fields.String(required=True, validate=validate.OneOf(domain.JABATAN_KINDS))
    grade = fields.String(
        allow_none=True,
        validate=validate.OneOf(domain.FUNCTIONAL_GRADES),
        metadata={"description": "functional jobs only, e.g. ahli_muda"},
    )
    unit_code = fields.String(required=True)
    standards = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(validate=LEVEL_RANGE),
        load_default=dict,
        metadata={
            "description": "required level per competency code, over the grade defaults; "
            "technical competencies are added here"
        },
    )

    @validates_schema
    def _grade(self, data: dict, **kwargs) -> None:
        try:
            domain.check_grade(data.get("kind"), data.get("grade"))
        except ValueError as exc:
            raise ValidationError(str(exc), "grade") from None


class JabatanPatch(Schema):
    name = fields.String(validate=NAME)
    unit_code = fields.String()


class JabatanOut(Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)
    kind = fields.String(required=True)
    grade = fields.String(allow_none=True)
    unit_code = fields.String(required=True)
    standards = fields.List(fields.Nested(StandardCellOut), required=True)


class JabatanQuery(PageQuery):
    unit = fields.String(metadata={"description": "unit code"})
    kind = fields.String(validate=validate.OneOf(domain.JABATAN_KINDS))


class StandardCellIn(Schema):
    required_level = fields.Integer(required=True, validate=LEVEL_RANGE)


# --- employees ----------------------------------------------------------------------------


class EmployeeFields(Schema):
    name = fields.String(validate=NAME)
    golongan = fields.String(allow_none=True, validate=validate.OneOf(GOLONGAN))
    unit_code = fields.String()
    jabatan_code = fields.String(allow_none=True)
    email = fields.Email(allow_none=True)
    phone = fields.String(allow_none=True, validate=validate.Regexp(r"^\+?[0-9 ()-]{6,20}$"))
    supervisor_nip = Nip(allow_none=True, metadata={"description": "the supervisor's NIP"})
    language = fields.String(validate=validate.OneOf(("id", "en")))


class EmployeeIn(EmployeeFields):
    nip = Nip(required=True, metadata={"example": "19860926 201505 1 001"})
    name = fields.String(required=True, validate=NAME)
    sex = fields.String(
        validate=validate.OneOf(("L", "P")),
        metadata={"description": "optional: the NIP's sex digit decides; must agree if given"},
    )
    unit_code = fields.String(required=True)
    language = fields.String(load_default="id", validate=validate.OneOf(("id", "en")))

    @validates_schema
    def _sex_agrees(self, data: dict, **kwargs) -> None:
        if "sex" in data and "nip" in data:
            from_nip = domain.parse_nip(data["nip"]).sex
            if data["sex"] != from_nip:
                raise ValidationError(
                    f"Jenis kelamin {data['sex']} tidak sesuai digit ke-15 NIP ({from_nip}).",
                    "sex",
                )


class EmployeePatch(EmployeeFields):
    pass


class EmployeeOut(Schema):
    nip = fields.String(required=True)
    nip_formatted = fields.String(required=True, metadata={"example": "19860926 201505 1 001"})
    name = fields.String(required=True)
    sex = fields.String(required=True)
    birth_date = fields.Date(required=True)
    appointed_on = fields.Date(required=True, metadata={"description": "TMT CPNS month"})
    golongan = fields.String(allow_none=True)
    unit_code = fields.String(required=True)
    jabatan_code = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    supervisor_nip = fields.String(allow_none=True)
    language = fields.String(required=True)
    version = fields.Integer(required=True)


class Announced(Schema):
    announced = fields.Integer(required=True, metadata={"description": "units announced"})


class EmployeeQuery(PageQuery):
    unit = fields.String(metadata={"description": "unit code"})
    include_sub_units = fields.Boolean(load_default=False)
    jabatan = fields.String(metadata={"description": "jabatan code"})
    category = fields.String(
        metadata={"description": "JPM category code of the current assessment, e.g. MS"}
    )


# --- assessments --------------------------------------------------------------------------


class AssessmentIn(Schema):
    nip = Nip(required=True)
    jabatan_code = fields.String(
        allow_none=True, metadata={"description": "assessed against; default the current one"}
    )
    assessed_on = fields.Date(required=True)
    method = fields.String(required=True, validate=validate.OneOf(domain.ASSESSMENT_METHODS))
    levels = fields.Dict(
        keys=fields.String(),
        values=Level(),
        required=True,
        validate=validate.Length(min=1),
        metadata={"description": "achieved level per competency code, e.g. {'M.01': 3.5}"},
    )


class CategoryOut(Schema):
    scheme = fields.String(required=True)
    code = fields.String(required=True)
    label = fields.String(required=True)


class ResultOut(Schema):
    competency_code = fields.String(required=True)
    competency_name = fields.String(required=True)
    kind = fields.String(required=True)
    required_level = fields.Integer(required=True)
    achieved_level = fields.Float(required=True)
    gap = fields.Float(required=True)


class AssessmentOut(Schema):
    id = fields.UUID(required=True)
    nip = fields.String(required=True)
    jabatan_code = fields.String(required=True)
    unit_code = fields.String(required=True)
    assessed_on = fields.Date(required=True)
    method = fields.String(required=True)
    jpm = fields.Float(required=True)
    jpm_method = fields.String(required=True)
    category = fields.Nested(CategoryOut, required=True)
    current = fields.Boolean(required=True)
    supersedes = fields.UUID(allow_none=True)
    superseded_by = fields.UUID(allow_none=True)
    import_id = fields.UUID(allow_none=True)
    results = fields.List(fields.Nested(ResultOut), required=True)


class AssessmentQuery(PageQuery):
    nip = fields.String()
    unit = fields.String(metadata={"description": "unit code at the time of the assessment"})
    include_sub_units = fields.Boolean(load_default=False)
    jabatan = fields.String(metadata={"description": "jabatan code assessed against"})
    category = fields.String(metadata={"description": "JPM category code, e.g. KMS"})
    current_only = fields.Boolean(load_default=False)
    import_id = fields.UUID(metadata={"description": "the assessments an import recorded"})


class ImportQuery(Schema):
    filename = fields.String(allow_none=True)
    format = fields.String(validate=validate.OneOf(("csv", "xlsx")))
    first_row = fields.Integer(
        load_default=2,
        validate=validate.Range(min=2, max=1_048_576),  # a spreadsheet's last row
        metadata={"description": "number of the first data row (the header is row 1)"},
    )


class RowError(Schema):
    row = fields.Integer(required=True)
    column = fields.String(required=True)
    reason = fields.String(required=True)


class ImportReport(Schema):
    import_id = fields.UUID(required=True)
    filename = fields.String(allow_none=True)
    format = fields.String(required=True)
    sha256 = fields.String(required=True)
    rows = fields.Integer(required=True)
    stored = fields.Integer(required=True)
    unchanged = fields.Integer(
        required=True, metadata={"description": "rows already recorded with the same levels"}
    )
    rejected = fields.Integer(required=True)
    errors = fields.List(fields.Nested(RowError), required=True)
    replayed = fields.Boolean(
        required=True, metadata={"description": "the same file was imported before"}
    )


# --- reports ------------------------------------------------------------------------------


class HistoryEntry(Schema):
    id = fields.UUID(required=True)
    assessed_on = fields.Date(required=True)
    jabatan_code = fields.String(required=True)
    method = fields.String(required=True)
    jpm = fields.Float(required=True)
    category = fields.Nested(CategoryOut, required=True)
    current = fields.Boolean(required=True)


class Activity(Schema):
    enrollment_id = fields.UUID(required=True)
    programme_code = fields.String(allow_none=True)
    programme_title = fields.String(required=True)
    form = fields.String(required=True)
    activity = fields.String(allow_none=True)
    jp = fields.Integer(required=True)
    started_on = fields.Date(required=True)
    ended_on = fields.Date(required=True)
    jp_year = fields.Integer(required=True)
    competency_codes = fields.List(fields.String(), required=True)


class YearJp(Schema):
    year = fields.Integer(required=True)
    jp = fields.Integer(required=True)


class Development(Schema):
    activities = fields.List(fields.Nested(Activity), required=True)
    jp_per_year = fields.List(fields.Nested(YearJp), required=True)


class ProfileOut(Schema):
    employee = fields.Nested(EmployeeOut, required=True)
    jabatan = fields.Nested(JabatanOut, allow_none=True)
    latest_assessment = fields.Nested(AssessmentOut, allow_none=True)
    jpm_history = fields.List(fields.Nested(HistoryEntry), required=True)
    development = fields.Nested(Development, required=True)


class GapReportQuery(Schema):
    include_sub_units = fields.Boolean(load_default=True)
    year = fields.Integer(
        validate=validate.Range(min=2000, max=2100),
        metadata={"description": "counts `assessed_in_year`: current assessments dated in it"},
    )


class CompetencyGap(Schema):
    competency_code = fields.String(required=True)
    competency_name = fields.String(required=True)
    kind = fields.String(required=True)
    assessed = fields.Integer(required=True)
    below_standard = fields.Integer(required=True)
    mean_gap = fields.Float(required=True)


class CategoryCount(CategoryOut):
    employees = fields.Integer(required=True)


class GapReportOut(Schema):
    unit_code = fields.String(required=True)
    units = fields.List(fields.String(), required=True)
    employees = fields.Integer(required=True)
    assessed = fields.Integer(required=True)
    year = fields.Integer(allow_none=True, metadata={"description": "the `year` asked for"})
    assessed_in_year = fields.Integer(
        allow_none=True,
        metadata={"description": "employees whose current assessment is dated in `year`"},
    )
    competencies = fields.List(fields.Nested(CompetencyGap), required=True)
    categories = fields.List(fields.Nested(CategoryCount), required=True)
