"""Node loss under load, in CI: a small number of assessments flow through the four services
(``nameko run`` processes with quorum queues and the three nodes in ``AMQP_URI``) while the
node leading the most handler queues is killed with SIGKILL, and later, after it rejoined,
the node leading the most then; each is restarted. When the chain has settled, the chaos
run's checks hold (see asn_testkit.chaos). Meanwhile an agency's follower reads the
event stream through the same kills: it printed every event published, each offset once.
``bench/cluster_node_loss.py`` is the longer run. Figures: printed with ``-s``, and written
to ``node-loss.json`` in the test's tmp dir."""

import json
import os
import signal
import subprocess
import sys

from kombu import Connection

from asn_shared.messaging import declare_event_stream
from asn_testkit import inspection
from asn_testkit.chaos import SERVICES, ChaosSettings
from asn_testkit.node_loss import (
    NODE_LOSS_ENV,
    markdown,
    node_loss_plan,
    run_node_loss,
    summary,
)
from asn_testkit.waiting import wait_for

ASSESSMENTS = 200


def test_the_chain_keeps_every_promise_when_rabbitmq_nodes_are_killed(
    cluster, broker, vhost, amqp_uri, suite, smtp_server, webhook_receiver, tmp_path
):
    with Connection(amqp_uri) as connection:
        declare_event_stream(connection, SERVICES)
    webhook = webhook_receiver()
    env = {**NODE_LOSS_ENV, "SMTP_HOST": smtp_server.host, "SMTP_PORT": str(smtp_server.port)}
    running = suite(env=env)
    cursor, output = tmp_path / "cursor", tmp_path / "stream.jsonl"
    follower = subprocess.Popen(
        [sys.executable, "-m", "asn_shared.cli", "follow", "--cursor", str(cursor)],
        env={**os.environ, "AMQP_URI": amqp_uri},
        stdout=output.open("w"),
        stderr=(tmp_path / "follower.log").open("w"),
    )
    settings = ChaosSettings(
        assessments=ASSESSMENTS,
        kills=len(SERVICES),
        seed=0,
        chunk=10,
        ahead=20,
        rate=2.5,  # 80 s of flow at least: a node rejoins in 15 to 60 s, then the second kill
        settle_timeout=180,
    )
    try:
        plan = node_loss_plan((0.1, 0.4))
        report, killer = run_node_loss(running, broker, vhost, smtp_server, webhook, settings, plan)
        published = outbox_ids(running)
        wait_for(lambda: published <= printed_ids(output), timeout=60, what="the stream read")
    finally:
        follower.send_signal(signal.SIGTERM)
        follower.wait(30)

    (tmp_path / "node-loss.json").write_text(report.to_json())
    print(f"\n{summary(report)}\n{markdown(report)}")
    assert report.violations == [], summary(report) + "\n" + "\n".join(report.violations[:40])
    figures = report.figures
    assert figures["settled"] and figures["assessments_recorded"] == ASSESSMENTS
    assert figures["events_published_by_type"]["proposal.created"] >= ASSESSMENTS
    # both kills under load, each leader of handler queues, and the services moved away
    assert len(killer.kills) == 2
    for kill in killer.kills:
        assert kill["decided_at_kill"] < ASSESSMENTS and kill["chain_moved_after_s"], kill
        assert kill["leader_changes"] > 0, kill
    assert killer.kills[0]["services_reconnected_after_s"].keys() == set(SERVICES)
    # only batches in flight at a kill, or refused meanwhile, are published again (once or
    # twice), not every batch at the relay's polling pace while the node is down
    assert figures["events_published_again"] < figures["events_published"] // 10
    # the follower: every event published, and each offset of the stream printed once
    lines = output.read_text().splitlines()
    assert int(cursor.read_text()) == len(lines)


def outbox_ids(suite) -> set[str]:
    """The id of every event the services published."""
    return {
        event.id for name in SERVICES for event in inspection.announcements(suite.databases[name])
    }


def printed_ids(output) -> set[str]:
    return {json.loads(line)["id"] for line in output.read_text().splitlines() if line.strip()}
