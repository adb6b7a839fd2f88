"""The whole chain under load: assessments in, decided proposals and delivered notifications out.

    .venv/bin/python bench/chain.py [--assessments 10000] [--rate 50] [--duration 30]
                                    [--replicas 1 2] [--chunk 500]

For each replica count it starts the four services as ``nameko run`` processes (fresh
databases, a fresh RabbitMQ virtual host, a real SMTP server as a separate process), seeds
them through their HTTP APIs (units, jabatan, employees, programmes with batches, budget
allocations; not measured), then measures

* throughput: N assessments imported through ``POST /assessment-imports`` in chunks as fast
  as competency accepts them; assessments *settled* per second, from the first import sent to
  the last assessment settled;
* latency: assessments posted one by one (``POST /assessments``) at a steady rate; the time
  from the 201 answer (accepted) to the assessment's settlement, p50 / p95 / p99.

An assessment is *settled* when a queue of the benchmark's own, bound with ``#`` to the four
exchanges, has seen: its ``assessment.recorded``; for every proposal created for it, the
budget's answer (``budget.reserved`` / ``budget.rejected``) and training's decision
(``proposal.approved`` / ``proposal.waitlisted``); and for every event that tells the
employee something (recorded, created, approved, waitlisted, cancelled) a
``notification.delivered`` per channel of the rule (e-mail accepted by the SMTP server,
inbox message written). The seeded employees have no supervisor and no officials exist, so
each such event is exactly two deliveries.

The baseline, in the same run: kombu publishing the same number of messages as the chain
published per settled assessment times N (persistent, publisher confirms awaited per message,
a durable topic exchange and a durable queue) while another process consumes and acks them.
Results go to bench/results/chain.json and chain.md.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import itertools
import json
import multiprocessing
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import requests
from kombu import Connection, Consumer, Exchange, Producer, Queue
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from asn_testkit import auth
from asn_testkit.events import publish_raw
from asn_testkit.infrastructure import Broker, DatabaseServer
from asn_testkit.peers import SmtpServer
from asn_testkit.suite import Suite
from kompas_demo.seed import Seeder, competency_codes
from kompas_demo.synthetic import City, first_batch_day, synthetic_city, synthetic_nip

ROOT = Path(__file__).resolve().parent.parent
# BENCH_RESULTS: another folder (the CI smoke run writes to a temporary one)
RESULTS = Path(os.environ.get("BENCH_RESULTS") or Path(__file__).parent / "results")
PRODUCERS = ("competency", "training", "budget", "notification")
PEOPLE_EVENTS = {
    "assessment.recorded",
    "proposal.created",
    "proposal.approved",
    "proposal.waitlisted",
    "proposal.cancelled",
}
CHANNELS_PER_EVENT = 2  # the default rules: e-mail and inbox, to the employee alone
DECISIONS = {"proposal.approved", "proposal.waitlisted"}
BUDGET_ANSWERS = {"budget.reserved", "budget.rejected"}
# the steps of an assessment's way, by the first event of each (the latency's breakdown)
STAGES = {
    "assessment.recorded": "recorded",
    "proposal.created": "proposed",
    "budget.reserved": "budget_answered",
    "budget.rejected": "budget_answered",
    "proposal.approved": "decided",
    "proposal.waitlisted": "decided",
}  # then "settled": the last notification delivered
UNITS = 20
GAPS_PER_ASSESSMENT = 2
WARM_UP = 50  # assessments through a fresh suite before anything is measured
PROGRAMME_COST = 1_500_000
PROGRAMME_JP = 20


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- observing the chain ---------------------------------------------------------------------


class Tracker:
    """Consumes every event of the four exchanges and decides when each assessment settled."""

    def __init__(self, amqp_uri: str) -> None:
        self.connection = Connection(amqp_uri)
        channel = self.connection.channel()
        self.queue_name = f"bench-tap-{int(time.time())}"
        for producer in PRODUCERS:
            Queue(
                self.queue_name,
                Exchange(f"{producer}.events", "topic", durable=True),
                routing_key="#",
                durable=False,
                auto_delete=False,
            )(channel).declare()
        self.lock = threading.Lock()
        self.counts: dict[str, int] = defaultdict(int)
        self.watched: dict[str, float] = {}  # nip → accepted at (None until known)
        self.settled: dict[str, float] = {}
        self.nip_of_event: dict[str, str] = {}
        self.nip_of_proposal: dict[str, str] = {}
        self.people_events: dict[str, set[str]] = defaultdict(set)
        self.proposals: dict[str, set[str]] = defaultdict(set)
        self.decided: set[str] = set()
        self.answered: set[str] = set()
        self.delivered: dict[str, int] = defaultdict(int)
        self.recorded: set[str] = set()
        self.outcomes: dict[str, int] = defaultdict(int)
        self.first_seen: dict[str, dict[str, float]] = defaultdict(dict)  # nip → stage → time
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def watch(self, nips: list[str], accepted_at: float | None = None) -> None:
        with self.lock:
            for nip in nips:
                self.watched[nip] = accepted_at

    def accepted(self, nip: str, at: float) -> None:
        with self.lock:
            self.watched[nip] = at

    def reset_counts(self) -> dict[str, int]:
        with self.lock:
            counts, self.counts = dict(self.counts), defaultdict(int)
        return counts

    def _run(self) -> None:
        channel = self.connection.channel()
        channel.basic_qos(0, 2000, False)
        queue = Queue(self.queue_name, no_declare=True)
        with Consumer(channel, [queue], callbacks=[self._on_message], no_ack=True):
            while not self.stopping.is_set():
                try:
                    self.connection.drain_events(timeout=0.2)
                except TimeoutError:
                    pass
                except OSError:
                    if not self.stopping.is_set():
                        raise

    def _on_message(self, body, message) -> None:
        now = time.time()
        event = json.loads(message.body)
        name = message.delivery_info["routing_key"]
        with self.lock:
            self.counts[name] += 1
            nip = self._apply(name, event)
            if nip is not None and name in STAGES:
                self.first_seen[nip].setdefault(STAGES[name], now)
            if nip is not None and nip in self.watched and nip not in self.settled:
                if self._is_settled(nip):
                    self.settled[nip] = now

    def _apply(self, name: str, event: dict) -> str | None:
        data = event.get("data") or {}
        if name == "assessment.recorded":
            nip = data["employee"]["nip"]
            self.recorded.add(nip)
        elif name.startswith("proposal."):
            nip = data["employee_nip"]
            proposal = str(data["proposal_id"])
            self.nip_of_proposal[proposal] = nip
            if name == "proposal.created":
                self.proposals[nip].add(proposal)
            elif name in DECISIONS:
                self.decided.add(proposal)
                self.outcomes[name] += 1
        elif name in BUDGET_ANSWERS:
            proposal = str(data["proposal_id"])
            self.answered.add(proposal)
            self.outcomes[name] += 1
            nip = self.nip_of_proposal.get(proposal)
        elif name == "notification.delivered":
            source = str(data["source_event_id"])
            self.delivered[source] += 1
            nip = self.nip_of_event.get(source)
        else:
            return None
        if name in PEOPLE_EVENTS:
            self.nip_of_event[event["id"]] = nip
            self.people_events[nip].add(event["id"])
        return nip

    def _is_settled(self, nip: str) -> bool:
        proposals = self.proposals.get(nip)
        if nip not in self.recorded or not proposals:
            return False
        if any(p not in self.decided or p not in self.answered for p in proposals):
            return False
        return all(self.delivered[e] >= CHANNELS_PER_EVENT for e in self.people_events[nip])

    def settled_count(self, nips: list[str]) -> int:
        with self.lock:
            return sum(1 for nip in nips if nip in self.settled)

    def wait(self, nips: list[str], timeout: float, label: str) -> None:
        deadline = time.monotonic() + timeout
        last = -1
        while time.monotonic() < deadline:
            done = self.settled_count(nips)
            if done == len(nips):
                return
            if done != last:
                say(f"  {label}: {done:,}/{len(nips):,} settled")
                last = done
            time.sleep(2)
        say(f"  {label}: timed out with {self.settled_count(nips):,}/{len(nips):,} settled")

    def close(self) -> None:
        self.stopping.set()
        self.thread.join(5)
        self.connection.release()


# --- seeding through the HTTP APIs -----------------------------------------------------------


class World:
    """What the benchmark seeded, a synthetic city (``kompas_demo.synthetic``) put in through
    the demo's seeder: employees, their unit and the standard they are held to."""

    def __init__(self, suite: Suite, employees: int) -> None:
        self.suite = suite
        self.count = employees
        self.http = auth.session()
        self.nips = [synthetic_nip(i) for i in range(employees)]
        self.standard: list[tuple[str, int]] = []

    def url(self, service: str, path: str) -> str:
        return self.suite.url(service) + path

    def seed(self, today: date) -> None:
        api = self.suite.services()
        codes = competency_codes(api.competency, ("manajerial", "sosial_kultural"))
        city = City(
            "BENCH",
            "Pemerintah Kota Bench",
            units=UNITS,
            employees=self.count,
            standard=codes,
            fiscal_year=today.year,
            starts_on=first_batch_day(today),
            email_domain="bench.example.go.id",
            gaps=GAPS_PER_ASSESSMENT,
            cost_rupiah=PROGRAMME_COST,
            jp=PROGRAMME_JP,
        )
        started = time.monotonic()
        report = Seeder(api, progress=False).run(synthetic_city(city))
        jabatan = api.competency.get(f"/jabatan/J-{city.unit_codes()[0]}")
        self.standard = [(c["competency_code"], c["required_level"]) for c in jabatan["standards"]]
        say(f"  seeded {dict(report.created)} in {time.monotonic() - started:.0f}s")
        say(f"  standard of {len(self.standard)}; programmes each with one batch")

    def levels(self, i: int) -> dict[str, float]:
        """Every competency at its standard but two, a level short (they rotate)."""
        gappable = [n for n, (_, required) in enumerate(self.standard) if required > 1]
        short = {gappable[(i + k) % len(gappable)] for k in range(GAPS_PER_ASSESSMENT)}
        return {
            code: (required - 1 if n in short else required)
            for n, (code, required) in enumerate(self.standard)
        }

    def csv_chunk(self, indexes: range, assessed_on: date) -> bytes:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["nip", "assessed_on", "method", *[c for c, _ in self.standard]])
        for i in indexes:
            levels = self.levels(i)
            writer.writerow(
                [
                    self.nips[i],
                    assessed_on.isoformat(),
                    "assessment_centre",
                    *[levels[c] for c, _ in self.standard],
                ]
            )
        return out.getvalue().encode()


