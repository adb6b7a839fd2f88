"""default rules (who hears what) and their templates in Bahasa Indonesia and English

Templates are Jinja2 over ``data`` (the event's data), ``recipient`` (name, key),
``unit_name`` and ``event`` (type, id, time), with the filters ``rupiah``, ``date``,
``number``, ``gap``, ``percent`` and ``nip`` formatting in the recipient's language.

Revision ID: notification_0003
Revises: notification_0002
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY

revision = "notification_0003"
down_revision = "notification_0002"
branch_labels = None
depends_on = None

BOTH = ["email", "inbox"]

RULES = [
    ("assessment.recorded", "employee", "assessment_result"),
    ("proposal.created", "employee", "proposal_created"),
    ("proposal.created", "supervisor", "proposal_created_supervisor"),
    ("proposal.approved", "employee", "proposal_approved"),
    ("proposal.waitlisted", "employee", "proposal_waitlisted"),
    ("proposal.cancelled", "employee", "proposal_cancelled"),
    ("enrollment.created", "employee", "enrollment_created"),
    ("enrollment.completed", "employee", "enrollment_completed"),
    ("budget.rejected", "unit_operator", "budget_rejected"),
    ("budget.rejected", "bkpsdm_admin", "budget_rejected"),
    ("budget.threshold_reached", "unit_operator", "budget_threshold"),
    ("budget.threshold_reached", "bkpsdm_admin", "budget_threshold"),
]

FORMS_ID = '{"pendidikan": "pendidikan", "klasikal": "klasikal", "nonklasikal": "nonklasikal"}'
FORMS_EN = '{"pendidikan": "degree study", "klasikal": "classroom", "nonklasikal": "non-classroom"}'

ITEMS_ID = (
    "{% for item in items %}\n"
    "- {{ item.programme_title }} ({{ forms[item.form] }}"
    "{% if item.activity %}, {{ item.activity }}{% endif %}): {{ item.jp }} JP, "
    "{{ item.cost_rupiah | rupiah }}"
    "{% if item.batch %}, {{ item.batch.starts_on | date }} s.d. {{ item.batch.ends_on | date }}"
    "{% endif +%}\n"
    "{% endfor %}"
)
ITEMS_EN = (
    "{% for item in items %}\n"
    "- {{ item.programme_title }} ({{ forms[item.form] }}"
    "{% if item.activity %}, {{ item.activity }}{% endif %}): {{ item.jp }} JP, "
    "{{ item.cost_rupiah | rupiah }}"
    "{% if item.batch %}, {{ item.batch.starts_on | date }} to {{ item.batch.ends_on | date }}"
    "{% endif +%}\n"
    "{% endfor %}"
)
# Reasons arrive as codes (from budget.rejected, or "superseded"); an operator's free text is
# shown as it is.
REASON_ID = (
    "{% set reasons = {"
    "'insufficient_funds': 'anggaran pelatihan unit Anda tidak mencukupi', "
    "'no_allocation': 'unit Anda belum memiliki alokasi anggaran pelatihan', "
    "'superseded': 'digantikan oleh usulan dari hasil penilaian yang lebih baru'} %}"
    "Alasan: {{ reasons.get(data.reason, data.reason) }}.\n"
)
REASON_EN = (
    "{% set reasons = {"
    "'insufficient_funds': \"your unit's training budget is insufficient\", "
    "'no_allocation': 'your unit has no training budget allocated', "
    "'superseded': 'replaced by a proposal from a newer assessment'} %}"
    "Reason: {{ reasons.get(data.reason, data.reason) }}.\n"
)

SIGN_ID = "\nPesan ini dikirim otomatis oleh Kompas ASN.\n"
SIGN_EN = "\nThis message was sent automatically by Kompas ASN.\n"

TEMPLATES = {
    ("assessment_result", "id"): (
        "Hasil penilaian kompetensi Anda: JPM {{ data.jpm | percent }} ({{ data.category.label }})",
        "Yth. {{ recipient.name }},\n\n"
        "Hasil penilaian kompetensi Anda tanggal {{ data.assessed_on | date }} untuk jabatan "
        "{{ data.jabatan.name }} telah dicatat.\n\n"
        "Job Person Match (JPM): {{ data.jpm | percent }}, kategori {{ data.category.label }}.\n\n"
        "Kompetensi (standar, capaian, gap):\n"
        "{% for r in data.results %}\n"
        "- {{ r.competency_code }} {{ r.competency_name }}: standar {{ r.required_level }}, "
        "capaian {{ r.achieved_level | number }}, gap {{ r.gap | gap }}\n"
        "{% endfor %}\n\n"
        '{% set needs = data.results | selectattr("gap", "lt", 0) | list %}\n'
        "{% if needs %}\n"
        "Kompetensi yang perlu dikembangkan: "
        '{{ needs | map(attribute="competency_name") | join(", ") }}. '
        "Usulan pengembangan kompetensi akan disampaikan kepada Anda.\n"
        "{% else %}\n"
        "Seluruh kompetensi Anda telah memenuhi standar jabatan.\n"
        "{% endif %}\n" + SIGN_ID,
    ),
    ("assessment_result", "en"): (
        "Your competency assessment result: JPM {{ data.jpm | percent }} "
        "({{ data.category.label }})",
        "Dear {{ recipient.name }},\n\n"
        "Your competency assessment of {{ data.assessed_on | date }} for the post "
        "{{ data.jabatan.name }} has been recorded.\n\n"
        "Job Person Match (JPM): {{ data.jpm | percent }}, category {{ data.category.label }}.\n\n"
        "Competencies (required, achieved, gap):\n"
        "{% for r in data.results %}\n"
        "- {{ r.competency_code }} {{ r.competency_name }}: required {{ r.required_level }}, "
        "achieved {{ r.achieved_level | number }}, gap {{ r.gap | gap }}\n"
        "{% endfor %}\n\n"
        '{% set needs = data.results | selectattr("gap", "lt", 0) | list %}\n'
        "{% if needs %}\n"
        "Competencies to develop: "
        '{{ needs | map(attribute="competency_name") | join(", ") }}. '
        "A development proposal will follow.\n"
        "{% else %}\n"
        "All your competencies meet the standard of the post.\n"
        "{% endif %}\n" + SIGN_EN,
    ),
    ("proposal_created", "id"): (
        "Usulan pengembangan kompetensi tahun {{ data.fiscal_year }} untuk Anda",
        "Yth. {{ recipient.name }},\n\n"
        "Untuk tahun anggaran {{ data.fiscal_year }} diusulkan pengembangan kompetensi berikut "
        "bagi Anda:\n"
        "{% set items = data['items'] %}{% set forms = " + FORMS_ID + " %}\n" + ITEMS_ID + "\n\n"
        "Jumlah: {{ data.total_jp }} JP, {{ data.total_cost_rupiah | rupiah }}. "
        "JP yang telah Anda selesaikan tahun ini: {{ data.jp_before }} JP "
        "(kewajiban minimal 20 JP per tahun).\n\n"
        "{% if data.alternative_of %}\n"
        "Usulan ini adalah alternatif yang lebih hemat bagi kegiatan Anda yang masuk daftar "
        "tunggu.\n"
        "{% endif %}\n"
        "Usulan ini menunggu ketersediaan anggaran; Anda akan diberi tahu hasilnya.\n" + SIGN_ID,
    ),
    ("proposal_created", "en"): (
        "Competency development proposed for you for {{ data.fiscal_year }}",
        "Dear {{ recipient.name }},\n\n"
        "For the fiscal year {{ data.fiscal_year }} the following development is proposed "
        "for you:\n"
        "{% set items = data['items'] %}{% set forms = " + FORMS_EN + " %}\n" + ITEMS_EN + "\n\n"
        "Total: {{ data.total_jp }} JP, {{ data.total_cost_rupiah | rupiah }}. "
        "JP you completed this year: {{ data.jp_before }} JP (at least 20 JP a year are due).\n\n"
        "{% if data.alternative_of %}\n"
        "It is a cheaper alternative to your waitlisted development.\n"
        "{% endif %}\n"
        "The proposal waits for the budget; you will be told the outcome.\n" + SIGN_EN,
    ),
    ("proposal_created_supervisor", "id"): (
        "Usulan pengembangan kompetensi untuk {{ data.employee_name }}",
        "Yth. {{ recipient.name }},\n\n"
        "Anggota tim Anda, {{ data.employee_name }} (NIP {{ data.employee_nip | nip }}), "
        "diusulkan mengikuti pengembangan kompetensi tahun anggaran {{ data.fiscal_year }}:\n"
        "{% set items = data['items'] %}{% set forms = " + FORMS_ID + " %}\n" + ITEMS_ID + "\n\n"
        "Jumlah: {{ data.total_jp }} JP, {{ data.total_cost_rupiah | rupiah }}, "
        "dibebankan pada unit {{ unit_name }}.\n" + SIGN_ID,
    ),
    ("proposal_created_supervisor", "en"): (
        "Competency development proposed for {{ data.employee_name }}",
        "Dear {{ recipient.name }},\n\n"
        "A member of your team, {{ data.employee_name }} (NIP {{ data.employee_nip | nip }}), "
        "is proposed for development in the fiscal year {{ data.fiscal_year }}:\n"
        "{% set items = data['items'] %}{% set forms = " + FORMS_EN + " %}\n" + ITEMS_EN + "\n\n"
        "Total: {{ data.total_jp }} JP, {{ data.total_cost_rupiah | rupiah }}, "
        "charged to {{ unit_name }}.\n" + SIGN_EN,
    ),
    ("proposal_approved", "id"): (
        "Usulan pengembangan kompetensi Anda "
        "{% if data.status == 'partially_approved' %}sebagian {% endif %}disetujui",
        "Yth. {{ recipient.name }},\n\n"
        "Usulan pengembangan kompetensi Anda tahun anggaran {{ data.fiscal_year }} "
        "{% if data.status == 'partially_approved' %}sebagian {% endif %}disetujui. "
        "Kegiatan yang disetujui:\n"
        "{% set items = data.approved_items %}{% set forms = "
        + FORMS_ID
        + " %}\n"
        + ITEMS_ID
        + "\n"
        "Anggaran yang dicadangkan: {{ data.reserved_rupiah | rupiah }}.\n" + SIGN_ID,
    ),
    ("proposal_approved", "en"): (
        "Your development proposal was "
        "{% if data.status == 'partially_approved' %}partly {% endif %}approved",
        "Dear {{ recipient.name }},\n\n"
        "Your development proposal for the fiscal year {{ data.fiscal_year }} was "
        "{% if data.status == 'partially_approved' %}partly {% endif %}approved. "
        "Approved:\n"
        "{% set items = data.approved_items %}{% set forms = "
        + FORMS_EN
        + " %}\n"
        + ITEMS_EN
        + "\n"
        "Budget reserved: {{ data.reserved_rupiah | rupiah }}.\n" + SIGN_EN,
    ),
    ("proposal_waitlisted", "id"): (
        "Usulan pengembangan kompetensi Anda masuk daftar tunggu",
        "Yth. {{ recipient.name }},\n\n"
        "Kegiatan berikut dari usulan pengembangan kompetensi Anda tahun anggaran "
        "{{ data.fiscal_year }} belum dapat dibiayai dan masuk daftar tunggu:\n"
        "{% set items = data.waitlisted_items %}{% set forms = "
        + FORMS_ID
        + " %}\n"
        + ITEMS_ID
        + "\n"
        + REASON_ID
        + "{% if data.alternative_proposal_id %}\n"
        "Alternatif yang lebih hemat atau tanpa biaya telah diusulkan untuk Anda.\n"
        "{% endif %}\n" + SIGN_ID,
    ),
    ("proposal_waitlisted", "en"): (
        "Your development proposal is on the waiting list",
        "Dear {{ recipient.name }},\n\n"
        "The budget cannot yet pay for these items of your development proposal for "
        "{{ data.fiscal_year }}; they are on the waiting list:\n"
        "{% set items = data.waitlisted_items %}{% set forms = "
        + FORMS_EN
        + " %}\n"
        + ITEMS_EN
        + "\n"
        + REASON_EN
        + "{% if data.alternative_proposal_id %}\n"
        "A cheaper or free alternative has been proposed for you.\n"
        "{% endif %}\n" + SIGN_EN,
    ),
    ("proposal_cancelled", "id"): (
        "Usulan pengembangan kompetensi Anda dibatalkan",
        "Yth. {{ recipient.name }},\n\n"
        "Usulan pengembangan kompetensi Anda tahun anggaran {{ data.fiscal_year }} dibatalkan.\n"
        + REASON_ID
        + SIGN_ID,
    ),
    ("proposal_cancelled", "en"): (
        "Your development proposal was cancelled",
        "Dear {{ recipient.name }},\n\n"
        "Your development proposal for the fiscal year {{ data.fiscal_year }} was cancelled.\n"
        + REASON_EN
        + SIGN_EN,
    ),
    ("enrollment_created", "id"): (
        "Anda terdaftar sebagai peserta {{ data.programme_title }}",
        "Yth. {{ recipient.name }},\n\n"
        "Anda terdaftar sebagai peserta {{ data.programme_title }} ({{ data.jp }} JP).\n"
        "Jadwal: {{ data.batch.starts_on | date }} s.d. {{ data.batch.ends_on | date }}\n"
        "Tempat: {% if data.batch.online %}daring{% else %}{{ data.batch.place }}{% endif %}\n"
        + SIGN_ID,
    ),
    ("enrollment_created", "en"): (
        "You are enrolled in {{ data.programme_title }}",
        "Dear {{ recipient.name }},\n\n"
        "You are enrolled in {{ data.programme_title }} ({{ data.jp }} JP).\n"
        "Dates: {{ data.batch.starts_on | date }} to {{ data.batch.ends_on | date }}\n"
        "Place: {% if data.batch.online %}online{% else %}{{ data.batch.place }}{% endif %}\n"
        + SIGN_EN,
    ),
    ("enrollment_completed", "id"): (
        "Pengembangan kompetensi selesai: {{ data.programme_title }}",
        "Yth. {{ recipient.name }},\n\n"
        "Anda telah menyelesaikan {{ data.programme_title }} "
        "({{ data.started_on | date }} s.d. {{ data.ended_on | date }}).\n"
        "{{ data.jp }} JP dicatat untuk tahun {{ data.jp_year }}.\n" + SIGN_ID,
    ),
    ("enrollment_completed", "en"): (
        "Development completed: {{ data.programme_title }}",
        "Dear {{ recipient.name }},\n\n"
        "You have completed {{ data.programme_title }} "
        "({{ data.started_on | date }} to {{ data.ended_on | date }}).\n"
        "{{ data.jp }} JP are counted for {{ data.jp_year }}.\n" + SIGN_EN,
    ),
    ("budget_rejected", "id"): (
        "Anggaran pelatihan {{ unit_name }} tahun {{ data.fiscal_year }} tidak mencukupi",
        "Yth. {{ recipient.name }},\n\n"
        "Usulan pengembangan kompetensi senilai {{ data.requested_rupiah | rupiah }} "
        "untuk unit {{ unit_name }} tidak dapat dibiayai: "
        "{% if data.reason == 'no_allocation' %}belum ada alokasi anggaran"
        "{% else %}anggaran yang tersedia tidak mencukupi{% endif %}.\n\n"
        "Alokasi: {{ data.allocated_rupiah | rupiah }}\n"
        "Terpakai dan dicadangkan: {{ data.committed_rupiah | rupiah }}\n"
        "Tersedia: {{ data.available_rupiah | rupiah }}\n" + SIGN_ID,
    ),
    ("budget_rejected", "en"): (
        "Training budget of {{ unit_name }} for {{ data.fiscal_year }} is insufficient",
        "Dear {{ recipient.name }},\n\n"
        "A development proposal of {{ data.requested_rupiah | rupiah }} for {{ unit_name }} "
        "cannot be paid: "
        "{% if data.reason == 'no_allocation' %}there is no allocation"
        "{% else %}the available budget is insufficient{% endif %}.\n\n"
        "Allocated: {{ data.allocated_rupiah | rupiah }}\n"
        "Spent and reserved: {{ data.committed_rupiah | rupiah }}\n"
        "Available: {{ data.available_rupiah | rupiah }}\n" + SIGN_EN,
    ),
    ("budget_threshold", "id"): (
        "Anggaran pelatihan {{ unit_name }} tahun {{ data.fiscal_year }} telah terpakai "
        "{{ data.threshold_percent }}%",
        "Yth. {{ recipient.name }},\n\n"
        "Anggaran pelatihan unit {{ unit_name }} tahun {{ data.fiscal_year }} telah terpakai "
        "atau dicadangkan {{ data.threshold_percent }}% atau lebih.\n\n"
        "Alokasi: {{ data.allocated_rupiah | rupiah }}\n"
        "Terpakai dan dicadangkan: {{ data.committed_rupiah | rupiah }}\n"
        "Tersedia: {{ data.available_rupiah | rupiah }}\n" + SIGN_ID,
    ),
    ("budget_threshold", "en"): (
        "Training budget of {{ unit_name }} for {{ data.fiscal_year }} is "
        "{{ data.threshold_percent }}% committed",
        "Dear {{ recipient.name }},\n\n"
        "At least {{ data.threshold_percent }}% of the training budget of {{ unit_name }} "
        "for {{ data.fiscal_year }} is spent or reserved.\n\n"
        "Allocated: {{ data.allocated_rupiah | rupiah }}\n"
        "Spent and reserved: {{ data.committed_rupiah | rupiah }}\n"
        "Available: {{ data.available_rupiah | rupiah }}\n" + SIGN_EN,
    ),
}


def upgrade() -> None:
    rules = sa.table(
        "rules",
        sa.column("event_type", sa.Text()),
        sa.column("audience", sa.Text()),
        sa.column("channels", ARRAY(sa.Text())),
        sa.column("template", sa.Text()),
        sa.column("active", sa.Boolean()),
    )
    templates = sa.table(
        "templates",
        sa.column("key", sa.Text()),
        sa.column("language", sa.Text()),
        sa.column("subject", sa.Text()),
        sa.column("body", sa.Text()),
    )
    op.bulk_insert(
        rules,
        [
            {"event_type": e, "audience": a, "channels": BOTH, "template": t, "active": True}
            for e, a, t in RULES
        ],
    )
    op.bulk_insert(
        templates,
        [
            {"key": key, "language": language, "subject": subject, "body": body}
            for (key, language), (subject, body) in TEMPLATES.items()
        ],
    )


def downgrade() -> None:
    op.execute("DELETE FROM rules")
    op.execute("DELETE FROM templates")
