"""A chaos run of the whole chain: assessments flow through the four services while every
service is killed with SIGKILL at random moments and restarted, and RabbitMQ is stopped and
started once; when the chain has settled, its promises are checked from the services' HTTP
APIs, the events they committed (their outboxes, read through :mod:`.inspection`, which no
API shows), the broker and what the SMTP server and the webhook receiver got.

One driver, two entry points of different sizes: ``tests/chaos/test_chaos.py`` (CI) and
``bench/chaos.py``. The moments of the disruptions come from a seeded random generator: the
same seed and settings give the same plan (what is disrupted, in which order, at what share
of the assessments decided, for how long).

What is checked once the chain is quiet:

* every assessment has exactly one current proposal (not cancelled, not an alternative);
* every proposal has exactly one budget decision, announced once, and training's state and
  reserved amount agree with it (one ``proposal.approved`` / ``proposal.waitlisted`` each);
* no unit's committed amount exceeds its allocation, and each allocation's running sums
  equal the sums of its ledger entries (the API's figures too);
* every expected notification (event, recipient, channel) has exactly one delivery,
  delivered, announced once; the SMTP server got each e-mail and the webhook receiver each
  webhook exactly once, but for the copies a notification process sends again when it was
  killed after the peer accepted a message and before it recorded that (counted apart:
  SMTP and plain HTTP give no way to make that window vanish);
* the dead-letter queues and every handler queue are empty, each handler queue has a
  consumer again, and no service process died on its own.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import os
import random
import subprocess
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime
from email.parser import BytesHeaderParser
from typing import Any
from urllib.parse import quote

import requests
from kombu import Connection, Consumer, Exchange, Queue

from kompas_demo.api import Client, ServiceError, Services
from kompas_demo.dataset import Dataset, Subscription
from kompas_demo.seed import Seeder, competency_codes
from kompas_demo.synthetic import City, first_batch_day, synthetic_city, synthetic_nip

from . import inspection
from .infrastructure import Broker
from .metrics import metric_sum, scrape
from .peers import SmtpServer, WebhookReceiver
from .processes import ServiceProcess
from .suite import Suite

# Short delays so retries and back-off fit in a run (as the end-to-end tests use).
CHAOS_ENV = {
    "EVENT_RETRY_DELAY": "0.5",
    "OUTBOX_POLL_INTERVAL": "0.1",
    "RETRY_BASE_DELAY": "0.2",
    "RETRY_MAX_DELAY": "1",
    "DISPATCH_INTERVAL": "0.1",
    "WEBHOOK_MAX_ATTEMPTS": "8",
    "EMAIL_MAX_ATTEMPTS": "8",
    "WEBHOOK_TIMEOUT": "20",  # generous: a peer slow under load must not look like a failure
    "SMTP_TIMEOUT": "20",
    "SMTP_SENDER": "Kompas ASN <noreply@kompas-asn.test>",
}
SERVICES = ("competency", "training", "budget", "notification")
BROKER = "rabbitmq"
SPAN = (0.05, 0.85)  # disruptions happen between these shares of the assessments decided
GAPS = 2  # competencies each assessment falls a level short on: two programmes proposed
COST = 1_500_000
JP = 20
WEBHOOK_EVENTS = ("budget.rejected", "proposal.waitlisted", "budget.threshold_reached")
# notification killed after a peer accepted a message and before the attempt committed sends
# it again after its restart: the copy's first arrival precedes the kill by at most this
SEND_WINDOW = 10.0
LOG_COUNTS = {
    "duplicates_suppressed": '"message": "duplicate event ignored"',
    "handler_retries": '"message": "event handler failed, retrying',
    "dead_lettered": '"message": "message dead-lettered"',
    "relay_failures": '"message": "outbox relay failed',
}


@dataclass
class ChaosSettings:
    assessments: int = 200
    kills: int = 6  # SIGKILLs in all, every service at least once
    seed: int = field(default_factory=lambda: random.SystemRandom().randrange(1_000_000))
    units: int = 10  # one in ten is funded for half its proposals and an item (waitlists)
    chunk: int = 25  # rows per import file
    ahead: int = 60  # assessments recorded ahead of those decided before imports pause
    rate: float | None = None  # assessments imported per second at most (None: no limit)
    max_down: float = 2.0  # seconds a killed service (or the stopped broker) stays down
    quiet: float = 8.0  # seconds without any work left before the chain counts as settled
    settle_timeout: float = 300.0
    restart_timeout: float = 90.0


@dataclass
class Disruption:
    target: str  # a service, or BROKER
    progress: float  # share of the assessments decided when it happens
    down: float  # seconds down before the restart
    at: float | None = None  # seconds into the flow
    clock: str | None = None  # UTC wall-clock time, to find it in the services' logs
    recovered_in: float | None = None  # seconds from the kill to healthy again
    decided: int | None = None  # assessments decided at the time


def plan(settings: ChaosSettings, services: tuple[str, ...] = SERVICES) -> list[Disruption]:
    """The disruptions of a run: ``kills`` SIGKILLs (each service at least once) and one
    broker restart, in random order at random shares of the flow, from ``seed`` alone."""
    if settings.kills < len(services):
        raise ValueError(f"at least {len(services)} kills: every service is killed")
    rng = random.Random(settings.seed)
    targets = [*services, *(rng.choice(services) for _ in range(settings.kills - len(services)))]
    rng.shuffle(targets)
    targets.insert(rng.randrange(len(targets) + 1), BROKER)
    moments = sorted(rng.uniform(*SPAN) for _ in targets)
    return [
        Disruption(target, round(moment, 3), round(rng.uniform(0, settings.max_down), 2))
        for target, moment in zip(targets, moments, strict=True)
    ]


# --- the seeded world --------------------------------------------------------------------


class World:
    """What staff enter before the round: a synthetic city (``kompas_demo.synthetic``) of
    ``units`` units, a jabatan per unit asking level 3 of the managerial and socio-cultural
    competencies, a programme per competency, allocations (one unit in ten underfunded),
    the employees (e-mail, no supervisor), a BKPSDM administrator, an operator per
    underfunded unit and one webhook subscription, seeded by the demo's seeder."""

    def __init__(self, suite: Suite, settings: ChaosSettings) -> None:
        self.suite, self.settings = suite, settings
        self.api = suite.services()
        self.nips = [synthetic_nip(i) for i in range(settings.assessments)]
        self.standard: list[str] = []
        self.admins: list[str] = []
        self.operators: dict[str, list[str]] = defaultdict(list)
        self.subscription: str | None = None
        self.year = date.today().year

    def dataset(self, webhook: WebhookReceiver) -> Dataset:
        city = City(
            "CHAOS",
            "Pemerintah Kota Uji",
            units=self.settings.units,
            employees=len(self.nips),
            standard=self.standard,
            fiscal_year=self.year,
            starts_on=first_batch_day(date.today()),
            email_domain="chaos.test",
            gaps=GAPS,
            cost_rupiah=COST,
            jp=JP,
            underfunded_top_up=COST,  # half its proposals and one item more: a partial one
            officials=True,
        )
        inspectorate = Subscription("Inspektorat", webhook.url, WEBHOOK_EVENTS)
        return replace(synthetic_city(city), subscriptions=(inspectorate,))

    def seed(self, webhook: WebhookReceiver) -> None:
        self.standard = competency_codes(self.api.competency, ("manajerial", "sosial_kultural"))
        seeder = Seeder(self.api, progress=False)
        seeder.run(self.dataset(webhook))
        for (role, unit, _), official_id in seeder.official_ids.items():
            if role == "bkpsdm_admin":
                self.admins.append(official_id)
            else:
                self.operators[unit].append(official_id)
        created = seeder.subscriptions["Inspektorat"]
        webhook.trust(created["secret"])
        self.subscription = str(created["id"])

    def csv(self, indexes: range) -> bytes:
        """An import file: every competency at its standard but two, a level short."""
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["nip", "assessed_on", "method", *self.standard])
        for i in indexes:
            short = {(i + k) % len(self.standard) for k in range(GAPS)}
            levels = [2 if n in short else 3 for n in range(len(self.standard))]
            writer.writerow([self.nips[i], str(date.today()), "assessment_centre", *levels])
        return out.getvalue().encode()


