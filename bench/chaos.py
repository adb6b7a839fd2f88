"""The chaos run at size: assessments flow through the chain while every service is killed
with SIGKILL at random moments and restarted, and RabbitMQ is restarted once; once the
chain is quiet its promises are checked (see asn_testkit.chaos, the same driver as
tests/chaos/test_chaos.py, which runs it small in CI).

    .venv/bin/python bench/chaos.py [--assessments 2000] [--kills 8] [--seed N]

Needs a local RabbitMQ (``rabbitmqctl`` on the PATH, or ``RABBITMQCTL="docker exec rabbit
rabbitmqctl"``) with the management plugin, and PostgreSQL. Results go to
bench/results/<label>.json and .md; the exit status is 1 when a promise was broken.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

from asn_testkit.chaos import CHAOS_ENV, ChaosReport, ChaosRun, ChaosSettings
from asn_testkit.infrastructure import Broker, DatabaseServer
from asn_testkit.peers import SmtpServer, WebhookReceiver
from asn_testkit.suite import Suite

ROOT = Path(__file__).resolve().parent.parent
# BENCH_RESULTS: another folder (the CI smoke run writes to a temporary one)
RESULTS = Path(os.environ.get("BENCH_RESULTS") or Path(__file__).parent / "results")


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def settings_from(args: argparse.Namespace) -> ChaosSettings:
    settings = ChaosSettings(
        assessments=args.assessments,
        kills=args.kills,
        units=args.units,
        chunk=args.chunk,
        ahead=args.ahead,
        max_down=args.max_down,
        settle_timeout=args.settle_timeout,
    )
    if args.seed is not None:
        settings.seed = args.seed
    return settings


def run(settings: ChaosSettings, workdir: Path) -> ChaosReport:
    """A fresh virtual host and databases, the peers, the suite; the run; then clean up."""
    containers: list = []
    broker, databases = Broker.discover(containers), DatabaseServer.discover(containers)
    vhost = broker.create_vhost()
    urls = {name: databases.create(path) for name, path in Suite.migrations().items()}
    (workdir / "logs").mkdir(parents=True)
    smtp, webhook = SmtpServer(workdir / "smtp"), WebhookReceiver(workdir / "webhook")
    suite = Suite(
        broker.uri(vhost),
        urls,
        services_dir=ROOT / "services",
        log_dir=workdir / "logs",
        env={**CHAOS_ENV, "SMTP_HOST": smtp.host, "SMTP_PORT": str(smtp.port)},
    )
    try:
        suite.start(timeout=120)
        say(f"suite up; logs in {workdir / 'logs'}")
        return ChaosRun(suite, broker, vhost, smtp, webhook, settings, say=say).run()
    finally:
        suite.stop()
        smtp.stop()
        webhook.stop()
        broker.delete_vhost(vhost)
        for url in urls.values():
            databases.drop(url)
        databases.drop_templates()
        for container in containers:
            container.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assessments", type=int, default=2000)
    parser.add_argument("--kills", type=int, default=8, help="SIGKILLs in all (at least 4)")
    parser.add_argument("--seed", type=int, help="replay the plan of an earlier run")
    parser.add_argument("--units", type=int, default=20)
    parser.add_argument("--chunk", type=int, default=100, help="rows per import file")
    parser.add_argument(
        "--ahead", type=int, default=200, help="assessments recorded but undecided at most"
    )
    parser.add_argument("--max-down", type=float, default=3.0, help="seconds down at most")
    parser.add_argument("--settle-timeout", type=float, default=1200.0)
    parser.add_argument("--label", default="chaos", help="results file name")
    args = parser.parse_args()
    # a terminated run still stops its services and drops its vhost and databases
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    workdir = Path(tempfile.mkdtemp(prefix="chaos-bench-"))
    report = run(settings_from(args), workdir)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{args.label}.json").write_text(report.to_json())
    (RESULTS / f"{args.label}.md").write_text(report.markdown())
    print(report.markdown())
    say(report.summary())
    return 1 if report.violations else 0


if __name__ == "__main__":
    sys.exit(main())
