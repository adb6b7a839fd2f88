"""The whole chain for the end-to-end tests: every service a real ``nameko run`` process on a
fresh RabbitMQ virtual host with fresh databases, a real SMTP server, a real webhook
receiver, an event tap, and helpers that seed what a city's staff would enter by hand
(through the demo's seeder, ``kompas_demo.seed``)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from email.message import EmailMessage
from typing import Any

import pytest

from asn_testkit import auth
from asn_testkit.events import EventTap
from asn_testkit.peers import SmtpServer, WebhookReceiver
from asn_testkit.suite import Suite
from asn_testkit.waiting import wait_for
from kompas_demo import dataset as data
from kompas_demo.seed import Seeder as DatasetSeeder
from kompas_demo.seed import official_key

# Short delays so retries and back-off fit in a test; production defaults are in config.yaml.
FAST = {
    "EVENT_RETRY_DELAY": "0.2",
    "OUTBOX_POLL_INTERVAL": "0.1",
    "RETRY_BASE_DELAY": "0.2",
    "RETRY_MAX_DELAY": "1",
    "DISPATCH_INTERVAL": "0.1",
    "WEBHOOK_MAX_ATTEMPTS": "4",
    "WEBHOOK_TIMEOUT": "5",
    "SMTP_TIMEOUT": "5",
    "SMTP_SENDER": "Kompas ASN <noreply@kompas-asn.test>",
}
TIMEOUT = 60.0  # generous: a 2-core machine shared with other test runs
PRODUCERS = ("competency", "training", "budget", "notification")
MONTHS = (
    "Januari Februari Maret April Mei Juni Juli Agustus September Oktober November Desember"
).split()
SITI_NIP = "198609262015052001"  # born 26-09-1986, appointed 05-2015, female, serial 001
SITI_ON_PAPER = "19860926 201505 2 001"  # as written on paper; competency normalises it
BUDI_NIP = "197803152003121002"  # born 15-03-1978, appointed 12-2003, male, serial 002
SUB_ACTIVITY = "x.xx.01.2.05.0009"
SUB_ACTIVITY_NAME = "Pendidikan dan Pelatihan Pegawai Berdasarkan Tugas dan Fungsi"
ACCOUNT = "5.1.02.02.12.0001"  # Belanja Kursus Singkat/Pelatihan


def day(offset: int) -> date:
    """``offset`` days from today, kept inside this year (proposals plan the current year)."""
    today = date.today()
    return min(today + timedelta(days=offset), date(today.year, 12, 31))


def tanggal(value: date | str) -> str:
    """A date as the Indonesian e-mails write it: ``26 November 2026``."""
    value = date.fromisoformat(value) if isinstance(value, str) else value
    return f"{value.day} {MONTHS[value.month - 1]} {value.year}"


class Api:
    """A thin HTTP client of one running service that asserts the status it expects."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = auth.session()

    def call(self, method: str, path: str, expect: int | None, **kwargs: Any) -> Any:
        response = self.http.request(method, self.url + path, timeout=30, **kwargs)
        if expect is not None:
            assert response.status_code == expect, (method, path, response.text)
        return response.json() if response.content else None

    def get(self, path: str, expect: int | None = 200, **params: Any) -> Any:
        return self.call("GET", path, expect, params=params)

    def post(self, path: str, body: Any = None, expect: int | None = 201, **kwargs: Any) -> Any:
        return self.call("POST", path, expect, json={} if body is None else body, **kwargs)


@dataclass
class Mail:
    """One e-mail as the SMTP server received it."""

    to: list[str]
    subject: str
    body: str
    message: EmailMessage


