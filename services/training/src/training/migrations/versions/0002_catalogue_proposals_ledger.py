"""catalogue, proposals, enrolments and the JP ledger; forms of development with default JP

Revision ID: training_0002
Revises: training_0001
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

revision = "training_0002"
down_revision = "training_0001"
branch_labels = None
depends_on = None

# The forms of development (PP 11/2017 jo. PP 17/2020, Perlan 10/2018). No regulation fixes
# the JP of each kind: these defaults are a starting point the agency edits through the API
# (PUT /activities/<code>); a programme or record may always give its own JP.
ACTIVITIES = [
    ("pendidikan_formal", "pendidikan", "Pendidikan formal (tugas/izin belajar)", 20),
    ("pelatihan_kepemimpinan", "klasikal", "Pelatihan kepemimpinan (PKP, PKA, PKN)", 254),
    ("pelatihan_manajerial", "klasikal", "Pelatihan manajerial", 40),
    ("pelatihan_teknis", "klasikal", "Pelatihan teknis", 40),
    ("pelatihan_fungsional", "klasikal", "Pelatihan fungsional", 40),
    ("pelatihan_sosial_kultural", "klasikal", "Pelatihan sosial kultural", 24),
    ("seminar", "klasikal", "Seminar, konferensi, sarasehan", 8),
    ("lokakarya", "klasikal", "Lokakarya (workshop)", 16),
    ("kursus", "klasikal", "Kursus", 24),
    ("penataran", "klasikal", "Penataran", 24),
    ("bimbingan_teknis", "klasikal", "Bimbingan teknis", 24),
    ("sosialisasi", "klasikal", "Sosialisasi", 4),
    ("coaching", "nonklasikal", "Coaching", 10),
    ("mentoring", "nonklasikal", "Mentoring", 10),
    ("e_learning", "nonklasikal", "E-learning", 10),
    ("pelatihan_jarak_jauh", "nonklasikal", "Pelatihan jarak jauh", 20),
    ("bimbingan_di_tempat_kerja", "nonklasikal", "Bimbingan di tempat kerja", 10),
    ("pembelajaran_alam_terbuka", "nonklasikal", "Pembelajaran alam terbuka (outbound)", 16),
    ("detasering", "nonklasikal", "Detasering (secondment)", 40),
    ("patok_banding", "nonklasikal", "Patok banding (benchmarking)", 16),
    ("pertukaran_swasta", "nonklasikal", "Pertukaran PNS dengan pegawai swasta", 40),
    ("belajar_mandiri", "nonklasikal", "Belajar mandiri (self development)", 4),
    ("komunitas_belajar", "nonklasikal", "Komunitas belajar (community of practice)", 4),
    ("magang", "nonklasikal", "Magang / praktik kerja", 40),
]


def created(name: str = "created_at") -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())


def upgrade() -> None:
    activities = op.create_table(
        "activities",
        sa.Column("code", sa.Text(), primary_key=True),
        sa.Column("form", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("default_jp", sa.Integer(), nullable=False),
    )
    op.bulk_insert(
        activities,
        [dict(zip(("code", "form", "name", "default_jp"), row, strict=True)) for row in ACTIVITIES],
    )
    op.create_table(
        "programmes",
        sa.Column("code", sa.Text(), primary_key=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("form", sa.Text(), nullable=False),
        sa.Column("activity", sa.Text(), sa.ForeignKey("activities.code")),
        sa.Column("jp", sa.Integer(), nullable=False),
        sa.Column("cost_rupiah", sa.BigInteger(), nullable=False),
        sa.Column("provider", sa.Text()),
        created(),
    )
    op.create_table(
        "programme_competencies",
        sa.Column(
            "programme_code",
            sa.Text(),
            sa.ForeignKey("programmes.code", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("competency_code", sa.Text(), primary_key=True),
        sa.Column("level", sa.Integer(), nullable=False),
    )
    op.create_index(
        "programme_competencies_competency", "programme_competencies", ["competency_code"]
    )
    op.create_table(
        "batches",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("programme_code", sa.Text(), sa.ForeignKey("programmes.code"), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("place", sa.Text()),
        sa.Column("online", sa.Boolean(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("enrolled", sa.Integer(), nullable=False),
        sa.CheckConstraint("enrolled <= capacity", name="batches_seats"),
        sa.CheckConstraint("ends_on >= starts_on", name="batches_dates"),
    )
    op.create_index("ix_batches_programme_code", "batches", ["programme_code"])
    op.create_table(
        "employees",
        sa.Column("nip", sa.Text(), primary_key=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("unit_code", sa.Text(), nullable=False),
        sa.Column("unit_name", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    op.create_index("ix_employees_unit_code", "employees", ["unit_code"])
    op.create_table(
        "assessments",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("employee_nip", sa.Text(), nullable=False),
        sa.Column("assessed_on", sa.Date(), nullable=False),
        sa.Column("supersedes", sa.Uuid()),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("proposal_id", sa.Uuid()),
        created("received_at"),
    )
    op.create_index("ix_assessments_employee_nip", "assessments", ["employee_nip"])
    upgrade_proposals()
    upgrade_enrolments_and_ledger()


def upgrade_proposals() -> None:
    op.create_table(
        "proposals",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("employee_nip", sa.Text(), nullable=False),
        sa.Column("employee_name", sa.Text(), nullable=False),
        sa.Column("unit_code", sa.Text(), nullable=False),
        sa.Column("fiscal_year", sa.Integer(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("status_reason", sa.Text()),
        sa.Column("assessment_id", sa.Uuid()),
        sa.Column("supersedes", sa.Uuid()),
        sa.Column("alternative_of", sa.Uuid()),
        sa.Column("total_cost_rupiah", sa.BigInteger(), nullable=False),
        sa.Column("total_jp", sa.Integer(), nullable=False),
        sa.Column("jp_before", sa.Integer(), nullable=False),
        sa.Column("reserved_rupiah", sa.BigInteger(), nullable=False),
        created(),
        created("updated_at"),
    )
    for column in ("employee_nip", "unit_code", "status"):
        op.create_index(f"ix_proposals_{column}", "proposals", [column])
    op.create_table(
        "proposal_items",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("proposal_id", sa.Uuid(), sa.ForeignKey("proposals.id"), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("programme_code", sa.Text(), sa.ForeignKey("programmes.code"), nullable=False),
        sa.Column("programme_title", sa.Text(), nullable=False),
        sa.Column("form", sa.Text(), nullable=False),
        sa.Column("activity", sa.Text()),
        sa.Column("jp", sa.Integer(), nullable=False),
        sa.Column("cost_rupiah", sa.BigInteger(), nullable=False),
        sa.Column("competency_codes", ARRAY(sa.Text()), nullable=False),
        sa.Column("batch_id", sa.Uuid(), sa.ForeignKey("batches.id")),
        sa.Column("reasons", JSONB(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
    )
    op.create_index("ix_proposal_items_proposal_id", "proposal_items", ["proposal_id"])


def upgrade_enrolments_and_ledger() -> None:
    op.create_table(
        "enrollments",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("proposal_id", sa.Uuid(), sa.ForeignKey("proposals.id")),
        sa.Column("item_id", sa.Uuid(), sa.ForeignKey("proposal_items.id")),
        sa.Column("employee_nip", sa.Text(), nullable=False),
        sa.Column("unit_code", sa.Text(), nullable=False),
        sa.Column("programme_code", sa.Text(), sa.ForeignKey("programmes.code"), nullable=False),
        sa.Column("batch_id", sa.Uuid(), sa.ForeignKey("batches.id"), nullable=False),
        sa.Column("jp", sa.Integer(), nullable=False),
        sa.Column("cost_rupiah", sa.BigInteger(), nullable=False),
        sa.Column("competency_codes", ARRAY(sa.Text()), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        created("enrolled_at"),
        sa.Column("ended_on", sa.Date()),
    )
    for column in ("proposal_id", "employee_nip", "batch_id"):
        op.create_index(f"ix_enrollments_{column}", "enrollments", [column])
    op.create_table(
        "jp_ledger",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("employee_nip", sa.Text(), nullable=False),
        sa.Column("unit_code", sa.Text(), nullable=False),
        sa.Column("enrollment_id", sa.Uuid(), sa.ForeignKey("enrollments.id"), unique=True),
        sa.Column("proposal_id", sa.Uuid()),
        sa.Column("programme_code", sa.Text()),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("form", sa.Text(), nullable=False),
        sa.Column("activity", sa.Text()),
        sa.Column("provider", sa.Text()),
        sa.Column("jp", sa.Integer(), nullable=False),
        sa.Column("started_on", sa.Date(), nullable=False),
        sa.Column("ended_on", sa.Date(), nullable=False),
        sa.Column("jp_year", sa.Integer(), nullable=False),
        sa.Column("competency_codes", ARRAY(sa.Text()), nullable=False),
        sa.Column("cost_rupiah", sa.BigInteger(), nullable=False),
        sa.Column("evidence", sa.Text()),
        created("recorded_at"),
    )
    op.create_index("jp_ledger_employee_year", "jp_ledger", ["employee_nip", "jp_year"])


def downgrade() -> None:
    for table in (
        "jp_ledger",
        "enrollments",
        "proposal_items",
        "proposals",
        "assessments",
        "employees",
        "batches",
        "programme_competencies",
        "programmes",
        "activities",
    ):
        op.drop_table(table)