# --- looking at the chain ----------------------------------------------------------------


def _count(client: Client, path: str, **params: Any) -> int:
    """How many items a list of the API holds; asked once (a dead service is not waited for)."""
    params = {**params, "page": 1, "per_page": 1}
    return client.request("GET", path, expect=(200,), retries=0, params=params)["total"]


def _handler_queue(name: str) -> bool:
    return name.startswith("evt-") and not name.endswith(".retry")


class WireTap:
    """A durable queue of its own, bound with ``#`` to every exchange: counts the events on
    the wire, and those published again under the same id. It outlives a broker restart
    (durable queue, persistent messages) and reconnects by itself."""

    def __init__(
        self, amqp_uri: str, producers: tuple[str, ...] = SERVICES, queue_type: str = "classic"
    ) -> None:
        self.amqp_uri, self.name = amqp_uri, f"chaos-tap-{uuid.uuid4().hex[:8]}"
        # on a cluster a quorum queue: a classic one is lost while its node is down
        arguments = {} if queue_type == "classic" else {"x-queue-type": queue_type}
        with Connection(amqp_uri) as connection:
            channel = connection.channel()
            for producer in producers:
                exchange = Exchange(f"{producer}.events", "topic", durable=True)
                Queue(
                    self.name, exchange, routing_key="#", durable=True, queue_arguments=arguments
                )(channel).declare()
        self.lock = threading.Lock()
        self.ids: set[str] = set()
        self.by_type: Counter[str] = Counter()
        self.received = self.republished = self.redelivered = self.reconnects = 0
        self.republished_ids: list[str] = []  # a sample, to look them up in the outboxes
        self.last = time.monotonic()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stopping.is_set():
            try:
                self._consume()
            except Exception:  # noqa: BLE001 - the broker went away: connect again
                self.reconnects += 1
                self.stopping.wait(0.5)

    def _consume(self) -> None:
        with Connection(self.amqp_uri, heartbeat=0, connect_timeout=5) as connection:
            connection.ensure_connection(max_retries=1)
            channel = connection.channel()
            channel.basic_qos(0, 1000, False)
            queue = Queue(self.name, no_declare=True)
            with Consumer(channel, [queue], on_message=self._on_message):
                while not self.stopping.is_set():
                    try:
                        connection.drain_events(timeout=0.5)
                    except TimeoutError:
                        pass

    def _on_message(self, message) -> None:
        event_id = message.properties.get("message_id")
        with self.lock:
            self.last = time.monotonic()
            if event_id in self.ids:
                redelivered = bool(message.delivery_info.get("redelivered"))
                self.redelivered += redelivered
                self.republished += not redelivered
                if not redelivered and len(self.republished_ids) < 20:
                    self.republished_ids.append(event_id)
            else:
                self.ids.add(event_id)
                self.received += 1
                self.by_type[message.delivery_info["routing_key"]] += 1
        message.ack()

    def idle_for(self) -> float:
        with self.lock:
            return time.monotonic() - self.last

    def figures(self) -> dict[str, Any]:
        with self.lock:
            return {
                "events_seen": self.received,
                "events_published_again": self.republished,
                "tap_reconnects": self.reconnects,
                "tap_redeliveries": self.redelivered,
                "events_published_again_sample": self.republished_ids,
                "events_seen_by_type": dict(sorted(self.by_type.items())),
            }

    def close(self) -> None:
        self.stopping.set()
        self.thread.join(5)


