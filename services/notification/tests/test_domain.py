"""The pure rules: formatting, patterns, signatures, back-off, audiences and the templates."""

import importlib.util
import uuid
from datetime import date, datetime
from pathlib import Path

import pytest

import notification
from notification import rendering
from notification.domain import (
    DELIVERED,
    PARKED,
    PENDING,
    EventFacts,
    RetryPolicy,
    concerns_people,
    delivery_outcome,
    facts_of,
    format_date,
    format_gap,
    format_number,
    format_percent,
    format_rupiah,
    pattern_matches,
    signature,
    valid_pattern,
)

VERSIONS = Path(notification.__file__).parent / "migrations" / "versions"


def seeded_templates() -> dict:
    path = VERSIONS / "0003_default_rules_and_templates.py"
    spec = importlib.util.spec_from_file_location("seed", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        (5_260_000, "Rp 5.260.000"),
        (11_526_250, "Rp 11.526.250"),
        (0, "Rp 0"),
        (999, "Rp 999"),
        (750_000_000, "Rp 750.000.000"),
        (-1_500, "-Rp 1.500"),
        (None, "-"),
    ],
)
def test_rupiah_is_written_with_dots_between_thousands(amount, text):
    assert format_rupiah(amount) == text


@pytest.mark.parametrize(
    ("value", "language", "text"),
    [
        (date(2026, 11, 26), "id", "26 November 2026"),
        (date(2026, 8, 17), "id", "17 Agustus 2026"),
        (date(2026, 2, 1), "id", "1 Februari 2026"),
        (date(2026, 8, 17), "en", "17 August 2026"),
        (datetime(2026, 5, 2, 23, 59), "id", "2 Mei 2026"),
        ("2026-12-04", "id", "4 Desember 2026"),
        (date(2026, 1, 1), "xx", "1 Januari 2026"),  # unknown language: Bahasa Indonesia
        (None, "id", "-"),
    ],
)
def test_dates_use_the_month_names_of_the_language(value, language, text):
    assert format_date(value, language) == text


def test_numbers_use_a_decimal_comma_in_bahasa_indonesia_and_a_point_in_english():
    assert format_number(72.5, "id") == "72,5"
    assert format_number(72.5, "en") == "72.5"
    assert format_number(3.0, "id") == "3"
    assert format_number(85.456, "id") == "85,46"
    assert format_number(-0.0) == "0"
    assert format_percent(80, "id") == "80%"
    assert format_percent(68.25, "id") == "68,25%"
    assert format_gap(-1.0, "id") == "-1"
    assert format_gap(-0.5, "id") == "-0,5"
    assert format_gap(0.5, "en") == "+0.5"
    assert format_gap(0, "id") == "0"


def test_nip_is_grouped_as_written_on_official_letters():
    assert rendering.format_nip("198609262015051001") == "19860926 201505 1 001"
    assert rendering.format_nip("123") == "123"


@pytest.mark.parametrize(
    ("pattern", "event_type", "matches"),
    [
        ("budget.*", "budget.rejected", True),
        ("budget.*", "budget.threshold_reached", True),
        ("budget.*", "proposal.created", False),
        ("assessment.recorded", "assessment.recorded", True),
        ("assessment.recorded", "assessment.recorded.v2", False),
        ("*.created", "proposal.created", True),
        ("*.created", "enrollment.completed", False),
        ("#", "proposal.waitlisted", True),
        ("proposal.#", "proposal.approved", True),
        ("budget", "budget.rejected", False),
    ],
)
def test_subscription_patterns_work_like_amqp_topics(pattern, event_type, matches):
    assert pattern_matches(pattern, event_type) is matches


def test_only_well_formed_patterns_are_accepted():
    assert all(map(valid_pattern, ["budget.*", "#", "assessment.recorded", "*.created"]))
    assert not any(map(valid_pattern, ["", "budget.", "Budget.*", "budget.**", "a b", ".x"]))


def test_the_signature_is_hmac_sha256_over_timestamp_dot_body():
    # computed with another tool: printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac s3cret
    expected = "sha256=1698a50bc74d1ff1db85c4e0a5297c2ad9fdba245d5737cdb789e4cc6e098940"
    assert signature("s3cret", "1700000000", b'{"a":1}') == expected
    assert signature("s3cret", "1700000001", b'{"a":1}') != expected
    assert signature("other", "1700000000", b'{"a":1}') != expected


def test_back_off_doubles_up_to_its_cap():
    policy = RetryPolicy(max_attempts=5, base_delay=30, max_delay=100)
    assert [policy.delay_after(n) for n in (1, 2, 3, 4)] == [30, 60, 100, 100]


def test_a_delivery_is_parked_once_its_attempts_are_spent():
    assert delivery_outcome(True, 3, 3) == DELIVERED
    assert delivery_outcome(False, 2, 3) == PENDING
    assert delivery_outcome(False, 3, 3) == PARKED


def test_events_name_their_employee_and_unit_where_the_catalogue_puts_them():
    nip = "198609262015052001"
    assessment = {"employee": {"nip": nip, "unit": {"code": "U1"}}}
    assert facts_of("assessment.recorded", assessment) == EventFacts(nip, "U1")
    proposal = {"employee_nip": nip, "unit_code": "U2"}
    assert facts_of("proposal.created", proposal) == EventFacts(nip, "U2")
    assert facts_of("budget.rejected", {"unit_code": "U3"}) == EventFacts(None, "U3")