@dataclass
class Chain:
    """The running suite, a client per service, and what its peers received."""

    suite: Suite
    smtp: SmtpServer
    tap: EventTap
    competency: Api
    training: Api
    budget: Api
    notification: Api
    year: int = field(default_factory=lambda: date.today().year)
    day = staticmethod(day)  # not fields: helpers for the tests, which cannot import this
    tanggal = staticmethod(tanggal)

    def mails(self, to: str | None = None) -> list[Mail]:
        found = []
        for envelope, message in self.smtp.messages():
            if to is None or to in envelope["rcpt_tos"]:
                found.append(
                    Mail(envelope["rcpt_tos"], message["Subject"], message.get_content(), message)
                )
        return found

    def mail(self, to: str, subject: str, count: int = 1, timeout: float = TIMEOUT) -> Any:
        """Wait for ``count`` e-mails to ``to`` whose subject starts with ``subject``: the
        one e-mail if ``count`` is 1, else the list of them."""

        def arrived() -> list[Mail] | None:
            matching = [m for m in self.mails(to) if m.subject.startswith(subject)]
            assert len(matching) <= count, f"{to} got {subject!r} {len(matching)} times"
            return matching if len(matching) == count else None

        found = wait_for(arrived, timeout, f"{count} e-mail(s) {subject!r} to {to}", interval=0.2)
        return found[0] if count == 1 else found

    def wait(self, name: str, count: int = 1, timeout: float = TIMEOUT) -> list[dict]:
        """The events ``name`` seen on the tap, once ``count`` of them arrived."""
        return self.tap.wait(name, count, timeout)

    def named(self, name: str) -> list[dict]:
        """The events ``name`` the tap has seen so far (CloudEvents as dicts)."""
        return self.tap.named(name)

    def webhooks(self, receiver: WebhookReceiver, count: int) -> list[dict]:
        """The receiver's requests once ``count`` arrived, each with its CloudEvent."""
        received = wait_for(
            lambda: len(receiver.requests()) >= count and receiver.requests(),
            TIMEOUT,
            f"{count} webhook request(s)",
            interval=0.2,
        )
        return [{**request, "event": json.loads(request["body"])} for request in received]

    def inbox(self, recipient: str) -> dict:
        return self.notification.get(f"/recipients/{recipient}/inbox", per_page=100)

    def settled(self, quiet: float = 2.0) -> None:
        """Nothing left to do: no event for ``quiet`` seconds and no delivery pending."""
        wait_for(
            lambda: (
                self.tap.settle(quiet)
                and self.notification.get("/deliveries", status="pending")["total"] == 0
            ),
            TIMEOUT,
            "the chain to settle",
        )


@pytest.fixture
def chain(suite, smtp_server: SmtpServer, tap) -> Iterator[Chain]:
    """Every service running, the SMTP server wired to notification, a tap on every exchange."""
    events = tap(*PRODUCERS)  # bound before anything is published
    env = {**FAST, "SMTP_HOST": smtp_server.host, "SMTP_PORT": str(smtp_server.port)}
    running = suite(env=env)
    yield Chain(
        running,
        smtp_server,
        events,
        *(Api(running.url(name)) for name in ("competency", "training", "budget", "notification")),
    )
    running.stop()


@dataclass
class Organisation:
    """A kelurahan with a pengawas post, Siti holding it and Budi, her supervisor."""

    unit: str
    unit_name: str
    jabatan: dict
    employee: dict
    supervisor: dict