class Progress:
    """Assessments recorded by competency and decided (budget answered, training settled),
    as their APIs count them. Proposals that are another's alternative would count as
    decided too: none arise here (one programme per competency, so no cheaper offer). While
    a service is down its last figure stands."""

    def __init__(self, api: Services) -> None:
        self.api = api
        self.recorded = self.decided = 0

    def poll(self) -> None:
        try:
            self.recorded = _count(self.api.competency, "/assessments")
        except ServiceError:
            pass
        try:
            proposals = _count(self.api.training, "/proposals")
            pending = _count(self.api.training, "/proposals", status="pending_budget")
            self.decided = proposals - pending
        except ServiceError:
            pass


class Importer:
    """Posts the assessments as CSV files, keeping at most ``ahead`` recorded but undecided,
    so imports continue through the run; a file refused by a dying competency is sent
    again (the same file twice changes nothing)."""

    def __init__(self, world: World, progress: Progress, settings: ChaosSettings) -> None:
        self.world, self.progress, self.settings = world, progress, settings
        self.files = self.retries = self.replayed = 0
        self.error: BaseException | None = None
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> Importer:
        self.thread.start()
        return self

    def _run(self) -> None:
        try:
            total, chunk = len(self.world.nips), self.settings.chunk
            started, rate = time.monotonic(), self.settings.rate
            for first in range(0, total, chunk):
                while self._ahead() > self.settings.ahead:
                    time.sleep(0.5)
                if rate:  # a flow that lasts, whatever the machine's pace
                    time.sleep(max(0.0, started + first / rate - time.monotonic()))
                self._send(self.world.csv(range(first, min(first + chunk, total))))
        except BaseException as exc:  # noqa: BLE001 - reported by the run
            self.error = exc
        finally:
            self.done.set()

    def _ahead(self) -> int:
        self.progress.poll()
        return self.progress.recorded - self.progress.decided

    def _send(self, content: bytes) -> None:
        deadline = time.monotonic() + self.settings.restart_timeout * 2
        while True:
            try:
                report = self.world.api.competency.request(
                    "POST",
                    "/assessment-imports",
                    expect=(200, 201),
                    retries=0,
                    params={"format": "csv"},
                    data=content,
                )
            except ServiceError as exc:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"competency refused an import file: {exc}") from None
                self.retries += 1
                time.sleep(0.5)
                continue
            if report["errors"]:
                raise RuntimeError(f"import rows refused: {report['errors'][:3]}")
            self.files += 1
            self.replayed += bool(report.get("replayed"))
            return


def restart_broker(broker: Broker, amqp_uri: str, down: float, timeout: float = 120.0) -> None:
    """``rabbitmqctl stop_app``, ``down`` seconds, ``start_app``; wait until it answers."""
    command = os.environ.get("RABBITMQCTL", "rabbitmqctl").split()
    subprocess.run([*command, "stop_app"], check=True, capture_output=True, timeout=timeout)
    time.sleep(down)
    subprocess.run([*command, "start_app"], check=True, capture_output=True, timeout=timeout)
    deadline = time.monotonic() + timeout
    while True:
        try:
            with Connection(amqp_uri, connect_timeout=2) as connection:
                connection.ensure_connection(max_retries=1)
            broker._api("GET", "overview")
            return
        except Exception:  # not up yet
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


# --- the run -----------------------------------------------------------------------------


