"""The programme catalogue without broker or database: activities, programmes and batches."""

from datetime import date

import pytest

from asn_shared.errors import Conflict, NotFound, RuleBroken
from training.use_cases import catalogue


def programme_command(code="P-SEM", **changes):
    return {
        "code": code,
        "title": "Seminar pelayanan publik",
        "form": "klasikal",
        "activity": "seminar",
        "cost_rupiah": 750_000,
        "provider": "BPSDM Sumatera Selatan",
        "competencies": [{"competency_code": "M.01", "level": 3}],
        "batches": [
            {
                "starts_on": date(2026, 8, 3),
                "ends_on": date(2026, 8, 4),
                "place": "Palembang",
                "online": False,
                "capacity": 40,
            }
        ],
        **changes,
    }


def test_a_programme_without_jp_takes_its_activitys_default(uow, repo):
    repo.activity_kind("seminar", default_jp=8)

    view = catalogue.create_programme(uow, programme_command())

    assert view["jp"] == 8 and repo.programmes["P-SEM"].jp == 8
    [batch] = view["batches"]
    assert (batch["capacity"], batch["enrolled"], batch["seats_left"]) == (40, 0, 40)
    assert view["competencies"] == [{"competency_code": "M.01", "level": 3}]
    assert uow.commits == 1


def test_the_jp_given_outweighs_the_activitys_default(uow, repo):
    repo.activity_kind("seminar", default_jp=8)

    view = catalogue.create_programme(uow, programme_command(jp=12))

    assert view["jp"] == 12


def test_an_existing_programme_code_is_refused(uow, repo):
    repo.activity_kind("seminar")
    catalogue.create_programme(uow, programme_command())

    with pytest.raises(Conflict) as refused:
        catalogue.create_programme(uow, programme_command(title="Lagi"))
    assert refused.value.code == "conflict" and uow.commits == 1


def test_an_activity_of_another_form_is_refused(uow, repo):
    repo.activity_kind("e_learning", form="e_learning")

    with pytest.raises(RuleBroken) as refused:
        catalogue.create_programme(uow, programme_command(activity="e_learning"))
    assert refused.value.code == "rule_broken" and "activity" in refused.value.fields
    assert repo.programmes == {}


def test_an_unknown_activity_is_refused(uow, repo):
    with pytest.raises(RuleBroken) as refused:
        catalogue.create_programme(uow, programme_command(activity="ngopi", jp=4))
    assert refused.value.fields == {"activity": ["Unknown."]}


def test_without_activity_the_jp_is_required(uow, repo):
    with pytest.raises(RuleBroken) as refused:
        catalogue.create_programme(uow, programme_command(activity=None))
    assert "jp" in refused.value.fields


def test_a_batch_is_added_to_a_catalogued_programme(uow, repo):
    programme = repo.programme("P-PEM", 2_000_000, {"M.01": 3})
    command = {
        "starts_on": date(2026, 9, 7),
        "ends_on": date(2026, 9, 9),
        "place": "Plaju",
        "online": False,
        "capacity": 25,
    }

    view = catalogue.add_batch(uow, "P-PEM", command)

    assert view["programme_code"] == "P-PEM" and view["seats_left"] == 25
    assert len(programme.batches) == 2 and uow.commits == 1


def test_a_batch_for_an_unknown_programme_is_refused(uow, repo):
    with pytest.raises(NotFound) as refused:
        catalogue.add_batch(uow, "P-NONE", {})
    assert refused.value.code == "not_found"


def test_an_unknown_programme_is_not_found(uow, repo):
    with pytest.raises(NotFound):
        catalogue.get_programme(uow, "P-NONE")


def test_an_activitys_default_jp_is_editable(uow, repo):
    repo.activity_kind("seminar", default_jp=8)
    repo.activity_kind("coaching", default_jp=4)

    view = catalogue.update_activity(uow, "seminar", 10)

    assert view["default_jp"] == 10 and uow.commits == 1
    assert [a["code"] for a in catalogue.list_activities(uow)] == ["coaching", "seminar"]


def test_an_unknown_activity_cannot_be_edited(uow, repo):
    with pytest.raises(NotFound):
        catalogue.update_activity(uow, "ngopi", 2)
    assert uow.commits == 0
