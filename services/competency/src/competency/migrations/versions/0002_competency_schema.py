"""competency schema, with the dictionary, level labels, grade defaults and JPM bands seeded

The seed is data an agency may edit afterwards (through the API or SQL): the level labels
and the defaults of grades other than the five confirmed rows follow secondary sources.

Revision ID: competency_0002
Revises: competency_0001
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "competency_0002"
down_revision = "competency_0001"
branch_labels = None
depends_on = None

LEVEL_LABELS = {
    1: "Paham / Dalam Pengembangan",
    2: "Dasar",
    3: "Menengah",
    4: "Mahir",
    5: "Ahli / Mumpuni",
}

# (code, name, kind, description, level 1 ... level 5)
DICTIONARY = [
    (
        "M.01",
        "Integritas",
        "manajerial",
        "Konsisten berperilaku selaras dengan nilai, norma, dan etika organisasi.",
        [
            "Bertindak sesuai nilai, norma, dan etika organisasi dalam kapasitas pribadi.",
            "Mengingatkan dan mengajak rekan kerja bertindak sesuai nilai dan etika organisasi.",
            "Menanamkan nilai, norma, dan etika organisasi di dalam timnya.",
            "Membangun iklim kepatuhan pada nilai dan etika di unit kerjanya.",
            "Menjadi teladan integritas pada tingkat nasional.",
        ],
    ),
    (
        "M.02",
        "Kerjasama",
        "manajerial",
        "Menjalin dan mengembangkan kerja sama dengan orang lain untuk hasil bersama.",
        [
            "Berpartisipasi aktif sebagai anggota tim.",
            "Menumbuhkan tim kerja yang partisipatif.",
            "Membangun tim kerja untuk meningkatkan kinerja unit.",
            "Membangun komitmen dan sinergi tim untuk kinerja organisasi.",
            "Menciptakan kerja sama di dalam dan di luar instansi.",
        ],
    ),
    (
        "M.03",
        "Komunikasi",
        "manajerial",
        "Menyampaikan dan menerima informasi secara jelas, tepat, dan meyakinkan.",
        [
            "Menyampaikan informasi dengan jelas dan mudah dipahami.",
            "Aktif berkomunikasi secara formal maupun informal.",
            "Berkomunikasi secara asertif pada persoalan yang sensitif atau kompleks.",
            "Menyusun argumentasi multidimensi untuk mencapai kesepakatan.",
            "Merancang sistem komunikasi yang terbuka bagi organisasi.",
        ],
    ),
    (
        "M.04",
        "Orientasi pada Hasil",
        "manajerial",
        "Mempertahankan komitmen untuk menyelesaikan tugas sesuai atau melebihi standar.",
        [
            "Bertanggung jawab memenuhi standar kerja.",
            "Berupaya melampaui standar kerja dan mencari metode kerja yang lebih baik.",
            "Menetapkan target kerja yang menantang bagi unit kerja.",
            "Mendorong unit kerja mencapai hasil melampaui target.",
            "Meningkatkan hasil kinerja organisasi secara menyeluruh.",
        ],
    ),
    (
        "M.05",
        "Pelayanan Publik",
        "manajerial",
        "Melayani masyarakat secara profesional, transparan, dan tidak diskriminatif.",
        [
            "Menjalankan pelayanan sesuai standar yang berlaku.",
            "Mengawasi dan menjelaskan proses pelayanan secara transparan.",
            "Memperbaiki standar pelayanan di unit kerjanya.",
            "Mengantisipasi persoalan pelayanan jangka panjang.",
            "Menjamin kebijakan pelayanan yang netral dan tidak diskriminatif.",
        ],
    ),
    (
        "M.06",
        "Pengembangan Diri dan Orang Lain",
        "manajerial",
        "Meningkatkan kemampuan diri sendiri dan mengembangkan kemampuan orang lain.",
        [
            "Mengembangkan diri sendiri secara berkelanjutan.",
            "Membimbing bawahan dengan memberi contoh.",
            "Memberikan umpan balik dan melakukan pembinaan (coaching).",
            "Menyusun program pengembangan jangka panjang.",
            "Menjadikan organisasi sebagai organisasi pembelajar.",
        ],
    ),
    (
        "M.07",
        "Mengelola Perubahan",
        "manajerial",
        "Menyesuaikan diri dengan perubahan dan menggerakkan orang lain untuk berubah.",
        [
            "Mengikuti perubahan sesuai arahan.",
            "Beradaptasi terhadap perubahan secara proaktif.",
            "Membantu orang lain menghadapi perubahan.",
            "Memimpin perubahan di unit kerjanya.",
            "Menggerakkan pemangku kepentingan untuk perubahan yang berkelanjutan.",
        ],
    ),
    (
        "M.08",
        "Pengambilan Keputusan",
        "manajerial",
        "Mengambil keputusan yang tepat waktu dan tepat sasaran berdasarkan analisis.",
        [
            "Mengumpulkan informasi untuk bertindak sesuai kewenangannya.",
            "Menganalisis masalah secara mendalam.",
            "Membandingkan alternatif dan risikonya sebelum memutuskan.",
            "Menyelesaikan masalah berisiko tinggi disertai langkah mitigasi.",
            "Mengambil keputusan strategis yang berdampak nasional.",
        ],
    ),
    (
        "SK.01",
        "Perekat Bangsa",
        "sosial_kultural",
        "Mempromosikan sikap toleransi, keterbukaan, dan persatuan dalam keberagaman.",
        [
            "Menerima dan menghargai keberagaman.",
            "Menumbuhkan sikap saling menghormati.",
            "Mempromosikan toleransi dan persatuan.",
            "Memanfaatkan perbedaan secara konstruktif.",
            "Mewakili pemerintah dalam membangun ikatan sosial.",
        ],
    ),
]

# Default required level per jabatan kind (and functional grade) for three groups:
# Integritas and Kerjasama; Komunikasi, Orientasi pada Hasil and Pelayanan Publik; the rest.
GROUPS = (
    ("M.01", "M.02"),
    ("M.03", "M.04", "M.05"),
    ("M.06", "M.07", "M.08", "SK.01"),
)
GRADE_DEFAULTS = {
    ("jpt_utama", ""): (5, 5, 5),
    ("jpt_madya", ""): (5, 5, 5),
    ("jpt_pratama", ""): (4, 4, 4),
    ("administrator", ""): (3, 3, 3),
    ("pengawas", ""): (2, 2, 2),
    ("pelaksana", ""): (1, 1, 1),
    ("fungsional", "pemula"): (1, 1, 1),
    ("fungsional", "terampil"): (2, 1, 1),
    ("fungsional", "mahir"): (2, 2, 2),
    ("fungsional", "penyelia"): (3, 3, 3),
    ("fungsional", "ahli_pertama"): (2, 2, 2),
    ("fungsional", "ahli_muda"): (3, 3, 3),
    ("fungsional", "ahli_madya"): (4, 4, 4),
    ("fungsional", "ahli_utama"): (5, 5, 5),
}

JPM_CATEGORIES = [
    ("memenuhi_syarat", "MS", "Memenuhi Syarat", 80),
    ("memenuhi_syarat", "MMS", "Masih Memenuhi Syarat", 68),
    ("memenuhi_syarat", "KMS", "Kurang Memenuhi Syarat", 0),
    ("optimal", "O", "Optimal", 90),
    ("optimal", "CO", "Cukup Optimal", 78),
    ("optimal", "KO", "Kurang Optimal", 0),
]


def _timestamps() -> list[sa.Column]:
    return [
        sa.Column(name, sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())
        for name in ("created_at", "updated_at")
    ]


def _created() -> sa.Column:
    return sa.Column(
        "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    )


def upgrade() -> None:
    _dictionary_tables()
    _organisation_tables()
    _assessment_tables()
    _seed()


def _dictionary_tables() -> None:
    op.create_table(
        "level_labels",
        sa.Column("level", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("level"),
    )
    op.create_table(
        "competencies",
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        *_timestamps(),
        sa.PrimaryKeyConstraint("code"),
    )
    op.create_table(
        "competency_levels",
        sa.Column("competency_code", sa.Text(), nullable=False),
        sa.Column("level", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["competency_code"], ["competencies.code"]),
        sa.PrimaryKeyConstraint("competency_code", "level"),
    )
    op.create_table(
        "grade_defaults",
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("grade", sa.Text(), nullable=False),
        sa.Column("competency_code", sa.Text(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["competency_code"], ["competencies.code"]),
        sa.PrimaryKeyConstraint("kind", "grade", "competency_code"),
    )
    op.create_table(
        "jpm_categories",
        sa.Column("scheme", sa.Text(), nullable=False),
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("min_percent", sa.Numeric(5, 2), nullable=False),
        sa.PrimaryKeyConstraint("scheme", "code"),
    )


def _organisation_tables() -> None:
    op.create_table(
        "units",
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=True),
        sa.Column("parent_code", sa.Text(), nullable=True),
        *_timestamps(),
        sa.ForeignKeyConstraint(["parent_code"], ["units.code"]),
        sa.PrimaryKeyConstraint("code"),
    )
    op.create_index("ix_units_parent_code", "units", ["parent_code"])
    op.create_table(
        "jabatan",
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("grade", sa.Text(), nullable=True),
        sa.Column("unit_code", sa.Text(), nullable=False),
        *_timestamps(),
        sa.ForeignKeyConstraint(["unit_code"], ["units.code"]),
        sa.PrimaryKeyConstraint("code"),
    )
    op.create_index("ix_jabatan_unit_code", "jabatan", ["unit_code"])
    op.create_table(
        "jabatan_standards",
        sa.Column("jabatan_code", sa.Text(), nullable=False),
        sa.Column("competency_code", sa.Text(), nullable=False),
        sa.Column("required_level", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["jabatan_code"], ["jabatan.code"]),
        sa.ForeignKeyConstraint(["competency_code"], ["competencies.code"]),
        sa.PrimaryKeyConstraint("jabatan_code", "competency_code"),
    )
    op.create_table(
        "employees",
        sa.Column("nip", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("sex", sa.Text(), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("appointed_on", sa.Date(), nullable=False),
        sa.Column("golongan", sa.Text(), nullable=True),
        sa.Column("unit_code", sa.Text(), nullable=False),
        sa.Column("jabatan_code", sa.Text(), nullable=True),
        sa.Column("email", sa.Text(), nullable=True),
        sa.Column("phone", sa.Text(), nullable=True),
        sa.Column("supervisor_nip", sa.Text(), nullable=True),
        sa.Column("language", sa.Text(), nullable=False, server_default=sa.text("'id'")),
        sa.Column("version", sa.Integer(), nullable=False),
        *_timestamps(),
        sa.ForeignKeyConstraint(["unit_code"], ["units.code"]),
        sa.ForeignKeyConstraint(["jabatan_code"], ["jabatan.code"]),
        sa.ForeignKeyConstraint(["supervisor_nip"], ["employees.nip"]),
        sa.PrimaryKeyConstraint("nip"),
    )
    op.create_index("ix_employees_unit_code", "employees", ["unit_code"])
    op.create_index("ix_employees_jabatan_code", "employees", ["jabatan_code"])


def _assessment_tables() -> None:
    op.create_table(
        "assessment_imports",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("filename", sa.Text(), nullable=True),
        sa.Column("sha256", sa.Text(), nullable=False),
        sa.Column("first_row", sa.Integer(), nullable=False),
        sa.Column("format", sa.Text(), nullable=False),
        sa.Column("report", postgresql.JSONB(), nullable=False),
        _created(),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("sha256", "first_row"),
    )
    op.create_table(
        "assessments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("employee_nip", sa.Text(), nullable=False),
        sa.Column("jabatan_code", sa.Text(), nullable=False),
        sa.Column("unit_code", sa.Text(), nullable=False),
        sa.Column("assessed_on", sa.Date(), nullable=False),
        sa.Column("method", sa.Text(), nullable=False),
        sa.Column("jpm", sa.Numeric(6, 2), nullable=False),
        sa.Column("jpm_method", sa.Text(), nullable=False),
        sa.Column("category_scheme", sa.Text(), nullable=False),
        sa.Column("category_code", sa.Text(), nullable=False),
        sa.Column("category_label", sa.Text(), nullable=False),
        sa.Column("superseded_by", sa.Uuid(), nullable=True),
        sa.Column("supersedes", sa.Uuid(), nullable=True),
        sa.Column("import_id", sa.Uuid(), nullable=True),
        sa.Column(
            "recorded_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.func.now(),
        ),
        sa.ForeignKeyConstraint(["employee_nip"], ["employees.nip"]),
        sa.ForeignKeyConstraint(["jabatan_code"], ["jabatan.code"]),
        sa.ForeignKeyConstraint(["unit_code"], ["units.code"]),
        sa.ForeignKeyConstraint(["import_id"], ["assessment_imports.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("employee_nip", "jabatan_code", "assessed_on", "method"),
    )
    op.create_index("ix_assessments_unit_code", "assessments", ["unit_code"])
    op.create_index(
        "assessments_current",
        "assessments",
        ["employee_nip", "jabatan_code"],
        unique=True,
        postgresql_where=sa.text("superseded_by IS NULL"),
    )
    op.create_table(
        "assessment_results",
        sa.Column("assessment_id", sa.Uuid(), nullable=False),
        sa.Column("competency_code", sa.Text(), nullable=False),
        sa.Column("competency_name", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("required_level", sa.Integer(), nullable=False),
        sa.Column("achieved_level", sa.Numeric(3, 1), nullable=False),
        sa.Column("gap", sa.Numeric(3, 1), nullable=False),
        sa.ForeignKeyConstraint(["assessment_id"], ["assessments.id"]),
        sa.PrimaryKeyConstraint("assessment_id", "competency_code"),
    )
    op.create_table(
        "development_activities",
        sa.Column("enrollment_id", sa.Uuid(), nullable=False),
        sa.Column("employee_nip", sa.Text(), nullable=False),
        sa.Column("unit_code", sa.Text(), nullable=False),
        sa.Column("proposal_id", sa.Uuid(), nullable=True),
        sa.Column("programme_code", sa.Text(), nullable=True),
        sa.Column("programme_title", sa.Text(), nullable=False),
        sa.Column("form", sa.Text(), nullable=False),
        sa.Column("activity", sa.Text(), nullable=True),
        sa.Column("jp", sa.Integer(), nullable=False),
        sa.Column("started_on", sa.Date(), nullable=False),
        sa.Column("ended_on", sa.Date(), nullable=False),
        sa.Column("jp_year", sa.Integer(), nullable=False),
        sa.Column("competency_codes", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("cost_rupiah", sa.BigInteger(), nullable=False),
        sa.Column(
            "recorded_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.func.now(),
        ),
        sa.PrimaryKeyConstraint("enrollment_id"),
    )
    op.create_index(
        "ix_development_activities_employee_nip", "development_activities", ["employee_nip"]
    )


def _seed() -> None:
    level_labels = sa.table("level_labels", sa.column("level"), sa.column("label"))
    op.bulk_insert(level_labels, [{"level": k, "label": v} for k, v in LEVEL_LABELS.items()])

    competencies = sa.table(
        "competencies",
        sa.column("code"),
        sa.column("name"),
        sa.column("kind"),
        sa.column("description"),
    )
    levels = sa.table(
        "competency_levels",
        sa.column("competency_code"),
        sa.column("level"),
        sa.column("description"),
    )
    op.bulk_insert(
        competencies,
        [
            {"code": code, "name": name, "kind": kind, "description": description}
            for code, name, kind, description, _ in DICTIONARY
        ],
    )
    op.bulk_insert(
        levels,
        [
            {"competency_code": code, "level": number, "description": text}
            for code, _, _, _, texts in DICTIONARY
            for number, text in enumerate(texts, start=1)
        ],
    )

    defaults = sa.table(
        "grade_defaults",
        sa.column("kind"),
        sa.column("grade"),
        sa.column("competency_code"),
        sa.column("level"),
    )
    op.bulk_insert(
        defaults,
        [
            {"kind": kind, "grade": grade, "competency_code": code, "level": level}
            for (kind, grade), group_levels in GRADE_DEFAULTS.items()
            for codes, level in zip(GROUPS, group_levels, strict=True)
            for code in codes
        ],
    )

    categories = sa.table(
        "jpm_categories",
        sa.column("scheme"),
        sa.column("code"),
        sa.column("label"),
        sa.column("min_percent"),
    )
    op.bulk_insert(
        categories,
        [
            {"scheme": scheme, "code": code, "label": label, "min_percent": minimum}
            for scheme, code, label, minimum in JPM_CATEGORIES
        ],
    )


def downgrade() -> None:
    for table in (
        "development_activities",
        "assessment_results",
        "assessments",
        "assessment_imports",
        "employees",
        "jabatan_standards",
        "jabatan",
        "units",
        "jpm_categories",
        "grade_defaults",
        "competency_levels",
        "competencies",
        "level_labels",
    ):
        op.drop_table(table)