@dataclass
class ChaosReport:
    settings: dict[str, Any]
    disruptions: list[dict[str, Any]]
    figures: dict[str, Any]
    violations: list[str]

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, default=str) + "\n"

    def summary(self) -> str:
        f = self.figures
        kills = ", ".join(f"{name} {n}" for name, n in f["kills"].items())
        return (
            f"chaos seed {self.settings['seed']}: {self.settings['assessments']} assessments; "
            f"kills {sum(f['kills'].values())} ({kills}); service restarts "
            f"{f['service_restarts']}; RabbitMQ restarts {f['broker_restarts']}; events "
            f"published {f['events_published']}, seen on the wire {f['events_seen']} "
            f"({f['events_published_again']} published again); duplicates suppressed "
            f"{f['duplicates_suppressed']}; e-mails / webhooks sent again after a kill "
            f"{f['emails_resent_after_a_kill']} / {f['webhooks_resent_after_a_kill']}; "
            f"settled {f['settle_seconds']} s after the last "
            f"disruption, flow {f['flow_seconds']} s; violations {len(self.violations)}"
        )

    def markdown(self) -> str:
        f = self.figures
        rows = [
            ("assessments", self.settings["assessments"]),
            ("seed", self.settings["seed"]),
            ("kill -9 per service", ", ".join(f"{k} {v}" for k, v in f["kills"].items())),
            ("service restarts", f["service_restarts"]),
            ("RabbitMQ restarts (stop_app / start_app)", f["broker_restarts"]),
            ("events published (outboxes, during the flow)", f["events_published"]),
            ("events seen on the wire (distinct ids)", f["events_seen"]),
            ("events published again (same id)", f["events_published_again"]),
            ("duplicates suppressed by inboxes (service logs)", f["duplicates_suppressed"]),
            ("handler retries / dead-lettered", f"{f['handler_retries']} / {f['dead_lettered']}"),
            ("import files sent again", f["import_retries"]),
            ("deliveries (e-mail / inbox / webhook)", _channels(f["deliveries"])),
            (
                "e-mails / webhooks sent again after a kill of notification",
                f"{f['emails_resent_after_a_kill']} / {f['webhooks_resent_after_a_kill']}",
            ),
            ("flow: first import to settled (s)", f["flow_seconds"]),
            ("settled after the last disruption (s)", f["settle_seconds"]),
            ("violations", len(self.violations)),
        ]
        lines = ["| figure | value |", "|---|---|", *(f"| {k} | {v} |" for k, v in rows)]
        lines += [
            "",
            "| disruption | at share decided | down (s) | back after (s) |",
            "|---|---|---|---|",
        ]
        lines += [
            f"| {d['target']} | {d['progress']:.2f} | {d['down']} | {d['recovered_in']} |"
            for d in self.disruptions
        ]
        if self.violations:
            lines += ["", *(f"- {v}" for v in self.violations[:50])]
        return "\n".join(lines) + "\n"


def _channels(deliveries: dict[str, int]) -> str:
    return " / ".join(str(deliveries.get(c, 0)) for c in ("email", "inbox", "webhook"))