# --- the measures ----------------------------------------------------------------------------


def wait_quiet(broker: Broker, vhost: str, tracker_queue: str, timeout: float = 600) -> None:
    """Until every service queue is empty twice in a row (seeding events consumed)."""
    deadline, quiet = time.monotonic() + timeout, 0
    while time.monotonic() < deadline and quiet < 3:
        queues = broker._api("GET", f"queues/{requests.utils.quote(vhost, safe='')}").json()
        busy = sum(
            q.get("messages", 0) + q.get("messages_unacknowledged", 0)
            for q in queues
            if q["name"] != tracker_queue and not q["name"].endswith(".dead-letter")
        )
        quiet = quiet + 1 if busy == 0 else 0
        time.sleep(1)


def cpu_seconds(pids: dict[str, int]) -> dict[str, float]:
    """User + system CPU time of each process so far (Linux /proc)."""
    return {name: process_cpu(pid) or 0.0 for name, pid in pids.items()}


def process_cpu(pid: int) -> float | None:
    """User + system CPU seconds of a process, None if it is not visible here."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def transactions(urls: dict[str, str]) -> dict[str, int]:
    """Transactions committed or rolled back so far in each service's database."""
    services = {url.rsplit("/", 1)[1]: name for name, url in urls.items()}
    url = next(iter(urls.values())).replace("postgresql://", "postgresql+psycopg2://", 1)
    engine = create_engine(url, poolclass=NullPool)
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT datname, xact_commit + xact_rollback FROM pg_stat_database"
                " WHERE datname = ANY(:names)"
            ),
            {"names": list(services)},
        ).all()
    return {services[database]: count for database, count in rows}


