"""The dead-letter alert reads RabbitMQ's own Prometheus endpoint: a RabbitMQ node of the test's
own, with the plugin the compose setup and the single-node overlay enable, serves the metric
and labels the alert's expression selects, and promtool evaluates the expression on them."""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import yaml
from k8s_manifests import REPO
from kombu import Connection, Producer, Queue
from prometheus_client.parser import text_string_to_metric_families

from asn_testkit.processes import free_port
from asn_testkit.waiting import wait_for

BIN = Path(os.environ.get("RABBITMQ_BIN", "/usr/lib/rabbitmq/bin"))
ALERTS = REPO / "deploy" / "monitoring" / "prometheus" / "alerts.yml"


class PrivateNode:
    """A RabbitMQ node on ports of its own with the rabbitmq_prometheus plugin; the node on
    5672 is never touched."""

    def __init__(self, folder: Path) -> None:
        self.amqp_port, self.dist_port, self.metrics_port = free_port(), free_port(), free_port()
        self.name = f"deploy-{uuid.uuid4().hex[:8]}@localhost"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / ".erlang.cookie").write_text(uuid.uuid4().hex)
        (folder / ".erlang.cookie").chmod(0o400)
        enabled = (REPO / "deploy" / "rabbitmq" / "enabled_plugins").read_text()
        # the compose file's plugins, less the management UI (its port is the shared node's)
        (folder / "enabled_plugins").write_text(enabled.replace("rabbitmq_management,", ""))
        (folder / "rabbitmq.conf").write_text(
            f"listeners.tcp.default = {self.amqp_port}\nprometheus.tcp.port = {self.metrics_port}\n"
        )
        self.env = {
            **os.environ,
            "HOME": str(folder),
            "RABBITMQ_NODENAME": self.name,
            "RABBITMQ_NODE_PORT": str(self.amqp_port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_CONFIG_FILE": str(folder / "rabbitmq.conf"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(folder / "enabled_plugins"),
            "RABBITMQ_MNESIA_BASE": str(folder / "data"),
            "RABBITMQ_LOG_BASE": str(folder / "log"),
            "RABBITMQ_PID_FILE": str(folder / "pid"),
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "+S 1:1",
            "ERL_EPMD_ADDRESS": "127.0.0.1",
        }
        self.log = open(folder / "server.log", "ab")
        self.process = subprocess.Popen(
            [str(BIN / "rabbitmq-server")], env=self.env, stdout=self.log, stderr=self.log
        )

    @property
    def amqp_uri(self) -> str:
        return f"amqp://guest:guest@localhost:{self.amqp_port}//"

    def detailed(self, family: str) -> str:
        answer = requests.get(
            f"http://localhost:{self.metrics_port}/metrics/detailed",
            params={"family": family},
            timeout=5,
        )
        answer.raise_for_status()
        return answer.text

    def wait_started(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"rabbitmq-server exited with {self.process.returncode}")
            try:
                self.detailed("queue_coarse_metrics")
                return
            except requests.RequestException:
                time.sleep(0.5)
        raise TimeoutError("the private RabbitMQ node did not start")

    def stop(self) -> None:
        subprocess.run(
            [str(BIN / "rabbitmqctl"), "-n", self.name, "stop"],
            env=self.env,
            capture_output=True,
            timeout=60,
        )
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


@pytest.fixture
def private_node(tmp_path) -> Iterator[PrivateNode]:
    node = PrivateNode(tmp_path / "rabbitmq")
    try:
        node.wait_started()
        yield node
    finally:
        node.stop()


def queue_messages(exposition: str) -> dict[tuple[str, str], float]:
    return {
        (sample.labels["vhost"], sample.labels["queue"]): sample.value
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
        if sample.name == "rabbitmq_detailed_queue_messages"
    }


def test_the_dead_letter_alert_selects_what_rabbitmq_exports(private_node, tmp_path) -> None:
    with Connection(private_node.amqp_uri) as connection:
        channel = connection.channel()
        for name in ("budget.dead-letter", "evt-training-proposal.created--budget.on_created"):
            Queue(name, durable=True, channel=channel).declare()
        for _ in range(2):
            Producer(channel).publish(b"{}", exchange="", routing_key="budget.dead-letter")
        Producer(channel).publish(
            b"{}", exchange="", routing_key="evt-training-proposal.created--budget.on_created"
        )

    # the plugin's counts follow the queues' statistics, a few seconds behind
    wait_for(
        lambda: (
            queue_messages(private_node.detailed("queue_coarse_metrics")).get(
                ("/", "budget.dead-letter")
            )
            == 2
        ),
        what="RabbitMQ to export the dead-letter queue's 2 messages",
        timeout=60,
    )
    counts = queue_messages(private_node.detailed("queue_coarse_metrics"))

    (rule,) = [
        rule
        for group in yaml.safe_load(ALERTS.read_text())["groups"]
        for rule in group["rules"]
        if rule["alert"] == "KompasDeadLetterQueueNotEmpty"
    ]
    series = [
        {
            "series": f'rabbitmq_detailed_queue_messages{{vhost="{vhost}", queue="{queue}"}}',
            "values": f"{value:g}x10",
        }
        for (vhost, queue), value in counts.items()
    ]
    test = {
        "rule_files": [],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": series,
                "promql_expr_test": [
                    {
                        "expr": rule["expr"],
                        "eval_time": "5m",
                        "exp_samples": [
                            {"labels": '{vhost="/", queue="budget.dead-letter"}', "value": 2}
                        ],
                    }
                ],
            }
        ],
    }
    path = tmp_path / "exported-test.yml"
    path.write_text(yaml.safe_dump(test))
    checked = subprocess.run(
        ["promtool", "test", "rules", str(path)], capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