class ChaosRun:
    """Seed, flow the assessments through the chain while disrupting it, wait until it has
    settled, and check what the services hold."""

    def __init__(
        self,
        suite: Suite,
        broker: Broker,
        vhost: str,
        smtp: SmtpServer,
        webhook: WebhookReceiver,
        settings: ChaosSettings,
        say: Callable[[str], None] = print,
        disruptions: list[Disruption] | None = None,
        disruptors: dict[str, Callable[[Disruption], None]] | None = None,
    ) -> None:
        """``disruptions`` replaces the seeded plan; ``disruptors`` performs those of other
        targets than the services and the broker (kill and restart; the run then waits until
        every service is healthy). Such targets, like the broker, never overlap."""
        self.suite, self.broker, self.vhost = suite, broker, vhost
        self.smtp, self.webhook, self.settings, self.say = smtp, webhook, settings, say
        self.world = World(suite, settings)
        self.api = self.world.api
        self.progress = Progress(self.api)
        self.disruptions = disruptions or plan(settings)
        self.disruptors = disruptors or {}
        self.kill_times: list[tuple[str, float]] = []
        self.metric_duplicates = 0.0
        self.figures: dict[str, Any] = {}
        self.violations: list[str] = []

    def run(self) -> ChaosReport:
        self.say(f"chaos: seed {self.settings.seed}; plan {[d.target for d in self.disruptions]}")
        started = time.monotonic()
        self.world.seed(self.webhook)
        self._wait_quiet(self.settings.settle_timeout, quiet=3.0)
        self.figures["seed_seconds"] = round(time.monotonic() - started, 1)
        self.say(f"chaos: seeded in {self.figures['seed_seconds']}s")
        self._flow()
        self._check()
        return ChaosReport(
            {**asdict(self.settings), "services": list(SERVICES)},
            [asdict(d) for d in self.disruptions],
            self.figures,
            self.violations,
        )

    # --- the flow ------------------------------------------------------------------------

    def _flow(self) -> None:
        baseline = {
            name: inspection.outbox_position(self.suite.databases[name]) for name in SERVICES
        }
        logs_before = self._log_counts()
        tap = WireTap(self.suite.amqp_uri, queue_type=self.suite.env.get("QUEUE_TYPE", "classic"))
        importer = Importer(self.world, self.progress, self.settings)
        self.started = time.monotonic()
        importer.start()
        try:
            self._disrupt_all(importer)
            last = time.monotonic()
            if not importer.done.wait(self.settings.settle_timeout):
                raise AssertionError(f"imports unfinished: {importer.files} files accepted")
            if importer.error is not None:
                raise importer.error
            self.say(f"chaos: disruptions over at t={last - self.started:.1f}s; settling")
            settled = self._wait_quiet(self.settings.settle_timeout, tap)
        finally:
            tap.close()
        now = time.monotonic()
        self.figures.update(
            flow_seconds=round((settled or now) - self.started, 1),
            settle_seconds=round((settled or now) - last, 1),
            settled=settled is not None,
            import_files=importer.files,
            import_retries=importer.retries,
            imports_replayed=importer.replayed,
            **tap.figures(),
        )
        self._count_events(baseline)
        logs_after = self._log_counts()
        self.figures.update({k: logs_after[k] - logs_before[k] for k in LOG_COUNTS})
        self.figures["log_counts_by_service"] = {
            k: {
                s: logs_after["by_service"][s][k] - logs_before["by_service"][s][k]
                for s in SERVICES
            }
            for k in LOG_COUNTS
        }

    def _disrupt_all(self, importer: Importer) -> None:
        """Each disruption at its moment, the restart in the background so that the next
        one keeps its moment; a service is not killed again before it is back, and the
        broker restart neither overlaps nor is overlapped by a service restart."""
        running: dict[str, threading.Thread] = {}
        errors: list[BaseException] = []
        for disruption in self.disruptions:
            self._wait_for(disruption, importer)
            whole = (disruption.target, *running)
            blocking = running if any(target not in SERVICES for target in whole) else {}
            for thread in [*blocking.values(), running.get(disruption.target)]:
                if thread is not None:
                    thread.join()
            thread = threading.Thread(target=self._disrupt, args=(disruption, errors))
            running = {k: t for k, t in running.items() if t.is_alive()}
            running[disruption.target] = thread
            thread.start()
            time.sleep(0.5)  # the kill itself happens at once
        for thread in running.values():
            thread.join()
        if errors:
            raise errors[0]

    def _wait_for(self, disruption: Disruption, importer: Importer) -> None:
        """Until the share of assessments decided reaches the disruption's moment."""
        wanted = disruption.progress * len(self.world.nips)
        deadline = time.monotonic() + self.settings.settle_timeout
        while True:
            self.progress.poll()
            if self.progress.decided >= wanted:
                return
            if importer.error is not None:
                raise importer.error
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"the chain stalled at {self.progress.decided} decided before {disruption}"
                )
            time.sleep(0.3)

    def _disrupt(self, disruption: Disruption, errors: list[BaseException]) -> None:
        disruption.at = round(time.monotonic() - self.started, 1)
        disruption.clock = datetime.now(UTC).strftime("%H:%M:%S.%f")[:-3]
        disruption.decided = self.progress.decided
        began = time.monotonic()
        verb = "restart" if disruption.target == BROKER else "kill -9"
        self.say(
            f"chaos: t={disruption.at}s, {disruption.decided} decided: {verb} {disruption.target}"
        )
        try:
            if disruption.target in self.disruptors:
                self.disruptors[disruption.target](disruption)
                self._wait_healthy(self.suite.all())
            elif disruption.target == BROKER:
                restart_broker(self.broker, self.suite.amqp_uri, disruption.down)
                self._wait_healthy(self.suite.all())
            else:
                process = self.suite.processes[disruption.target][0]
                self.metric_duplicates += _duplicates_counted(process.url)
                process.kill()
                self.kill_times.append((disruption.target, time.time()))
                time.sleep(disruption.down)
                process.spawn()
                self._wait_healthy([process])
        except BaseException as exc:  # noqa: BLE001 - raised by the run
            errors.append(exc)
        disruption.recovered_in = round(time.monotonic() - began, 1)

    def _wait_healthy(self, processes: list[ServiceProcess]) -> None:
        """Until each process answers 200 on /health (database and broker reachable)."""
        deadline = time.monotonic() + self.settings.restart_timeout
        for process in processes:
            while not _healthy(process):
                if process.process.poll() is not None:
                    raise RuntimeError(f"{process.service} exited\n{process.log()[-3000:]}")
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{process.service} not healthy again in time")
                time.sleep(0.2)

    def _wait_quiet(
        self, timeout: float, tap: WireTap | None = None, quiet: float | None = None
    ) -> float | None:
        """Until nothing is left to do for ``quiet`` seconds: every handler and retry queue
        empty (as the management API counts), every outbox published, no e-mail or
        webhook pending, nothing new on the tap. Returns when the quiet began, or None."""
        deadline, quiet_since = time.monotonic() + timeout, None
        while time.monotonic() < deadline:
            busy = self._busy() or (tap is not None and tap.idle_for() < 1.0)
            now = time.monotonic()
            if busy:
                quiet_since = None
            elif quiet_since is None:
                quiet_since = now
            elif now - quiet_since >= (quiet or self.settings.quiet):
                return quiet_since
            time.sleep(1.0)
        self.violations.append(f"the chain did not settle within {timeout:.0f}s: {self._busy()}")
        return None

    def _busy(self) -> dict[str, Any]:
        busy: dict[str, Any] = {}
        try:
            for queue in self._queues():
                if queue["name"].startswith("chaos-tap-") or queue["name"].endswith(".dead-letter"):
                    continue
                if queue.get("type") == "stream":  # an event stream keeps what it holds
                    continue
                pending = queue.get("messages", 0) + queue.get("messages_unacknowledged", 0)
                if pending:
                    busy[queue["name"]] = pending
                elif _handler_queue(queue["name"]) and not queue.get("consumers"):
                    busy[queue["name"]] = "no consumer yet"  # reconnecting after a restart
        except requests.RequestException as exc:
            busy["management API"] = str(exc)
        try:
            for client in self.api.all():
                if backlog := client.outbox_backlog():
                    busy[f"{client.name} outbox"] = backlog
            if pending := _count(self.api.notification, "/deliveries", status="pending"):
                busy["deliveries pending"] = pending
        except ServiceError as exc:
            busy["services"] = str(exc)
        return busy

    def _queues(self) -> list[dict[str, Any]]:
        columns = "name,type,messages,messages_unacknowledged,consumers"
        path = f"queues/{quote(self.vhost, safe='')}?columns={columns}"
        return self.broker._api("GET", path).json()

    # --- figures -------------------------------------------------------------------------

    def _count_events(self, baseline: dict[str, int]) -> None:
        by_type: Counter[str] = Counter()
        for name in SERVICES:
            by_type.update(inspection.published_by_type(self.suite.databases[name], baseline[name]))
        self.figures["events_published"] = sum(by_type.values())
        self.figures["events_published_by_type"] = dict(sorted(by_type.items()))

    def _log_counts(self) -> dict[str, Any]:
        """Lines of the services' logs (every process, restarts included) per kind."""
        by_service = {name: dict.fromkeys(LOG_COUNTS, 0) for name in SERVICES}
        for name in SERVICES:
            for path in self.suite.log_dir.glob(f"{name}-*.log"):
                content = path.read_text(errors="replace")
                for key, needle in LOG_COUNTS.items():
                    by_service[name][key] += content.count(needle)
        totals = {key: sum(s[key] for s in by_service.values()) for key in LOG_COUNTS}
        return {**totals, "by_service": by_service}

    # --- the checks ----------------------------------------------------------------------

    def _check(self) -> None:
        kills = Counter(d.target for d in self.disruptions if d.target != BROKER)
        self.figures.update(
            kills={name: kills[name] for name in SERVICES},
            service_restarts=sum(kills.values()),
            broker_restarts=sum(d.target == BROKER for d in self.disruptions),
        )
        for process in self.suite.all():
            if process.process.poll() is not None:
                self.violations.append(
                    f"{process.service} exited by itself ({process.process.returncode})"
                )
        self.metric_duplicates += sum(_duplicates_counted(p.url) for p in self.suite.all())
        self.figures["duplicates_counted_by_metrics"] = int(self.metric_duplicates)
        self._check_queues()
        self.proposals = {str(p["proposal_id"]): p for p in self.api.training.every("/proposals")}
        self.decisions = self._budget_decisions()
        self._check_assessments()
        self._check_decisions()
        self._check_money()
        self._check_notifications()

    def _check_queues(self) -> None:
        for queue in self._queues():
            name, messages = queue["name"], queue.get("messages", 0)
            if name.endswith(".dead-letter") and messages:
                self.violations.append(f"{name} holds {messages} message(s)")
            elif _handler_queue(name):
                if messages:
                    self.violations.append(f"{name} still holds {messages} message(s)")
                if not queue.get("consumers"):
                    self.violations.append(f"{name} has no consumer after the run")

    def _check_assessments(self) -> dict[str, str]:
        """Every assessment imported is recorded once and has exactly one current proposal."""
        recorded = {a["id"]: a["nip"] for a in self.api.competency.every("/assessments")}
        if sorted(recorded.values()) != sorted(self.world.nips):
            self.violations.append(
                f"competency holds {len(recorded)} assessments of {len(set(recorded.values()))} "
                f"employees, not one for each of {len(self.world.nips)}"
            )
        current: Counter[str] = Counter(
            p["assessment_id"]
            for p in self.proposals.values()
            if p["alternative_of"] is None and p["status"] != "cancelled"
        )
        for assessment in recorded:
            if current[assessment] != 1:
                self.violations.append(
                    f"assessment {assessment}: {current[assessment]} current proposals in "
                    "training, not one"
                )
        self.figures["assessments_recorded"] = len(recorded)
        return recorded

    def _check_decisions(self) -> None:
        """One budget decision per proposal, announced once, and training agrees with it."""
        answers = self._announced("budget", ("budget.reserved", "budget.rejected"))
        approvals = self._announced("training", ("proposal.approved",))
        waitlists = self._announced("training", ("proposal.waitlisted",))
        statuses: Counter[str] = Counter()
        for proposal_id, proposal in self.proposals.items():
            statuses[proposal["status"]] += 1
            decision = self.decisions.get(proposal_id)
            announced = (answers[proposal_id], approvals[proposal_id], waitlists[proposal_id])
            problem = _disagreement(proposal, decision) or _announced_once(
                decision, proposal["total_cost_rupiah"], announced
            )
            if problem:
                self.violations.append(f"proposal {proposal_id}: {problem}")
        for proposal_id in set(answers) - set(self.proposals):
            self.violations.append(f"budget decided on {proposal_id}, unknown to training")
        self.figures["proposals"] = dict(sorted(statuses.items()))

    def _budget_decisions(self) -> dict[str, dict[str, Any]]:
        """The budget's decision on each proposal training holds (none: not decided)."""

        def decision(proposal_id: str) -> dict[str, Any] | None:
            answer = self.api.budget.request("GET", f"/proposals/{proposal_id}", expect=(200, 404))
            return answer if answer.get("proposal_id") else None

        with ThreadPoolExecutor(8) as pool:
            found = dict(zip(self.proposals, pool.map(decision, self.proposals), strict=True))
        return {proposal_id: answer for proposal_id, answer in found.items() if answer}

    def _announced(self, service: str, names: tuple[str, ...]) -> Counter[str]:
        """Distinct events of ``names`` the service committed, per proposal."""
        return inspection.announcements_of(self.suite.databases[service], names, "proposal_id")

    def _check_money(self) -> None:
        """Never over-committed; the running sums are the ledger's sums; reservations once."""
        ledger = list(self.api.budget.every("/ledger"))
        sums: dict[tuple[str, int], list[int]] = defaultdict(lambda: [0, 0, 0])
        for entry in ledger:
            deltas = (entry["allocated_delta"], entry["reserved_delta"], entry["spent_delta"])
            position = sums[(entry["unit_code"], entry["fiscal_year"])]
            position[:] = [total + delta for total, delta in zip(position, deltas, strict=True)]
        allocations = list(self.api.budget.every("/allocations"))
        for allocation in allocations:
            unit, year = allocation["unit_code"], allocation["fiscal_year"]
            figures = [
                allocation[k] for k in ("allocated_rupiah", "reserved_rupiah", "spent_rupiah")
            ]
            allocated, reserved, spent = figures
            if reserved + spent > allocated:
                self.violations.append(
                    f"{unit}/{year} over-committed: {reserved + spent} of {allocated}"
                )
            if figures != sums[(unit, year)]:
                self.violations.append(
                    f"{unit}/{year}: sums {figures} but ledger {sums[(unit, year)]}"
                )
            shown = self.api.budget.get(f"/allocations/{unit}/{year}")
            api = [shown.get(k) for k in ("allocated_rupiah", "reserved_rupiah", "spent_rupiah")]
            if api != figures:
                self.violations.append(f"{unit}/{year}: GET /allocations/{unit}/{year} shows {api}")
        self._check_reservations([e for e in ledger if e["kind"] == "reservation"])
        self.figures["allocations"] = len(allocations)
        self.figures["rupiah_reserved"] = sum(a["reserved_rupiah"] for a in allocations)

    def _check_reservations(self, entries: list[dict[str, Any]]) -> None:
        """Each decision's reservation in the ledger once, of the amount it reserved."""
        per_proposal: dict[str, list[int]] = defaultdict(list)
        for entry in entries:
            per_proposal[str(entry["proposal_id"])].append(entry["reserved_delta"])
        for proposal_id in set(per_proposal) - set(self.decisions):
            self.violations.append(f"reservation entries for {proposal_id}, no budget decision")
        for proposal_id, decision in self.decisions.items():
            found, reserved = per_proposal.get(proposal_id, []), decision["reserved_rupiah"]
            if len(found) > 1 or sum(found) != reserved:
                self.violations.append(
                    f"proposal {proposal_id}: {len(found)} reservation entries of {sum(found)} "
                    f"for {reserved} reserved"
                )

    def _check_notifications(self) -> None:
        """Each expected (event, recipient, channel) delivered once, and received once."""
        expected = self._expected_deliveries()
        deliveries = list(self.api.notification.every("/deliveries"))
        actual = Counter((d["event_id"], d["recipient"], d["channel"]) for d in deliveries)
        for key in sorted(set(expected) - set(actual))[:20]:
            self.violations.append(f"no delivery for {key}")
        for key in sorted(set(actual) - set(expected))[:20]:
            self.violations.append(f"unexpected delivery {key}")
        missing, unexpected = len(set(expected) - set(actual)), len(set(actual) - set(expected))
        if missing > 20 or unexpected > 20:
            self.violations.append(f"{missing} deliveries missing, {unexpected} unexpected")
        for d in deliveries:
            if d["status"] != "delivered":
                key = (d["event_id"], d["recipient"], d["channel"])
                self.violations.append(f"delivery {key} is {d['status']}")
        ids: dict[str, list[str]] = defaultdict(list)
        for d in deliveries:
            ids[d["channel"]].append(str(d["id"]))
        self.figures["deliveries"] = {channel: len(found) for channel, found in sorted(ids.items())}
        self.figures["expected_deliveries"] = len(expected)
        self._received_once("e-mail", ids.get("email", []), self._emails())
        self._received_once("webhook", ids.get("webhook", []), self._webhooks())
        announced = inspection.announcements_of(
            self.suite.databases["notification"], ("notification.delivered",), "delivery_id"
        )
        for d in deliveries:
            if announced[str(d["id"])] != 1:
                self.violations.append(
                    f"delivery {d['id']} announced {announced[str(d['id'])]} times"
                )

    def _expected_deliveries(self) -> set[tuple[str, str, str]]:
        """From every event the services published and notification's rules: who must hear
        of it over which channel, in this world (no supervisors; the seeded officials)."""
        by_event: dict[str, list[tuple[str, list[str]]]] = defaultdict(list)
        for rule in self.api.notification.get("/rules"):
            if rule["active"]:
                by_event[rule["event_type"]].append((rule["audience"], rule["channels"]))
        expected: set[tuple[str, str, str]] = set()
        for name in SERVICES:
            for event in inspection.announcements(self.suite.databases[name]):
                for audience, channels in by_event.get(event.type, []):
                    for recipient in self._audience(audience, event.type, event.data):
                        expected.update((event.id, recipient, c) for c in channels)
                if event.type in WEBHOOK_EVENTS:
                    expected.add((event.id, str(self.world.subscription), "webhook"))
        return expected

    def _audience(self, audience: str, event_type: str, data: dict) -> list[str]:
        employee = data.get("employee")
        if audience == "employee":
            if event_type == "assessment.recorded" and data.get("current", True) is False:
                return []
            nip = employee["nip"] if isinstance(employee, dict) else data.get("employee_nip")
            return [nip] if nip else []
        if audience == "unit_operator":
            return self.world.operators.get(data.get("unit_code"), [])
        if audience == "bkpsdm_admin":
            return list(self.world.admins)
        return []  # supervisors: nobody in this world has one

    def _emails(self) -> list[tuple[str | None, float]]:
        parser = BytesHeaderParser()
        found = []
        for path in sorted((self.smtp.directory / "messages").glob("*.eml")):
            headers = parser.parsebytes(path.read_bytes())
            found.append((headers.get("X-Kompas-Delivery"), path.stat().st_mtime))
        return found

    def _webhooks(self) -> list[tuple[str | None, float]]:
        found = []
        for path in sorted((self.webhook.directory / "requests").glob("*.json")):
            request = json.loads(path.read_text())
            if request["status"] == 200 and request["signature_valid"]:
                found.append((request["headers"].get("X-Kompas-Delivery"), path.stat().st_mtime))
        return found

    def _received_once(
        self, what: str, delivery_ids: list[str], received: list[tuple[str | None, float]]
    ) -> None:
        """Each delivery received exactly once, but for one known exception: notification
        killed after the peer accepted a message and before the attempt committed sends it
        again after the restart (same delivery id). Such a copy is counted, not a violation,
        when a kill fell within SEND_WINDOW seconds after the first copy and before the next;
        any other copy is a violation."""
        times: dict[str | None, list[float]] = defaultdict(list)
        for delivery_id, at in received:
            times[delivery_id].append(at)
        kills = [t for name, t in self.kill_times if name == "notification"]
        resent = 0
        for delivery_id in delivery_ids:
            copies = sorted(times.pop(delivery_id, []))
            if not copies:
                self.violations.append(f"{what} of delivery {delivery_id} never received")
                continue
            explained = [
                t
                for first, second in itertools.pairwise(copies)
                for t in kills
                if first <= t <= first + SEND_WINDOW and t <= second
            ]
            resent += len(copies) - 1
            if len(explained) < len(copies) - 1:
                self.violations.append(
                    f"{what} of delivery {delivery_id} received {len(copies)} times "
                    f"(at {copies}), not explained by a kill of notification (at {kills})"
                )
        for delivery_id, copies in times.items():
            self.violations.append(f"{len(copies)} {what}(s) for unknown delivery {delivery_id}")
        key = "emails" if what == "e-mail" else "webhooks"
        self.figures[f"{key}_received"] = len(received)
        self.figures[f"{key}_resent_after_a_kill"] = resent