def backend_cpu(urls: dict[str, str]) -> dict[str, dict[int, float]]:
    """CPU seconds of each PostgreSQL backend serving a service's database, by service
    (empty when the server runs elsewhere, e.g. in a container: /proc does not show it)."""
    services = {url.rsplit("/", 1)[1]: name for name, url in urls.items()}
    url = next(iter(urls.values())).replace("postgresql://", "postgresql+psycopg2://", 1)
    engine = create_engine(url, poolclass=NullPool)
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT pid, datname FROM pg_stat_activity WHERE datname = ANY(:names)"),
            {"names": list(services)},
        ).all()
    used: dict[str, dict[int, float]] = defaultdict(dict)
    for pid, database in rows:
        seconds = process_cpu(pid)
        if seconds is not None:
            used[services[database]][pid] = seconds
    return used


def throughput(
    world: World,
    tracker: Tracker,
    indexes: range,
    chunk: int,
    today: date,
    pids: dict[str, int],
    urls: dict[str, str],
) -> dict:
    nips = [world.nips[i] for i in indexes]
    tracker.watch(nips)
    tracker.reset_counts()
    cpu_before, backends_before = cpu_seconds(pids), backend_cpu(urls)
    xacts_before = transactions(urls)
    url = world.url("competency", "/assessment-imports?format=csv")
    started = time.time()
    accepted = 0
    for first in range(indexes.start, indexes.stop, chunk):
        part = range(first, min(first + chunk, indexes.stop))
        response = world.http.post(url, data=world.csv_chunk(part, today), timeout=300)
        if response.status_code != 201:
            raise RuntimeError(f"import: {response.status_code} {response.text[:500]}")
        report = response.json()
        accepted += len(part)
        if report.get("errors"):
            raise RuntimeError(f"import rows refused: {report['errors'][:3]}")
        if (accepted // chunk) % 4 == 0:
            say(f"  imported {accepted:,}/{len(nips):,}; settled {tracker.settled_count(nips):,}")
    import_seconds = time.time() - started
    tracker.wait(nips, timeout=max(600, len(nips) / 10), label="throughput")
    with tracker.lock:
        times = [tracker.settled[n] for n in nips if n in tracker.settled]
    counts = tracker.reset_counts()
    cpu_after, backends_after = cpu_seconds(pids), backend_cpu(urls)
    xacts_after = transactions(urls)
    cpu = {name: cpu_after[name] - cpu_before[name] for name in pids}
    per_service: dict[str, float] = defaultdict(float)
    for name, seconds in cpu.items():
        per_service[name.rsplit("-", 1)[0]] += seconds
    database = {
        name: sum(t - backends_before.get(name, {}).get(pid, 0.0) for pid, t in used.items())
        for name, used in backends_after.items()
    }
    elapsed = (max(times) - started) if times else float("nan")
    events = sum(v for k, v in counts.items() if not k.startswith("employee."))
    return {
        "assessments": len(nips),
        "settled": len(times),
        "import_seconds": round(import_seconds, 2),
        "imported_per_second": round(len(nips) / import_seconds, 1),
        "seconds": round(elapsed, 2),
        "settled_per_second": round(len(times) / elapsed, 1) if times else 0,
        "events_published": events,
        "events_per_assessment": round(events / max(len(times), 1), 2),
        "chain_messages_per_second": round(events / elapsed, 1) if times else 0,
        "events_by_type": dict(sorted(counts.items())),
        # CPU the service processes spent per settled assessment: what the chain costs,
        # whatever else the machine is doing at the time
        "service_cpu_ms_per_assessment": {
            name: round(seconds * 1000 / max(len(times), 1), 1)
            for name, seconds in sorted(per_service.items())
        },
        "service_cpu_ms_per_assessment_total": round(
            sum(per_service.values()) * 1000 / max(len(times), 1), 1
        ),
        # database transactions per settled assessment (statistics PostgreSQL keeps)
        "database_transactions_per_assessment": {
            name: round((count - xacts_before.get(name, 0)) / max(len(times), 1), 1)
            for name, count in sorted(xacts_after.items())
        },
        # and what their PostgreSQL backends spent (RabbitMQ's share cannot be told apart)
        "database_cpu_ms_per_assessment": {
            name: round(seconds * 1000 / max(len(times), 1), 1)
            for name, seconds in sorted(database.items())
        },
        "load_average_after": os.getloadavg()[0],
    }


def latency(world: World, tracker: Tracker, indexes: range, rate: float, today: date) -> dict:
    nips = [world.nips[i] for i in indexes]
    tracker.watch(nips)
    url = world.url("competency", "/assessments")
    local = threading.local()
    accepted_at: dict[str, float] = {}

    def submit(i: int) -> None:
        session = getattr(local, "session", None) or auth.session()
        local.session = session
        body = {
            "nip": world.nips[i],
            "assessed_on": today.isoformat(),
            "method": "assessment_centre",
            "levels": world.levels(i),
        }
        response = session.post(url, json=body, timeout=60)
        if response.status_code != 201:
            raise RuntimeError(f"assessment: {response.status_code} {response.text[:300]}")
        accepted_at[world.nips[i]] = time.time()

    started = time.monotonic()
    pool = ThreadPoolExecutor(16)
    try:
        futures = []
        for n, i in enumerate(indexes):
            delay = started + n / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            futures.append(pool.submit(submit, i))
            if n and n % int(rate * 5) == 0:
                say(f"  offered {n:,}/{len(nips):,}; settled {tracker.settled_count(nips):,}")
        for future in futures:
            future.result()
    finally:
        pool.shutdown(cancel_futures=True)
    offered_seconds = time.monotonic() - started
    tracker.wait(nips, timeout=180, label="latency")
    with tracker.lock:
        latencies = sorted(
            tracker.settled[n] - accepted_at[n] for n in nips if n in tracker.settled
        )
        stages = stage_medians(tracker, nips, accepted_at)
    tracker.reset_counts()
    return {
        "offered_per_second": rate,
        "achieved_offer_per_second": round(len(nips) / offered_seconds, 1),
        "assessments": len(nips),
        "settled": len(latencies),
        "p50_ms": percentile(latencies, 50),
        "p95_ms": percentile(latencies, 95),
        "p99_ms": percentile(latencies, 99),
        "max_ms": round(latencies[-1] * 1000) if latencies else None,
        # where the time goes: the median of each step, from the previous one
        "median_step_ms": stages,
    }


def stage_medians(tracker: Tracker, nips: list[str], accepted_at: dict[str, float]) -> dict:
    """Median milliseconds from each step of an assessment's way to the next (lock held)."""
    steps: dict[str, list[float]] = defaultdict(list)
    for nip in nips:
        if nip not in tracker.settled or nip not in accepted_at:
            continue
        seen = {**tracker.first_seen[nip], "settled": tracker.settled[nip]}
        previous = accepted_at[nip]
        for stage in (*dict.fromkeys(STAGES.values()), "settled"):
            if stage in seen:
                steps[stage].append(seen[stage] - previous)
                previous = seen[stage]
    return {stage: percentile(sorted(values), 50) for stage, values in steps.items()}


def percentile(values: list[float], p: float) -> int | None:
    if not values:
        return None
    k = min(len(values) - 1, max(0, round(p / 100 * len(values) + 0.5) - 1))
    return round(values[k] * 1000)


# --- a fast SMTP sink ------------------------------------------------------------------------


class _SmtpSinkProtocol(asyncio.Protocol):
    """Just enough SMTP to accept mail: counts messages, keeps nothing."""

    def __init__(self, received) -> None:
        self.received, self.buffer, self.in_data = received, b"", False

    def connection_made(self, transport) -> None:
        self.transport = transport
        transport.write(b"220 bench-sink ESMTP\r\n")

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            if self.in_data:
                end = self.buffer.find(b"\r\n.\r\n")
                if end < 0:
                    return
                self.buffer, self.in_data = self.buffer[end + 5 :], False
                with self.received.get_lock():
                    self.received.value += 1
                self.transport.write(b"250 accepted\r\n")
                continue
            line, sep, rest = self.buffer.partition(b"\r\n")
            if not sep:
                return
            self.buffer = rest
            verb = line[:4].upper()
            if verb == b"EHLO":
                self.transport.write(b"250-bench-sink\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n")
            elif verb == b"DATA":
                self.in_data = True
                self.buffer = b"\r\n" + self.buffer  # the terminator may follow at once
                self.transport.write(b"354 go ahead\r\n")
            elif verb == b"QUIT":
                self.transport.write(b"221 bye\r\n")
                self.transport.close()
                return
            else:
                self.transport.write(b"250 ok\r\n")


def _serve_smtp(port, received) -> None:
    async def serve() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            lambda: _SmtpSinkProtocol(received), "127.0.0.1", 0, reuse_address=True
        )
        port.value = server.sockets[0].getsockname()[1]
        async with server:
            await server.serve_forever()

    asyncio.run(serve())


