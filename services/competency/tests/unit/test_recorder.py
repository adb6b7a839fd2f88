"""Recording assessments without broker or database: scoring, which result is current, the
same assessment again, and what is refused."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from competency import domain
from competency.recording import Recorder, Rejected, Submission

NIP = "198609262015052001"
RULES = domain.Rules(jpm_method="capped", scheme="jf")


def submission(assessed_on=date(2026, 6, 1), m01="3", m02="2", method="assessment_centre"):
    levels = {"M.01": Decimal(m01), "M.02": Decimal(m02)}
    return Submission(NIP, None, assessed_on, method, levels)


def record(uow, *submissions):
    """Record the submissions in one unit of work, as one import would; the outcomes."""
    with uow:
        recorder = Recorder(uow, RULES, {s.nip for s in submissions})
        outcomes = [recorder.record(s, origin=row) for row, s in enumerate(submissions, 2)]
        recorder.flush()
        uow.commit()
    return outcomes


def test_a_first_assessment_is_scored_and_announced_as_current(uow, repo):
    [outcome] = record(uow, submission())

    assert outcome.status == "stored"
    stored = repo.assessments[outcome.assessment_id]
    assert (stored["jpm"], stored["category_code"]) == (Decimal("83.33"), "MMS")
    assert stored["superseded_by"] is None and stored["supersedes"] is None
    assert sorted((r["competency_code"], r["gap"]) for r in repo.results) == [
        ("M.01", Decimal(0)),
        ("M.02", Decimal(-1)),
    ]
    [event] = uow.named("assessment.recorded")
    assert event.data["assessment_id"] == outcome.assessment_id
    assert event.data["current"] is True and event.data["jabatan"]["code"] == "LURAH"


def test_a_later_assessment_supersedes_the_current_one(uow, repo):
    [first] = record(uow, submission(date(2026, 3, 1)))

    [second] = record(uow, submission(date(2026, 6, 1), m02="3"))

    assert repo.assessments[first.assessment_id]["superseded_by"] == second.assessment_id
    latest = uow.named("assessment.recorded")[-1]
    assert latest.data["supersedes"] == first.assessment_id and latest.data["current"] is True


def test_an_older_assessment_arriving_late_is_kept_as_history(uow, repo):
    [newer] = record(uow, submission(date(2026, 6, 1)))

    [older] = record(uow, submission(date(2026, 1, 10)))

    assert repo.assessments[older.assessment_id]["superseded_by"] == newer.assessment_id
    assert repo.assessments[newer.assessment_id]["superseded_by"] is None
    assert uow.named("assessment.recorded")[-1].data["current"] is False


def test_within_one_import_the_later_row_supersedes_the_earlier(uow, repo):
    first, second = record(uow, submission(date(2026, 3, 1)), submission(date(2026, 5, 1)))

    assert repo.assessments[first.assessment_id]["superseded_by"] == second.assessment_id
    announced = uow.named("assessment.recorded")
    assert [e.data["supersedes"] for e in announced] == [None, first.assessment_id]


def test_the_same_assessment_again_is_unchanged_and_not_announced_twice(uow, repo):
    [first] = record(uow, submission())

    [again] = record(uow, submission())

    assert (again.status, again.assessment_id) == ("unchanged", first.assessment_id)
    assert len(uow.named("assessment.recorded")) == 1


def test_the_same_assessment_with_other_levels_is_refused_by_competency(uow, repo):
    record(uow, submission(m02="2"))

    with pytest.raises(Rejected) as refused:
        record(uow, submission(m02="2.5"))

    assert list(refused.value.problems) == ["M.02"]


def test_an_assessment_dated_after_today_is_refused(uow, repo):
    tomorrow = uow.clock.today() + timedelta(days=1)

    with pytest.raises(Rejected) as refused:
        record(uow, submission(tomorrow))

    assert list(refused.value.problems) == ["assessed_on"]
    assert repo.assessments == {}


@pytest.mark.parametrize(
    ("setup", "field"),
    [
        (lambda repo: repo.employees.clear(), "nip"),
        (lambda repo: repo.add_employee(jabatan_code=None), "jabatan_code"),
        (lambda repo: repo.add_employee(jabatan_code="CAMAT"), "jabatan_code"),
        (lambda repo: repo.add_jabatan("LURAH", {}), "jabatan_code"),
    ],
)
def test_what_cannot_be_scored_is_refused_naming_the_field(uow, repo, setup, field):
    setup(repo)

    with pytest.raises(Rejected) as refused:
        record(uow, submission())

    assert list(refused.value.problems) == [field]


def test_a_managerial_competency_left_out_is_refused(uow, repo):
    incomplete = Submission(NIP, None, date(2026, 6, 1), "test", {"M.01": Decimal(3)})

    with pytest.raises(Rejected) as refused:
        record(uow, incomplete)

    assert list(refused.value.problems) == ["M.02"]
