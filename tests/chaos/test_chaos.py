"""The chaos run in CI: 200 assessments flow through the four services while each
service is killed with SIGKILL at random moments (6 kills, every service at least once) and
restarted, and RabbitMQ is stopped and started once (``rabbitmqctl stop_app`` / ``start_app``,
so the broker must be local). Once the chain is quiet, its promises are checked through the
services' HTTP APIs and, for what each announced, their outboxes (asn_testkit.chaos and
asn_testkit.inspection): one current proposal per assessment, one budget decision per
proposal, no over-commitment and ledger sums that agree, each expected notification delivered
once per channel, empty dead-letter queues. The one tolerated copy is
an e-mail or webhook sent again by a notification process killed after the peer accepted it
and before it recorded that; those are counted. ``CHAOS_SEED=<n>`` replays a plan;
``bench/chaos.py`` is the long version (2,000 assessments). Figures: printed with ``-s`` and
written to ``chaos.json`` in the test's tmp dir."""

import os
import random

import pytest

from asn_testkit.chaos import CHAOS_ENV, ChaosRun, ChaosSettings

ASSESSMENTS = 200  # about 3 a second settle through the chaos on a loaded 2-core machine
KILLS = 6


@pytest.mark.broker_restart
def test_every_promise_holds_after_kill_9_of_each_service_and_a_broker_restart(
    suite, broker, vhost, smtp_server, webhook_receiver, tmp_path
):
    seed = int(os.environ.get("CHAOS_SEED") or random.SystemRandom().randrange(1_000_000))
    settings = ChaosSettings(assessments=ASSESSMENTS, kills=KILLS, seed=seed)
    webhook = webhook_receiver()
    env = {**CHAOS_ENV, "SMTP_HOST": smtp_server.host, "SMTP_PORT": str(smtp_server.port)}
    running = suite(env=env)

    report = ChaosRun(running, broker, vhost, smtp_server, webhook, settings).run()

    (tmp_path / "chaos.json").write_text(report.to_json())
    print(f"\n{report.summary()}\n{report.markdown()}")
    figures = report.figures
    assert report.violations == [], f"{report.summary()}\n" + "\n".join(report.violations[:40])
    assert figures["settled"] and figures["assessments_recorded"] == ASSESSMENTS
    assert sum(figures["kills"].values()) == KILLS and min(figures["kills"].values()) >= 1
    assert figures["service_restarts"] == KILLS and figures["broker_restarts"] == 1
    # every assessment went the whole way: recorded, proposed, decided, told
    assert figures["events_published_by_type"]["proposal.created"] >= ASSESSMENTS
    # one e-mail per delivery, and a copy only where notification died after sending
    resent = figures["emails_resent_after_a_kill"]
    assert figures["emails_received"] == figures["deliveries"]["email"] + resent