class FastSmtpSink:
    """A real SMTP server in its own process that accepts and counts mail without storing
    it: the harness's aiosmtpd sink writes two files per message and tops out near 60
    messages/s on this machine, below what the chain sends."""

    host = "127.0.0.1"

    def __init__(self) -> None:
        self._port = multiprocessing.Value("i", 0)
        self.received = multiprocessing.Value("l", 0)
        self.process = multiprocessing.Process(
            target=_serve_smtp, args=(self._port, self.received), daemon=True
        )
        self.process.start()
        deadline = time.monotonic() + 15
        while not self._port.value and time.monotonic() < deadline:
            time.sleep(0.05)
        self.port = self._port.value

    def count(self) -> int:
        return self.received.value

    def stop(self) -> None:
        self.process.terminate()
        self.process.join(10)


# --- the raw baseline ------------------------------------------------------------------------


BASELINE_EXCHANGE = Exchange("bench-baseline", "topic", durable=True)
BASELINE_QUEUE = Queue("bench-baseline", BASELINE_EXCHANGE, routing_key="#", durable=True)


def _consume(amqp_uri: str, count: int, done: multiprocessing.Queue) -> None:
    received = 0

    def on_message(body, message) -> None:
        nonlocal received
        json.loads(message.body)
        message.ack()
        received += 1

    with Connection(amqp_uri) as connection:
        channel = connection.channel()
        channel.basic_qos(0, 100, False)
        with Consumer(channel, [BASELINE_QUEUE], callbacks=[on_message]):
            while received < count:
                try:
                    connection.drain_events(timeout=30)
                except TimeoutError:
                    break
    done.put((received, time.time()))


