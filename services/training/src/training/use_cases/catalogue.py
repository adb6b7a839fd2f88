"""The programme catalogue: forms of development, programmes, batches and offers."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from asn_shared.errors import Conflict, NotFound, RuleBroken
from asn_shared.persistence import UnitOfWork, page_of
from asn_shared.shown import attributes

from .. import domain, repository, views
from ..models import Activity, Batch, Programme, ProgrammeCompetency


def list_activities(uow: UnitOfWork) -> list[dict[str, Any]]:
    with uow:
        return [activity_view(a) for a in uow.repository(repository.sql).activities()]


def update_activity(uow: UnitOfWork, code: str, default_jp: int) -> dict[str, Any]:
    with uow:
        activity = uow.repository(repository.sql).activity(code, lock=True)
        if activity is None:
            raise NotFound(f"Jenis kegiatan {code} tidak ada.")
        activity.default_jp = default_jp
        uow.commit()
        return activity_view(activity)


def activity_view(activity: Activity) -> dict[str, Any]:
    return attributes(activity, "code", "form", "name", "default_jp")


def activity_jp(
    repo: repository.ProposalRepository, form: str, activity_code: str | None, jp: int | None
) -> int:
    """The JP given, else the activity's default; refuses an activity of another form."""
    activity = repo.activity(activity_code) if activity_code else None
    if activity_code and activity is None:
        raise RuleBroken(
            f"Jenis kegiatan {activity_code} tidak ada.", fields={"activity": ["Unknown."]}
        )
    if activity and activity.form != form:
        raise RuleBroken(
            f"Jenis kegiatan {activity_code} termasuk bentuk {activity.form}, bukan {form}.",
            fields={"activity": [f"Belongs to form {activity.form}."]},
        )
    if jp is not None:
        return jp
    if activity is None:
        raise RuleBroken(
            "JP wajib diisi bila jenis kegiatan tidak disebut.",
            fields={"jp": ["Missing data for required field."]},
        )
    return activity.default_jp


def create_programme(uow: UnitOfWork, command: dict[str, Any]) -> dict[str, Any]:
    with uow:
        repo = uow.repository(repository.sql)
        if repo.catalogue_programme(command["code"]) is not None:
            raise Conflict(f"Program {command['code']} sudah ada.")
        programme = Programme(
            code=command["code"],
            title=command["title"],
            form=command["form"],
            activity=command["activity"],
            jp=activity_jp(repo, command["form"], command["activity"], command.get("jp")),
            cost_rupiah=command["cost_rupiah"],
            provider=command["provider"],
            competencies=[ProgrammeCompetency(**c) for c in command["competencies"]],
        )
        repo.add_programme(programme)
        repo.add_batches(
            Batch(programme_code=programme.code, enrolled=0, **batch)
            for batch in command["batches"]
        )
        uow.commit()
        return views.programme_view(find_programme(repo, programme.code))


def add_batch(uow: UnitOfWork, code: str, command: dict[str, Any]) -> dict[str, Any]:
    with uow:
        repo = uow.repository(repository.sql)
        find_programme(repo, code)
        batch = Batch(programme_code=code, enrolled=0, **command)
        repo.add_batches([batch])
        uow.commit()
        return views.batch_view(batch)


def get_programme(uow: UnitOfWork, code: str) -> dict[str, Any]:
    with uow:
        return views.programme_view(find_programme(uow.repository(repository.sql), code))


def list_programmes(uow: UnitOfWork, query: dict[str, Any]) -> dict[str, Any]:
    statement = select(Programme).order_by(Programme.code)
    if "competency_code" in query:
        statement = statement.where(
            Programme.code.in_(
                select(ProgrammeCompetency.programme_code).where(
                    ProgrammeCompetency.competency_code == query["competency_code"]
                )
            )
        )
    if "form" in query:
        statement = statement.where(Programme.form == query["form"])
    statement = statement.options(
        selectinload(Programme.competencies), selectinload(Programme.batches)
    )
    with uow:
        return page_of(uow.session, statement, query, views.programme_view)


def find_programme(repo: repository.ProposalRepository, code: str) -> Programme:
    programme = repo.catalogue_programme(code)
    if programme is None:
        raise NotFound(f"Program {code} tidak ada dalam katalog.")
    return programme


def earliest_offers(
    programmes: dict[str, Programme], batches: Iterable[Batch], years: Iterable[int]
) -> list[domain.Offer]:
    """For each programme and year, the offer of its first batch (``batches`` in the order
    they start) ending in that year."""
    earliest: dict[tuple[str, int], Batch] = {}
    for batch in batches:
        if batch.ends_on.year in years:
            earliest.setdefault((batch.programme_code, batch.ends_on.year), batch)
    return [
        domain.Offer(
            code=code,
            jp=programmes[code].jp,
            cost_rupiah=programmes[code].cost_rupiah,
            levels=programmes[code].levels(),
            batch=domain.OpenBatch(batch.id, batch.starts_on, batch.ends_on),
        )
        for (code, _), batch in earliest.items()
    ]
