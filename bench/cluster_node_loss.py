"""Node loss under load, at size: assessments flow through the four services on the
three-node cluster of deploy/rabbitmq/cluster.sh (quorum queues, the event stream, the
three nodes in AMQP_URI) while the RabbitMQ node leading the most handler queues is killed
with SIGKILL, and after it rejoined the one leading the most then; each is restarted. Once
the chain is quiet the chaos run's promises are checked (asn_testkit.node_loss, the
same driver as tests/cluster/test_node_loss.py, which runs it small in CI).

    .venv/bin/python bench/cluster_node_loss.py [--assessments 1000] [--kills 2]

Starts the cluster when it is not running (and stops it afterwards unless --keep-cluster);
never touches the node on 5672. Needs PostgreSQL. Results go to bench/results/<label>.json
and .md (or $BENCH_RESULTS); the exit status is 1 when a promise was broken.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from kombu import Connection

from asn_shared.messaging import declare_event_stream
from asn_testkit.chaos import SERVICES, ChaosReport, ChaosSettings
from asn_testkit.cluster import ClusterBroker, running_cluster
from asn_testkit.infrastructure import DatabaseServer
from asn_testkit.node_loss import (
    NODE_LOSS_ENV,
    markdown,
    node_loss_plan,
    run_node_loss,
    summary,
)
from asn_testkit.peers import SmtpServer, WebhookReceiver
from asn_testkit.suite import Suite

ROOT = Path(__file__).resolve().parent.parent
# BENCH_RESULTS: another folder (the CI smoke run writes to a temporary one)
RESULTS = Path(os.environ.get("BENCH_RESULTS") or Path(__file__).parent / "results")


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def moments(kills: int) -> tuple[float, ...]:
    """Shares of the assessments decided at which the kills happen: from 10 % to 60 %."""
    if kills == 1:
        return (0.1,)
    return tuple(round(0.1 + 0.5 * n / (kills - 1), 2) for n in range(kills))


def run(args: argparse.Namespace, broker: ClusterBroker, workdir: Path) -> ChaosReport:
    """A fresh virtual host and databases, the peers, the suite; the run; then clean up
    (in the reverse order, whatever failed)."""
    with ExitStack() as cleanup:
        databases = DatabaseServer.discover([])
        cleanup.callback(databases.drop_templates)
        vhost = broker.create_vhost()
        cleanup.callback(broker.delete_vhost, vhost)
        urls = {name: databases.create(path) for name, path in Suite.migrations().items()}
        for url in urls.values():
            cleanup.callback(databases.drop, url)
        smtp, webhook = SmtpServer(workdir / "smtp"), WebhookReceiver(workdir / "webhook")
        cleanup.callback(smtp.stop)
        cleanup.callback(webhook.stop)
        (workdir / "logs").mkdir(parents=True)
        env = {**NODE_LOSS_ENV, "SMTP_HOST": smtp.host, "SMTP_PORT": str(smtp.port)}
        suite = Suite(
            broker.uri(vhost),
            urls,
            services_dir=ROOT / "services",
            log_dir=workdir / "logs",
            env=env,
        )
        cleanup.callback(suite.stop)
        with Connection(suite.amqp_uri) as connection:  # replicated on the cluster, as deployed
            declare_event_stream(connection, SERVICES)
        suite.start(timeout=120)
        say(f"suite up on {len(broker.nodes)} nodes; logs in {workdir / 'logs'}")
        settings = ChaosSettings(
            assessments=args.assessments,
            kills=len(SERVICES),  # unused: the plan is node kills only
            units=args.units,
            chunk=args.chunk,
            ahead=args.ahead,
            rate=args.rate,
            settle_timeout=args.settle_timeout,
            seed=0,
        )
        plan = node_loss_plan(moments(args.kills), down=args.down)
        report, _ = run_node_loss(suite, broker, vhost, smtp, webhook, settings, plan, say=say)
        return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assessments", type=int, default=1000)
    parser.add_argument("--kills", type=int, default=2, help="node kills, one after another")
    parser.add_argument("--down", type=float, default=3.0, help="seconds a node stays down")
    parser.add_argument("--units", type=int, default=20)
    parser.add_argument("--chunk", type=int, default=50, help="rows per import file")
    parser.add_argument(
        "--ahead", type=int, default=100, help="assessments recorded but undecided at most"
    )
    parser.add_argument("--rate", type=float, help="assessments imported per second at most")
    parser.add_argument("--settle-timeout", type=float, default=900.0)
    parser.add_argument("--label", default="cluster-node-loss", help="results file name")
    parser.add_argument("--keep-cluster", action="store_true", help="leave the cluster running")
    args = parser.parse_args()
    # a terminated run still stops its services and drops its vhost and databases
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with running_cluster(keep=args.keep_cluster) as cluster:
        report = run(args, cluster.broker(), Path(tempfile.mkdtemp(prefix="node-loss-bench-")))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{args.label}.json").write_text(report.to_json())
    (RESULTS / f"{args.label}.md").write_text(markdown(report))
    print(markdown(report))
    say(summary(report))
    return 1 if report.violations else 0


if __name__ == "__main__":
    sys.exit(main())