def baseline(amqp_uri: str, count: int, body: bytes) -> dict:
    """kombu: publish ``count`` persistent messages with confirms; another process consumes."""
    with Connection(amqp_uri) as connection:
        BASELINE_QUEUE(connection.channel()).declare()
    done: multiprocessing.Queue = multiprocessing.Queue()
    consumer = multiprocessing.Process(target=_consume, args=(amqp_uri, count, done))
    consumer.start()
    time.sleep(0.5)
    started = time.time()
    with Connection(amqp_uri, transport_options={"confirm_publish": True}) as connection:
        producer = Producer(connection, exchange=BASELINE_EXCHANGE)
        for _ in range(count):
            publish_raw(producer, body)
    published = time.time()
    received, finished = done.get(timeout=600)
    consumer.join(10)
    return {
        "messages": count,
        "received": received,
        "published_per_second": round(count / (published - started)),
        "messages_per_second": round(received / (finished - started)),
    }


# --- profiling -------------------------------------------------------------------------------


class Profiler:
    """py-spy sampling every service process through the throughput phase (``--profile DIR``).

    Writes one speedscope file per process (open it at https://www.speedscope.app) and a
    text summary of the functions that took the most CPU, by own time and with callees.
    Sampling is non-blocking, so the services run at their usual speed.
    """

    def __init__(self, directory: Path | None, label: str, pids: dict[str, int]) -> None:
        self.records: dict[str, tuple[Path, subprocess.Popen]] = {}
        if directory is None:
            return
        directory.mkdir(parents=True, exist_ok=True)
        for name, pid in pids.items():
            out = directory / f"{label}-{name}.speedscope.json"
            command = [PY_SPY, "record", "-p", str(pid), "-o", str(out), "--format", "speedscope"]
            process = subprocess.Popen(
                [*command, "--nonblocking", "--rate", "100"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            self.records[name] = (out, process)
        say(f"  profiling {len(pids)} processes with py-spy into {directory}")

    def stop(self) -> None:
        for _, process in self.records.values():
            process.send_signal(signal.SIGINT)
        for name, (out, process) in self.records.items():
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                process.kill()
            if out.exists():
                summary = out.with_name(out.name.replace(".speedscope.json", ".top.txt"))
                summary.write_text(profile_summary(json.loads(out.read_text())))
                say(f"  profile of {name}: {summary}")


def _py_spy() -> str:
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else (shutil.which("py-spy") or "py-spy")


PY_SPY = _py_spy()


def profile_summary(speedscope: dict, top: int = 30) -> str:
    """The functions with the most samples: own (leaf) time and inclusive time, in %."""
    frames = speedscope["shared"]["frames"]
    names = [f"{f['name']} ({Path(f.get('file', '?')).name})" for f in frames]
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for profile in speedscope["profiles"]:
        for stack, weight in zip(profile["samples"], profile["weights"], strict=True):
            if not stack:
                continue
            total += weight
            own[names[stack[-1]]] += weight
            for name in {names[i] for i in stack}:
                inclusive[name] += weight
    lines = [f"{total} samples (CPU, idle excluded)", "", "own time:"]
    lines += [f"{100 * n / total:5.1f}%  {name}" for name, n in own.most_common(top)]
    lines += ["", "with callees:"]
    lines += [f"{100 * n / total:5.1f}%  {name}" for name, n in inclusive.most_common(top)]
    return "\n".join(lines) + "\n"


# --- one configuration ----------------------------------------------------------------------


class Stack:
    """A virtual host, databases, an SMTP server and the suite on them; the suite of the
    working tree, or of another revision's checkout (``code``, see :class:`Revision`)."""

    def __init__(
        self,
        args,
        broker: Broker,
        databases: DatabaseServer,
        urls: dict[str, str],
        replicas: int,
        code: Revision | None = None,
    ) -> None:
        self.broker, self.databases, self.urls, self.code = broker, databases, urls, code
        self.vhost = broker.create_vhost()
        self.amqp_uri = broker.uri(self.vhost)
        self.workdir = Path(tempfile.mkdtemp(prefix="chain-bench-"))
        self.smtp = SmtpServer(self.workdir / "smtp") if args.smtp == "harness" else FastSmtpSink()
        (self.workdir / "logs").mkdir()
        self.suite = Suite(
            self.amqp_uri,
            urls,
            services_dir=(code.root if code else ROOT) / "services",
            log_dir=self.workdir / "logs",
            env={"SMTP_HOST": self.smtp.host, "SMTP_PORT": str(self.smtp.port), **dict(args.env)},
            replicas={name: replicas for name in urls},
        )
        self.tracker: Tracker | None = None

    def start(self) -> Stack:
        if self.code is None:
            self.suite.start(timeout=120)
        else:
            with self.code.on_path():
                self.suite.start(timeout=120)
        self.pids = {}
        for process in self.suite.all():
            self.pids[f"{process.service}-{len(self.pids)}"] = process.process.pid
        say(f"  suite up: {self.pids}; logs in {self.workdir / 'logs'}")
        self.tracker = Tracker(self.amqp_uri)
        return self

    def quiet(self) -> None:
        wait_quiet(self.broker, self.vhost, self.tracker.queue_name)

    def emails_received(self) -> int:
        if isinstance(self.smtp, FastSmtpSink):
            return self.smtp.count()
        return len(list((self.workdir / "smtp" / "messages").glob("*.eml")))

    def stop(self) -> None:
        if self.tracker is not None:
            self.tracker.close()
        self.suite.stop()
        self.smtp.stop()
        self.broker.delete_vhost(self.vhost)


class Revision:
    """Another revision's code in a ``git worktree`` of its own: its services run from the
    same virtual environment, with ``PYTHONPATH`` naming the checkout's ``src`` folders
    first (the environment's editable installs come after them on ``sys.path``)."""

    def __init__(self, ref: str, *, newer_schema: bool = False) -> None:
        self.ref = ref
        self.commit = _git("rev-parse", "--short", ref)
        changed = [line.split("\t") for line in _git("diff", "--name-status", ref).splitlines()]
        migrations = [(line[0], line[-1]) for line in changed if "migrations/" in line[-1]]
        altered = [path for status, path in migrations if status != "A"]
        added = [path for status, path in migrations if status == "A"]
        if altered:
            raise SystemExit(
                f"--baseline-ref {ref}: its migrations differ from the working tree's "
                f"({', '.join(altered)}); both suites run on one seeded schema"
            )
        if added and not newer_schema:
            raise SystemExit(
                f"--baseline-ref {ref}: the working tree adds migrations it lacks "
                f"({', '.join(added)}); --newer-schema runs its services on the working "
                "tree's schema, for additions its code tolerates (an index, say)"
            )
        self.root = Path(tempfile.mkdtemp(prefix="chain-bench-ref-"))
        _git("worktree", "add", "--detach", str(self.root), ref)

    def source_folders(self) -> list[str]:
        return [str(self.root / "shared" / "src")] + [
            str(src) for src in sorted((self.root / "services").glob("*/src"))
        ]

    def on_path(self):
        """While the suite starts: every process it spawns takes this ``PYTHONPATH``."""
        return _environment("PYTHONPATH", os.pathsep.join(self.source_folders()))

    def remove(self) -> None:
        _git("worktree", "remove", "--force", str(self.root))


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout.strip()


class _environment:
    """``with _environment(NAME, VALUE):`` the variable set, then as it was."""

    def __init__(self, name: str, value: str) -> None:
        self.name, self.value = name, value

    def __enter__(self) -> None:
        self.before = os.environ.get(self.name)
        os.environ[self.name] = self.value

    def __exit__(self, *exc_info) -> None:
        if self.before is None:
            os.environ.pop(self.name, None)
        else:
            os.environ[self.name] = self.before


def seed(args, broker: Broker, databases: DatabaseServer, today: date) -> tuple[World, dict]:
    """Seed once through the APIs; return the world and template databases holding it."""
    say("== seeding (not measured)")
    urls = {name: databases.create(path) for name, path in Suite.migrations().items()}
    stack = Stack(args, broker, databases, urls, 1).start()
    try:
        world = World(stack.suite, args.assessments + int(args.rate * args.duration) + WARM_UP)
        world.seed(today)
        stack.quiet()
    except BaseException:
        stack.stop()
        for url in urls.values():
            databases.drop(url)
        raise
    stack.stop()
    templates = {}
    for name, url in urls.items():
        templates[name] = f"seeded_{name}_{int(time.time())}"
        source = url.rsplit("/", 1)[1]
        databases._execute(f'CREATE DATABASE "{templates[name]}" TEMPLATE "{source}"')
        databases.drop(url)
    return world, templates


def measure(
    args,
    replicas: int,
    broker: Broker,
    databases: DatabaseServer,
    world: World,
    templates: dict[str, str],
    today: date,
    code: Revision | None = None,
) -> dict:
    version = f"{code.ref} ({code.commit})" if code else "working tree"
    say(f"== {replicas} replica(s) per service, {version}")
    urls = {}
    for name, template in templates.items():
        database = f"bench_{name}_{replicas}_{int(time.time())}"
        databases._execute(f'CREATE DATABASE "{database}" TEMPLATE "{template}"')
        urls[name] = databases.url(database)
    stack = Stack(args, broker, databases, urls, replicas, code)
    try:
        stack.start()
        world.suite, tracker = stack.suite, stack.tracker
        result: dict = {"replicas": replicas, "code": version}
        offered = args.assessments + int(args.rate * args.duration)
        say(f"  warm-up (not measured): {WARM_UP} assessments at 10/s")
        latency(world, tracker, range(offered, world.count), 10.0, today)
        stack.quiet()
        say(f"  latency: {args.rate:g}/s for {args.duration:g}s")
        result["latency"] = latency(
            world, tracker, range(args.assessments, offered), args.rate, today
        )
        say(f"  latency: {result['latency']}")
        stack.quiet()
        say(f"  throughput: {args.assessments:,} assessments in files of {args.chunk}")
        run_label = f"{args.label}-{replicas}" + (f"-{code.commit}" if code else "")
        profiler = Profiler(args.profile, run_label, stack.pids)
        try:
            result["throughput"] = throughput(
                world, tracker, range(args.assessments), args.chunk, today, stack.pids, urls
            )
        finally:
            profiler.stop()
        say(f"  throughput: {result['throughput']}")
        result["deliveries"] = delivery_summary(urls["notification"])
        # a handler that failed EVENT_MAX_ATTEMPTS times (e.g. the database refusing
        # connections) parks its event: those assessments never settle
        result["dead_lettered"] = {
            name: broker.queue_depth(stack.vhost, f"{name}.dead-letter") for name in urls
        }
        result["emails_received"] = stack.emails_received()
        if args.baseline:
            count = round(result["throughput"]["events_per_assessment"] * args.assessments)
            say(f"  baseline: {count:,} messages through kombu")
            result["baseline"] = baseline(stack.amqp_uri, count, sample_body())
            say(f"  baseline: {result['baseline']}")
        return result
    finally:
        stack.stop()
        for url in urls.values():
            databases.drop(url)


def delivery_summary(url: str) -> dict:
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg2://", 1))
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT channel, status, count(*) FROM deliveries GROUP BY channel, status")
        ).all()
    engine.dispose()
    return {f"{channel}/{status}": count for channel, status, count in rows}


def sample_body() -> bytes:
    """A body the size of a typical event of the chain (a proposal.created)."""
    event = {
        "specversion": "1.0",
        "id": "6f1c8a3e-8a35-4c53-9b7a-0f3c1d2e4b5a",
        "source": "/kompas-asn/training",
        "type": "id.kompasasn.training.proposal.created.v1",
        "time": "2026-11-28T06:15:00.000000+00:00",
        "subject": "197001012019011000",
        "datacontenttype": "application/json",
        "correlationid": "6f1c8a3e-8a35-4c53-9b7a-0f3c1d2e4b5b",
        "data": {"items": [{"programme_title": "x" * 40, "jp": 20}] * 2, "note": "x" * 600},
    }
    return json.dumps(event).encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assessments", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=50.0, help="offered load, assessments/s")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds at that rate")
    parser.add_argument("--chunk", type=int, default=500, help="rows per import file")
    parser.add_argument("--replicas", type=int, nargs="+", default=[1, 2])
    parser.add_argument(
        "--smtp",
        choices=("fast", "harness"),
        default="fast",
        help="fast: a counting SMTP sink; harness: asn_shared's aiosmtpd sink (stores files)",
    )
    parser.add_argument("--no-baseline", dest="baseline", action="store_false")
    parser.add_argument(
        "--env",
        nargs=2,
        action="append",
        default=[],
        metavar=("NAME", "VALUE"),
        help="a setting for every service process, e.g. --env MAX_WORKERS 20",
    )
    parser.add_argument("--label", default="chain", help="results file name")
    parser.add_argument(
        "--baseline-ref",
        metavar="REV",
        help="also measure the services of revision REV (e.g. HEAD~3), before the working "
        "tree's, in the same run",
    )
    parser.add_argument(
        "--newer-schema",
        action="store_true",
        help="with --baseline-ref: run REV's services on the working tree's schema when the "
        "working tree only adds migrations to REV's (such as an index REV's code ignores)",
    )
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="sample every service process with py-spy through the throughput phase",
    )
    args = parser.parse_args()
    # a terminated run still stops its services and drops its vhost and databases
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    containers: list = []
    broker, databases = Broker.discover(containers), DatabaseServer.discover(containers)
    runs, templates, today = [], {}, date.today()
    revision = (
        Revision(args.baseline_ref, newer_schema=args.newer_schema) if args.baseline_ref else None
    )
    try:
        world, templates = seed(args, broker, databases, today)
        for replicas in args.replicas:
            for code in (revision, None) if revision else (None,):
                setup = (broker, databases, world, templates, today)
                runs.append(measure(args, replicas, *setup, code=code))
                report(args, runs)  # what is measured is kept, should a later one fail
    finally:
        if revision is not None:
            revision.remove()
        for template in templates.values():
            databases._execute(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)')
        databases.drop_templates()
        for container in containers:
            container.stop()


