"""Put a dataset into the four services through their HTTP APIs, idempotently.

Everything is created with POST; a 409 Conflict means it is there already and counts as
such, so seeding twice changes nothing. Officials have no natural key in the notification
service, so they are looked up (role, unit, e-mail) before one is added.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any, TypeVar

from tqdm import tqdm

from .api import Client, Services
from .dataset import (
    Allocation,
    Competency,
    Dataset,
    Employee,
    Jabatan,
    Official,
    Programme,
    Subscription,
    Unit,
)

T = TypeVar("T")


@dataclass
class SeedReport:
    """Per kind of thing: how many were created and how many were there already."""

    created: Counter = field(default_factory=Counter)
    existing: Counter = field(default_factory=Counter)

    def count(self, kind: str, created: bool) -> None:
        (self.created if created else self.existing)[kind] += 1

    def rows(self) -> list[tuple[str, int, int]]:
        kinds = list(dict.fromkeys([*self.created, *self.existing]))
        return [(kind, self.created[kind], self.existing[kind]) for kind in kinds]


# --- payloads: a dataset's things as the APIs take them ---------------------------------


def competency_body(competency: Competency) -> dict[str, Any]:
    return {
        "code": competency.code,
        "name": competency.name,
        "kind": "teknis",
        "description": competency.description,
        "levels": [
            {"level": number, "description": text}
            for number, text in enumerate(competency.levels, start=1)
        ],
    }


def unit_body(unit: Unit) -> dict[str, Any]:
    return asdict(unit)


def jabatan_body(jabatan: Jabatan) -> dict[str, Any]:
    """Managerial and socio-cultural levels are left to the grade defaults."""
    return {
        "code": jabatan.code,
        "name": jabatan.name,
        "kind": jabatan.kind,
        "grade": jabatan.grade,
        "unit_code": jabatan.unit_code,
        "standards": dict(jabatan.technical),
    }


def employee_body(employee: Employee) -> dict[str, Any]:
    """Without a sex the service reads it from the NIP."""
    body = asdict(employee)
    return body if employee.sex is not None else {k: v for k, v in body.items() if k != "sex"}


def programme_body(programme: Programme) -> dict[str, Any]:
    """Without a JP the programme gets its activity's default."""
    body = {
        "code": programme.code,
        "title": programme.title,
        "form": programme.form,
        "activity": programme.activity,
        "cost_rupiah": programme.cost_rupiah,
        "provider": programme.provider,
        "competencies": [
            {"competency_code": code, "level": level}
            for code, level in programme.competencies.items()
        ],
        "batches": [
            {
                "starts_on": batch.starts_on.isoformat(),
                "ends_on": batch.ends_on.isoformat(),
                "place": batch.place,
                "online": batch.online,
                "capacity": batch.capacity,
            }
            for batch in programme.batches
        ],
    }
    return body if programme.jp is None else {**body, "jp": programme.jp}


def allocation_body(allocation: Allocation) -> dict[str, Any]:
    return asdict(allocation)


def official_body(official: Official) -> dict[str, Any]:
    body = {"role": official.role, "name": official.name, "email": official.email}
    if official.unit_code is not None:
        body["unit_code"] = official.unit_code
    return body


def official_key(official: Official | dict[str, Any]) -> tuple[str, str | None, str]:
    """What tells officials apart (the service gives them no natural key): role, unit, e-mail."""
    if isinstance(official, Official):
        return (official.role, official.unit_code, official.email.lower())
    return (official["role"], official.get("unit_code"), official["email"].lower())


def subscription_body(subscription: Subscription) -> dict[str, Any]:
    return {
        "name": subscription.name,
        "url": subscription.url,
        "patterns": list(subscription.patterns),
    }


def competency_codes(client: Client, kinds: Iterable[str]) -> list[str]:
    """The codes of the competencies of ``kinds`` the competency service holds (the
    managerial and socio-cultural ones come with it), in its order."""
    wanted = set(kinds)
    return [c["code"] for c in client.every("/competencies") if c["kind"] in wanted]


# --- seeding ------------------------------------------------------------------------------


