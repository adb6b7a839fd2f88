"""The three-node RabbitMQ cluster of ``deploy/rabbitmq/cluster.sh`` in tests and benchmarks:
start it, kill a node with SIGKILL and bring it back, see which node leads which queue.

The node already running on 5672 is never touched: the cluster has its own nodes and ports.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import requests

from .infrastructure import Broker

SCRIPT = Path(__file__).resolve().parents[3] / "deploy" / "rabbitmq" / "cluster.sh"


@dataclass
class Cluster:
    """``deploy/rabbitmq/cluster.sh`` and what it started."""

    script: Path = SCRIPT
    started_here: bool = False

    def _run(self, *args: str, timeout: float = 300.0) -> str:
        command = f"cluster.sh {' '.join(args)}"
        try:
            done = subprocess.run(
                [str(self.script), *args], capture_output=True, text=True, timeout=timeout
            )
        except subprocess.TimeoutExpired as exc:
            raise RuntimeError(f"{command}: not done in {timeout:.0f}s{self._logs()}") from exc
        if done.returncode != 0:
            raise RuntimeError(f"{command}: {done.stdout}{done.stderr}{self._logs()}")
        return done.stdout.strip()

    def _logs(self) -> str:
        """The end of each node's log, to tell why a node did not start or join."""
        folder = Path(os.environ.get("KOMPAS_CLUSTER_DIR", "/tmp/kompas-rabbitmq-cluster"))
        tails = [
            f"\n--- {log}\n{log.read_text(errors='replace')[-1500:]}"
            for log in sorted(folder.glob("node-*/log/*.log"))
        ]
        return "".join(tails)

    def running(self) -> bool:
        return subprocess.run([str(self.script), "status"], capture_output=True).returncode == 0

    def start(self) -> Cluster:
        """Start whatever node is down and join it (idempotent); wait until all run. When
        the cluster was not running, it counts as started here (for the caller to stop)."""
        self.started_here = self.started_here or not self.running()
        return self.bring_back()

    def bring_back(self) -> Cluster:
        """Start the nodes that are down (a killed one, say) and wait until all run."""
        self._run("start")
        return self

    def stop(self) -> None:
        self._run("stop")

    def node_uris(self) -> list[str]:
        return self._run("uri").split(";")

    def management_urls(self) -> list[str]:
        port = int(os.environ.get("KOMPAS_CLUSTER_MANAGEMENT_PORT", 15681))
        return [f"http://localhost:{port + n}" for n in range(len(self.node_uris()))]

    def node(self, n: int) -> str:
        name = os.environ.get("KOMPAS_CLUSTER_NAME", "kompas")
        return f"{name}-{n}@{os.environ.get('KOMPAS_CLUSTER_HOST', 'localhost')}"

    def kill(self, n: int) -> None:
        """SIGKILL node ``n``'s Erlang VM: no goodbye to its peers or its clients."""
        os.kill(int(self._run("pid", str(n))), signal.SIGKILL)

    def broker(self) -> ClusterBroker:
        uris = self.node_uris()
        return ClusterBroker(uris[0], self.management_urls()[0], nodes=uris, cluster=self)


@contextmanager
def running_cluster(keep: bool = False) -> Iterator[Cluster]:
    """The cluster, started when it is down; stopped and removed afterwards when it was
    started here, unless ``keep``."""
    cluster = Cluster().start()
    try:
        yield cluster
    finally:
        if cluster.started_here and not keep:
            cluster.stop()


@dataclass
class ClusterBroker(Broker):
    """The cluster as the test harness's broker: a virtual host's URI names every node
    (kombu's failover list), and the management API is asked of the first node that answers."""

    nodes: list[str] = field(default_factory=list)
    cluster: Cluster | None = None

    def uri(self, vhost: str) -> str:
        return ";".join(f"{node.rstrip('/')}/{quote(vhost, safe='')}" for node in self.nodes)

    def user_uri(self, vhost: str, user: str, password: str) -> str:
        """``uri(vhost)`` with another user's credentials, as that user would be given it."""
        credentials = f"{quote(user, safe='')}:{quote(password, safe='')}"
        return ";".join(
            urlunsplit(parts._replace(netloc=f"{credentials}@{parts.hostname}:{parts.port}"))
            for parts in map(urlsplit, self.uri(vhost).split(";"))
        )

    def _api(self, method: str, path: str, **kwargs) -> requests.Response:
        error: Exception | None = None
        for url in self.cluster.management_urls():
            try:
                response = requests.request(
                    method,
                    f"{url}/api/{path}",
                    auth=(self.user, self.password),
                    timeout=10,
                    **kwargs,
                )
            except requests.ConnectionError as exc:  # that node is down: the next
                error = exc
                continue
            response.raise_for_status()
            return response
        raise error

    def leaders(self, vhost: str) -> dict[str, str]:
        """Each quorum and stream queue of ``vhost`` and the node that leads it."""
        queues = self._api("GET", f"queues/{quote(vhost, safe='')}?columns=name,type,leader").json()
        return {q["name"]: q["leader"] for q in queues if q.get("leader")}

    def busiest_leader(self, vhost: str) -> int:
        """The node (1, 2, 3) that leads the most handler queues of ``vhost``."""
        counts = Counter(
            leader for name, leader in self.leaders(vhost).items() if name.startswith("evt-")
        )
        leader = counts.most_common(1)[0][0]
        return next(n for n in (1, 2, 3) if self.cluster.node(n) == leader)

    def wait_members_online(self, vhost: str, timeout: float = 180.0) -> None:
        """Until every quorum queue of ``vhost`` has all its members online again."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                queues = self._api(
                    "GET", f"queues/{quote(vhost, safe='')}?columns=name,type,members,online"
                ).json()
                lagging = [
                    q["name"]
                    for q in queues
                    if q.get("type") == "quorum" and len(q.get("online", [])) < 3
                ]
            except requests.RequestException as exc:
                lagging = [str(exc)]
            if not lagging:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"queue members still offline: {lagging[:5]}")
            time.sleep(1.0)


def add_agency(broker: ClusterBroker, vhost: str, name: str, password: str) -> str:
    """``asn-admin broker-users --agency NAME`` in ``vhost``, as an operator runs it: the
    agency's failover URI. The command's output is checked to hold no password."""
    variable = "".join(c if c.isalnum() else "_" for c in name.upper()) + "_AMQP_PASSWORD"
    made = subprocess.run(
        [sys.executable, "-m", "asn_shared.cli", "broker-users", "--agency", name],
        env={
            **os.environ,
            "AMQP_URI": broker.uri(vhost),
            "RABBITMQ_MANAGEMENT_URL": broker.management_url,
            variable: password,
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    if made.returncode != 0 or password in made.stdout + made.stderr:
        raise RuntimeError(f"broker-users --agency {name}: {made.stderr[-2000:]}")
    return broker.user_uri(vhost, name, password)