def _cpu_cell(throughput: dict) -> str:
    """``63.8 (notification 28.1, training 26.1, ...)``: the total, then each service."""
    each = sorted(throughput["service_cpu_ms_per_assessment"].items(), key=lambda kv: -kv[1])
    parts = ", ".join(f"{name} {ms:g}" for name, ms in each)
    return f"{throughput['service_cpu_ms_per_assessment_total']:g} ({parts})"


def _comparisons(runs: list[dict]) -> list[str]:
    """Per replica count measured with two codes: the working tree against the other."""
    lines = []
    for before, after in itertools.pairwise(runs):
        if before["replicas"] != after["replicas"] or before.get("code") == after.get("code"):
            continue
        b, a = before["throughput"], after["throughput"]
        lines.append(
            f"\n{after['replicas']} replica(s), {after.get('code')} against {before.get('code')}: "
            f"settled/s x {a['settled_per_second'] / b['settled_per_second']:.2f}, "
            f"CPU per assessment x "
            f"{after['cpu_ms_per_assessment'] / before['cpu_ms_per_assessment']:.2f} "
            f"({before['cpu_ms_per_assessment']:g} → {after['cpu_ms_per_assessment']:g} ms)."
        )
    return lines


def report(args, runs: list[dict]) -> None:
    result = {
        "assessments": args.assessments,
        "offered_rate": args.rate,
        "offered_seconds": args.duration,
        "import_chunk": args.chunk,
        "settings": dict(args.env),
        "smtp_sink": args.smtp,
        "runs": runs,
    }
    lines = [
        "| code | replicas per service | settled/s | chain msgs/s | baseline msgs/s "
        f"| chain / baseline | p50 / p95 / p99 at {args.rate:g}/s offered (ms) | offer achieved "
        "| CPU ms per assessment: services + PostgreSQL | service CPU ms per assessment "
        "| transactions per assessment |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for run in runs:
        t, lat = run["throughput"], run["latency"]
        base = run.get("baseline", {}).get("messages_per_second")
        ratio = f"{t['chain_messages_per_second'] / base:.0%}" if base else "-"
        database_cpu = round(sum(t["database_cpu_ms_per_assessment"].values()), 1)
        run["cpu_ms_per_assessment"] = round(
            t["service_cpu_ms_per_assessment_total"] + database_cpu, 1
        )
        lines.append(
            f"| {run.get('code', 'working tree')} | {run['replicas']} | "
            f"{t['settled_per_second']:,} | "
            f"{t['chain_messages_per_second']:,.0f} | {f'{base:,}' if base else '-'} | {ratio} | "
            f"{lat['p50_ms']:,} / {lat['p95_ms']:,} / {lat['p99_ms']:,} | "
            f"{lat['achieved_offer_per_second']:g}/s | "
            f"{run['cpu_ms_per_assessment']:g} = {t['service_cpu_ms_per_assessment_total']:g}"
            f" + {database_cpu:g} | {_cpu_cell(t)} | "
            f"{round(sum(t['database_transactions_per_assessment'].values()), 1):g} |"
        )
        if base:
            run["chain_to_baseline"] = round(t["chain_messages_per_second"] / base, 3)
    lines += _comparisons(runs)
    first = runs[0]["throughput"]
    lines.append(
        f"\n{args.assessments:,} assessments imported in files of {args.chunk} rows; "
        f"{first['events_per_assessment']} events published per settled assessment; "
        f"latency over {int(args.rate * args.duration):,} assessments posted one by one.\n"
    )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{args.label}.json").write_text(json.dumps(result, indent=2) + "\n")
    (RESULTS / f"{args.label}.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
