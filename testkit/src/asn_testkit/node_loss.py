"""Node loss under load: the chaos driver's flow and checks (:mod:`.chaos`) on the three-node
cluster with quorum queues, where the disruptions are ``kill -9`` of the RabbitMQ node that
leads the most handler queues, a second one only after the first has rejoined.

One driver, two sizes: ``tests/cluster/test_node_loss.py`` (CI) and
``bench/cluster_node_loss.py``. Besides the chaos run's figures it reports, per kill: the
node; the queues whose leader changed; failover as the services saw it (from each service's
log, the seconds from the kill until its consumers were connected to another node); how
long the chain took to decide one more assessment; and how long the node took to be back
with every queue member online. And, for the run, the seconds from the last kill until the
chain had settled.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .chaos import CHAOS_ENV, ChaosReport, ChaosRun, ChaosSettings, Disruption, Progress
from .cluster import ClusterBroker
from .peers import SmtpServer, WebhookReceiver
from .suite import Suite

NODE = "rabbitmq-node"
NODE_LOSS_ENV = {**CHAOS_ENV, "QUEUE_TYPE": "quorum"}
LOST, CONNECTED = "Connection to broker lost", "Connected to "


def node_loss_plan(moments: tuple[float, ...] = (0.1, 0.4), down: float = 3.0) -> list[Disruption]:
    """A node kill at each share of the assessments decided, each down ``down`` seconds at
    least (the node is restarted once the chain has moved on without it)."""
    return [Disruption(NODE, moment, down) for moment in moments]


@dataclass
class NodeKiller:
    """Kills the busiest leader, waits for the chain to move again, restarts the node and
    waits until every quorum queue has its three members online."""

    broker: ClusterBroker
    vhost: str
    suite: Suite
    progress: Progress
    total: int  # assessments in the run: once all are decided the chain cannot move on
    kills: list[dict[str, Any]] = field(default_factory=list)
    say: Any = print

    def __call__(self, disruption: Disruption) -> None:
        node = self.broker.busiest_leader(self.vhost)
        before = self.broker.leaders(self.vhost)
        self.progress.poll()
        decided, killed, clock = self.progress.decided, time.monotonic(), datetime.now(UTC)
        self.broker.cluster.kill(node)
        self.say(f"node loss: kill -9 of node {node}, {decided} of {self.total} decided")
        time.sleep(disruption.down)
        moved = self._moved_on(decided, killed, timeout=60.0)
        self.broker.cluster.bring_back()
        self.broker.wait_members_online(self.vhost)
        after = self.broker.leaders(self.vhost)
        self.kills.append(
            {
                "node": self.broker.cluster.node(node),
                "killed_at": round(killed, 3),  # time.monotonic(), to relate to the run
                "decided_at_kill": decided,
                "leader_changes": sum(after.get(q) != leader for q, leader in before.items()),
                "services_reconnected_after_s": reconnected_after(self.suite, clock),
                "chain_moved_after_s": moved,
                "node_back_after_s": round(time.monotonic() - killed, 1),
            }
        )
        self.say(f"node loss: {self.kills[-1]}")

    def _moved_on(self, decided: int, killed: float, timeout: float) -> float | None:
        """Seconds from the kill until one more assessment was decided (None: not in time,
        or none was left to decide)."""
        deadline = killed + timeout
        while time.monotonic() < deadline and decided < self.total:
            self.progress.poll()
            if self.progress.decided > decided:
                return round(time.monotonic() - killed, 1)
            time.sleep(0.2)
        return None


def reconnected_after(suite: Suite, since: datetime) -> dict[str, float]:
    """Per service process whose broker connection was lost after ``since``: the seconds
    from ``since`` until its consumers were connected again (to another node)."""
    seconds = {}
    for process in suite.all():
        lost = False
        for entry in _log_entries(process.log(), since):
            message = entry.get("message", "")
            lost = lost or message.startswith(LOST)
            if lost and message.startswith(CONNECTED):
                moment = datetime.fromisoformat(entry["time"].replace("Z", "+00:00"))
                seconds[process.service] = round((moment - since).total_seconds(), 3)
                break
    return seconds


def _log_entries(text: str, since: datetime) -> list[dict[str, Any]]:
    entries = []
    for line in text.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        moment = entry.get("time")
        if moment and datetime.fromisoformat(moment.replace("Z", "+00:00")) >= since:
            entries.append(entry)
    return entries


def run_node_loss(
    suite: Suite,
    broker: ClusterBroker,
    vhost: str,
    smtp: SmtpServer,
    webhook: WebhookReceiver,
    settings: ChaosSettings,
    plan: list[Disruption] | None = None,
    say: Any = print,
) -> tuple[ChaosReport, NodeKiller]:
    """The chaos run with node kills instead of service kills and the broker restart."""
    disruptions = plan or node_loss_plan()
    run = ChaosRun(suite, broker, vhost, smtp, webhook, settings, say, disruptions=disruptions)
    killer = NodeKiller(broker, vhost, suite, Progress(run.api), settings.assessments, say=say)
    run.disruptors[NODE] = killer
    report = run.run()
    figures = report.figures
    figures["node_kills"] = killer.kills
    if killer.kills and "flow_seconds" in figures:
        settled = run.started + figures["flow_seconds"]
        figures["settled_after_last_kill_s"] = round(settled - killer.kills[-1]["killed_at"], 1)
    return report, killer


def summary(report: ChaosReport) -> str:
    f = report.figures
    kills = f["node_kills"]
    failover = [max(k["services_reconnected_after_s"].values(), default=None) for k in kills]
    return (
        f"node loss: {report.settings['assessments']} assessments; node kills {len(kills)} "
        f"({', '.join(k['node'] for k in kills)}); leader changes "
        f"{[k['leader_changes'] for k in kills]}; services on another node after "
        f"{failover} s (slowest); chain moving again after "
        f"{[k['chain_moved_after_s'] for k in kills]} s; node back after "
        f"{[k['node_back_after_s'] for k in kills]} s; events published "
        f"{f['events_published']} (published again {f['events_published_again']}); duplicates "
        f"suppressed {f['duplicates_suppressed']}; settled "
        f"{f.get('settled_after_last_kill_s')} s after the last kill; "
        f"violations {len(report.violations)}"
    )


def markdown(report: ChaosReport) -> str:
    """The chaos run's table and one row per node kill."""
    rows = [
        "| node killed | decided at kill | leader changes | services on another node after "
        "(s) | chain moving again after (s) | node back, all members online after (s) |",
        "|---|---|---|---|---|---|",
    ]
    for kill in report.figures["node_kills"]:
        failover = ", ".join(
            f"{name} {seconds}" for name, seconds in kill["services_reconnected_after_s"].items()
        )
        rows.append(
            f"| {kill['node']} | {kill['decided_at_kill']} | {kill['leader_changes']} | "
            f"{failover or 'none connected to it'} | {kill['chain_moved_after_s']} | "
            f"{kill['node_back_after_s']} |"
        )
    settle = report.figures.get("settled_after_last_kill_s")
    return f"{report.markdown()}\n{chr(10).join(rows)}\n\nsettled {settle} s after the last kill\n"