def _healthy(process: ServiceProcess) -> bool:
    try:
        return requests.get(f"{process.url}/health", timeout=5).status_code == 200
    except requests.RequestException:
        return False


def _duplicates_counted(url: str) -> float:
    """Duplicates the process at ``url`` counted since it started (0 if it does not answer)."""
    try:
        return metric_sum(scrape(url), "asn_events_handled_total", outcome="duplicate")
    except requests.RequestException:
        return 0.0


def _disagreement(proposal: dict[str, Any], decision: dict[str, Any] | None) -> str | None:
    """What is wrong between training's proposal and the budget's decision on it."""
    status, reserved = proposal["status"], proposal["reserved_rupiah"]
    if decision is None:
        return f"no budget decision (training says {status})"
    decided, budget_reserved = decision["status"], decision["reserved_rupiah"]
    wanted = {
        "reserved": (
            "approved" if budget_reserved == proposal["total_cost_rupiah"] else "partially_approved"
        ),
        "rejected": "waitlisted",
    }.get(decided)
    if status != wanted or reserved != budget_reserved:
        return (
            f"training {status} with {reserved} reserved, budget {decided} with {budget_reserved}"
        )
    return None


def _announced_once(
    decision: dict[str, Any], total: int, announced: tuple[int, int, int]
) -> str | None:
    """Budget's answer once; training's approval and waitlisting once each as it implies."""
    decided, reserved = decision["status"], decision["reserved_rupiah"]
    if decided == "reserved":
        wanted = (1, 1, 0 if reserved == total else 1)
    else:
        wanted = (1, 0, 1)
    if announced != wanted:
        return f"announced {announced} (budget answers, approvals, waitlistings), not {wanted}"
    return None
