"""The import adapter over the recorder, without broker or database: a CSV's rows stored or
refused by row and column, the report kept, the same file again answered by that report."""

from datetime import date

import pytest

from asn_shared.errors import Invalid
from competency import domain
from competency.importing import import_assessments

from .conftest import NIP

RULES = domain.Rules(jpm_method="capped", scheme="jf")
HEADER = "nip,nama,tanggal,metode,M.01,M.02\n"


def csv(*rows: str) -> bytes:
    return (HEADER + "".join(f"{row}\n" for row in rows)).encode()


def run(uow, content, **options):
    return import_assessments(uow, RULES, content, filename="penilaian.csv", **options)


def test_good_rows_are_stored_and_bad_ones_reported_by_row_and_column(uow, repo):
    content = csv(
        f"{NIP},Siti,2026-06-01,assessment_centre,3,2",
        f"{NIP},Siti,31/02/2026,wawancara,3,2",
    )

    new, report = run(uow, content)

    assert new and (report["rows"], report["stored"], report["rejected"]) == (2, 1, 1)
    assert [(e["row"], e["column"]) for e in report["errors"]] == [(3, "tanggal"), (3, "metode")]
    [stored] = repo.assessments.values()
    assert stored["assessed_on"] == date(2026, 6, 1) and stored["import_id"] is not None
    [kept] = repo.imports
    assert kept["report"] == report and kept["format"] == "csv"
    assert len(uow.named("assessment.recorded")) == 1 and uow.commits == 1


def test_the_same_file_again_answers_its_first_report_and_records_nothing(uow, repo):
    content = csv(f"{NIP},Siti,2026-06-01,assessment_centre,3,2")
    _, first = run(uow, content)

    new, again = run(uow, content)

    assert not new and again == {**first, "replayed": True}
    assert len(repo.assessments) == 1 and len(uow.named("assessment.recorded")) == 1


def test_the_same_file_from_another_first_row_is_a_new_import(uow, repo):
    content = csv(f"{NIP},Siti,2026-06-01,assessment_centre,3,2")
    run(uow, content)

    new, report = run(uow, content, first_row=3)

    assert new and report["unchanged"] == 1 and len(repo.imports) == 2


def test_a_header_with_unknown_or_missing_columns_is_refused(uow, repo):
    content = b"nip,tanggal,X.99\n198609262015052001,2026-06-01,3\n"

    with pytest.raises(Invalid) as refused:
        run(uow, content)
    assert refused.value.code == "import.columns"
    assert refused.value.fields["unknown_columns"] == ["X.99"]
    assert refused.value.fields["missing_columns"] == ["method"]
    assert repo.imports == [] and uow.commits == 0


def test_a_nip_stored_as_a_number_is_reported(uow, repo):
    _, report = run(uow, csv("1.98609262015052E+17,Siti,2026-06-01,assessment_centre,3,2"))

    [error] = report["errors"]
    assert (error["row"], error["column"]) == (2, "nip") and report["stored"] == 0


def test_nul_bytes_in_a_csv_are_an_unreadable_file(uow):
    with pytest.raises(Invalid) as refused:
        run(uow, HEADER.encode("utf-16"))
    assert refused.value.code == "import.unreadable"