def waves(
    things: Iterable[T], key: Callable[[T], str], depends_on: Callable[[T], str | None]
) -> list[list[T]]:
    """``things`` in waves, each after the wave holding what it depends on (a unit's parent,
    an employee's supervisor); a dependency outside ``things`` is taken to exist already."""
    pending = list(things)
    inside = {key(thing) for thing in pending}
    placed: set[str] = set()
    result = []
    while pending:
        wave = [t for t in pending if depends_on(t) not in inside or depends_on(t) in placed]
        if not wave:
            raise ValueError("the dependencies form a cycle")
        placed.update(key(thing) for thing in wave)
        pending = [t for t in pending if key(t) not in placed]
        result.append(wave)
    return result


class Seeder:
    """Creates a dataset service by service, in order of reference, in parallel within a step
    (``workers`` requests at a time), with a progress bar per kind of thing.

    What the services name themselves is kept: ``official_ids`` (by :func:`official_key`)
    and ``subscriptions`` (each one's answer by name; with its signing ``secret`` when this
    seeder created it, the only time the service shows it)."""

    def __init__(self, services: Services, *, workers: int = 8, progress: bool = True) -> None:
        self.services = services
        self.workers = workers
        self.progress = progress
        self.report = SeedReport()
        self.official_ids: dict[tuple[str, str | None, str], str] = {}
        self.subscriptions: dict[str, dict[str, Any]] = {}

    def run(self, data: Dataset) -> SeedReport:
        competency = self.services.competency
        self._post(
            competency,
            "/competencies",
            "kompetensi teknis",
            data.competencies,
            competency_body,
            parallel=False,
        )
        with self._bar("unit", len(data.units)) as bar:
            for wave in waves(data.units, lambda u: u.code, lambda u: u.parent_code):
                self._post(competency, "/units", "unit", wave, unit_body, bar=bar)
        self._post(competency, "/jabatan", "jabatan", data.jabatan, jabatan_body)
        with self._bar("pegawai", len(data.employees)) as bar:
            for wave in waves(data.employees, lambda e: e.nip, lambda e: e.supervisor_nip):
                self._post(competency, "/employees", "pegawai", wave, employee_body, bar=bar)
        self._post(
            self.services.training,
            "/programmes",
            "program pengembangan",
            data.programmes,
            programme_body,
        )
        self._post(
            self.services.budget, "/allocations", "pagu anggaran", data.allocations, allocation_body
        )
        self._officials(data.officials)
        self._subscriptions(data.subscriptions)
        return self.report

    def _bar(self, what: str, total: int) -> tqdm:
        return tqdm(total=total, desc=f"{what:<22}", unit="", disable=not self.progress, leave=True)

    def _post(
        self,
        client: Client,
        path: str,
        kind: str,
        things: Sequence[Any],
        body: Callable[[Any], dict[str, Any]],
        *,
        parallel: bool = True,
        bar: tqdm | None = None,
    ) -> None:
        def create(thing: Any) -> bool:
            return client.create(path, body(thing))

        own_bar = bar is None
        bar = bar or self._bar(kind, len(things))
        try:
            if parallel and self.workers > 1:
                with ThreadPoolExecutor(self.workers) as pool:
                    for created in pool.map(create, things):
                        self.report.count(kind, created)
                        bar.update()
            else:
                for thing in things:
                    self.report.count(kind, create(thing))
                    bar.update()
        finally:
            if own_bar:
                bar.close()

    def _officials(self, officials: Sequence[Official]) -> None:
        if not officials:
            return
        client = self.services.notification
        known = {official_key(o): str(o["id"]) for o in client.every("/officials")}
        with self._bar("petugas notifikasi", len(officials)) as bar:
            for official in officials:
                key = official_key(official)
                created = key not in known
                if created:
                    # no natural key: a repeated POST would add the official twice
                    answer = client.request(
                        "POST", "/officials", expect=(201,), retries=0, json=official_body(official)
                    )
                    known[key] = str(answer["id"])
                self.official_ids[key] = known[key]
                self.report.count("petugas notifikasi", created)
                bar.update()

    def _subscriptions(self, subscriptions: Sequence[Subscription]) -> None:
        """By name: a subscription of that name is there already (no natural key either)."""
        if not subscriptions:
            return
        client = self.services.notification
        known = {s["name"]: s for s in client.every("/subscriptions")}
        for subscription in subscriptions:
            created = subscription.name not in known
            if created:
                known[subscription.name] = client.request(
                    "POST",
                    "/subscriptions",
                    expect=(201,),
                    retries=0,
                    json=subscription_body(subscription),
                )
            self.subscriptions[subscription.name] = known[subscription.name]
            self.report.count("langganan webhook", created)