class Seeder:
    """What BKPSDM and the unit's staff enter by hand before an assessment round, put in as
    small datasets by the demo's seeder (``kompas_demo.seed``)."""

    def __init__(self, chain: Chain) -> None:
        self.chain = chain
        self.services = chain.suite.services()

    def put(self, **things: Any) -> DatasetSeeder:
        """Seed a dataset of ``things`` (units=…, employees=…) for this fiscal year."""
        seeder = DatasetSeeder(self.services, workers=1, progress=False)
        seeder.run(data.Dataset(self.chain.year, **things))
        return seeder

    def organisation(self, standards: dict[str, int] | None = None) -> Organisation:
        suffix = uuid.uuid4().hex[:4].upper()
        kecamatan, kelurahan = f"KEC-PLAJU-{suffix}", f"KEL-PLAJU-ULU-{suffix}"
        post = f"KASI-PEL-{suffix}"
        self.put(
            units=(
                data.Unit(kecamatan, "Kecamatan Plaju", "kecamatan"),
                data.Unit(kelurahan, "Kelurahan Plaju Ulu", "kelurahan", kecamatan),
            ),
            jabatan=(
                data.Jabatan(
                    post,
                    "Kepala Seksi Pelayanan Umum",
                    "pengawas",
                    None,
                    kelurahan,
                    standards or {},
                ),
            ),
            employees=(
                data.Employee(
                    BUDI_NIP,
                    "Budi Santoso",
                    None,  # the NIP's sex digit decides
                    "III/d",
                    kelurahan,
                    None,
                    "budi.santoso@plaju.test",
                    None,
                    None,
                ),
                data.Employee(
                    SITI_ON_PAPER,
                    "Siti Rahmawati",
                    None,
                    "III/b",
                    kelurahan,
                    post,
                    "siti.rahmawati@plaju.test",
                    None,
                    BUDI_NIP,
                ),
            ),
        )
        competency = self.chain.competency
        employee = competency.get(f"/employees/{SITI_NIP}")
        assert employee["nip"] == SITI_NIP and employee["sex"] == "P"
        supervisor = competency.get(f"/employees/{BUDI_NIP}")
        jabatan = competency.get(f"/jabatan/{post}")
        return Organisation(kelurahan, "Kelurahan Plaju Ulu", jabatan, employee, supervisor)

    def programme(
        self,
        code: str,
        title: str,
        cost: int,
        levels: dict[str, int],
        *,
        jp: int | None = 24,
        form: str = "klasikal",
        activity: str = "pelatihan_manajerial",
        online: bool = False,
        days: tuple[int, int] = (1, 3),
        capacity: int = 30,
    ) -> dict:
        """A programme of the catalogue with one batch in this year."""
        place = None if online else "Aula Kantor Camat Plaju"
        batch = data.Batch(day(days[0]), day(days[1]), place, online, capacity)
        provider = "BKPSDM Kota Palembang"
        self.put(
            programmes=(
                data.Programme(code, title, form, activity, jp, cost, provider, levels, (batch,)),
            )
        )
        return self.chain.training.get(f"/programmes/{code}")

    def allocation(self, organisation: Organisation, amount: int) -> dict:
        """The unit's training budget (pagu) for this year."""
        year = self.chain.year
        allocation = data.Allocation(
            organisation.unit,
            organisation.unit_name,
            year,
            amount,
            SUB_ACTIVITY,
            SUB_ACTIVITY_NAME,
            ACCOUNT,
            "Belanja Kursus Singkat/Pelatihan",
            f"DPA Kecamatan Plaju {year}",
        )
        self.put(allocations=(allocation,))
        return self.position(organisation)

    def position(self, organisation: Organisation) -> dict:
        return self.chain.budget.get(f"/allocations/{organisation.unit}/{self.chain.year}")

    def officials(self, organisation: Organisation) -> dict[str, dict]:
        """The unit's HR operator, a BKPSDM administrator and another unit's operator."""
        wanted = {
            "operator": data.Official(
                "unit_operator",
                "Rina Operator Plaju Ulu",
                "operator.plajuulu@plaju.test",
                organisation.unit,
            ),
            "admin": data.Official(
                "bkpsdm_admin", "Admin BKPSDM Palembang", "admin@bkpsdm.palembang.test"
            ),
            "elsewhere": data.Official(
                "unit_operator",
                "Operator Bagus Kuning",
                "operator.baguskuning@plaju.test",
                "KEL-BAGUS-KUNING",
            ),
        }
        ids = self.put(officials=tuple(wanted.values())).official_ids
        listed = {o["id"]: o for o in self.services.notification.every("/officials")}
        return {name: listed[ids[official_key(o)]] for name, o in wanted.items()}

    def subscription(self, receiver: WebhookReceiver, patterns: list[str]) -> dict:
        """Another agency subscribes; its receiver is told the signing secret."""
        name = "Inspektorat Kota Palembang"
        seeder = self.put(subscriptions=(data.Subscription(name, receiver.url, tuple(patterns)),))
        created = seeder.subscriptions[name]
        receiver.trust(created["secret"])
        return created

    def assess(
        self, organisation: Organisation, levels: dict[str, float], correlation_id: str
    ) -> dict:
        """An assessment centre's result for Siti, posted with a correlation id to follow."""
        return self.chain.competency.post(
            "/assessments",
            {
                "nip": organisation.employee["nip"],
                "assessed_on": str(date.today()),
                "method": "assessment_centre",
                "levels": levels,
            },
            headers={"X-Correlation-ID": correlation_id},
        )


@pytest.fixture
def seed(chain: Chain) -> Seeder:
    return Seeder(chain)


@pytest.fixture
def levels() -> Callable[..., dict[str, float]]:
    """``levels(2, {"M.03": 1.5})``: achieved levels of the 8 managerial and 1 socio-cultural
    competencies, all ``value`` but the overrides."""
    codes = [f"M.0{i}" for i in range(1, 9)] + ["SK.01"]

    def build(value: float = 2, overrides: dict[str, float] | None = None) -> dict[str, float]:
        return {**dict.fromkeys(codes, value), **(overrides or {})}

    return build