def test_an_older_assessment_recorded_late_is_history_nobody_is_told_of():
    assert concerns_people("assessment.recorded", {"current": True})
    assert concerns_people("assessment.recorded", {})
    assert not concerns_people("assessment.recorded", {"current": False})
    assert concerns_people("proposal.created", {"current": False})


def _sample(key: str) -> dict:
    batch = {"starts_on": date(2026, 11, 26), "ends_on": date(2026, 12, 4), "online": False}
    item = {
        "programme_title": "Bimtek Pelayanan Publik",
        "form": "klasikal",
        "activity": "bimbingan teknis",
        "jp": 24,
        "cost_rupiah": 3_500_000,
        "batch": {**batch, "place": "Palembang"},
    }
    return {
        "assessed_on": date(2026, 11, 26),
        "jabatan": {"name": "Lurah"},
        "jpm": 91.0,
        "category": {"label": "Optimal"},
        "results": [
            {
                "competency_code": "M.05",
                "competency_name": "Pelayanan Publik",
                "required_level": 2,
                "achieved_level": 3.0,
                "gap": 1.0,
            }
        ],
        "items": [item],
        "approved_items": [item],
        "waitlisted_items": [item],
        "fiscal_year": 2026,
        "total_jp": 24,
        "total_cost_rupiah": 3_500_000,
        "jp_before": 12,
        "employee_name": "Siti",
        "employee_nip": "198609262015052001",
        "status": "approved",
        "reserved_rupiah": 3_500_000,
        "reason": "insufficient_funds",
        "alternative_proposal_id": uuid.uuid4(),
        "programme_title": "Bimtek Pelayanan Publik",
        "jp": 24,
        "batch": {**batch, "place": "Palembang"},
        "started_on": date(2026, 11, 26),
        "ended_on": date(2026, 12, 4),
        "jp_year": 2026,
        "requested_rupiah": 5_260_000,
        "allocated_rupiah": 20_000_000,
        "committed_rupiah": 18_000_000,
        "available_rupiah": 2_000_000,
        "threshold_percent": 90,
    }


def test_every_seeded_template_renders_in_both_languages_with_familiar_forms():
    seed = seeded_templates()
    keys = {template for _, _, template in seed.RULES}
    assert {key for key, _ in seed.TEMPLATES} == keys
    for key in sorted(keys):
        for language in ("id", "en"):
            subject, body = seed.TEMPLATES[key, language]
            context = {
                "data": _sample(key),
                "recipient": {"name": "Siti"},
                "unit_name": "Kelurahan Plaju Ulu",
            }
            rendered_subject, rendered_body = rendering.render(subject, body, context, language)
            assert rendered_subject and "\n" not in rendered_subject
            assert rendered_body.startswith("Yth. Siti," if language == "id" else "Dear Siti,")
            assert "{{" not in rendered_body and "None" not in rendered_body
            if "rupiah" in body:
                assert "Rp " in rendered_body and "Rp 3500000" not in rendered_body
            if "| date" in body:
                month = "Desember" if language == "id" else "December"
                assert month in rendered_body or "November" in rendered_body


def test_the_assessment_message_names_competency_gap_jpm_and_category():
    seed = seeded_templates()
    subject, body = seed.TEMPLATES["assessment_result", "id"]
    data = _sample("assessment_result")
    data["results"].append(
        {
            "competency_code": "M.03",
            "competency_name": "Komunikasi",
            "required_level": 3,
            "achieved_level": 2.0,
            "gap": -1.0,
        }
    )
    data.update(jpm=83.3, category={"label": "Cukup Optimal"})
    subject, body = rendering.render(
        subject, body, {"data": data, "recipient": {"name": "A"}}, "id"
    )
    assert subject == "Hasil penilaian kompetensi Anda: JPM 83,3% (Cukup Optimal)"
    assert "- M.05 Pelayanan Publik: standar 2, capaian 3, gap +1" in body
    assert "- M.03 Komunikasi: standar 3, capaian 2, gap -1" in body
    assert "Kompetensi yang perlu dikembangkan: Komunikasi." in body
    assert "26 November 2026" in body


def test_a_cheaper_alternative_says_so():
    seed = seeded_templates()
    subject, body = seed.TEMPLATES["proposal_created", "id"]
    data = {**_sample("proposal_created"), "alternative_of": uuid.uuid4()}
    _, text = rendering.render(subject, body, {"data": data, "recipient": {"name": "A"}}, "id")
    assert "alternatif yang lebih hemat bagi kegiatan Anda yang masuk daftar tunggu" in text
    _, plain = rendering.render(subject, body, {"data": _sample("x"), "recipient": {}}, "id")
    assert "alternatif" not in plain


def test_a_template_that_does_not_compile_is_refused():
    with pytest.raises(rendering.TemplateError, match="line 1"):
        rendering.check("{% if data.x %}unclosed")
    rendering.check("{{ data.amount | rupiah }} {{ data.day | date }}")


def test_templates_run_sandboxed():
    with pytest.raises(rendering.TemplateError):
        rendering.render("x", "{{ ''.__class__.__mro__ }}", {}, "id")
