"""Webhook targets: public addresses over https unless the deployment opens more, checked at
registration after DNS resolution and again on the address a delivery actually reached."""

import pytest

from asn_shared.config import SettingError
from asn_testkit.auth import admin_http
from asn_testkit.waiting import wait_for
from notification.channels import DeliveryError, Webhook, WebhookSender
from notification.targets import TargetPolicy, TargetRefused, parse_flag, parse_networks

STRICT = {"WEBHOOK_ALLOWED_NETWORKS": "", "WEBHOOK_ALLOW_HTTP": "false"}


def resolving_to(*addresses: str):
    return lambda host, port: list(addresses)


def refusal(policy: TargetPolicy, url: str) -> str | None:
    try:
        policy.check_url(url)
    except TargetRefused as exc:
        return exc.message.code
    return None


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",  # loopback
        "10.1.2.3",  # private
        "172.16.0.9",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata (link-local)
        "100.64.0.1",  # carrier-grade NAT
        "0.0.0.0",
        "::1",
        "fe80::1",
        "fd00:ec2::254",  # metadata over IPv6 (unique local)
        "::ffff:10.0.0.1",  # a private IPv4 address in IPv6 dress
    ],
)
def test_internal_addresses_are_refused(address):
    policy = TargetPolicy(resolver=resolving_to(address))
    assert refusal(policy, "https://hooks.agency.example/events") == "webhook.address"


def test_a_name_resolving_to_one_internal_address_among_public_ones_is_refused():
    policy = TargetPolicy(resolver=resolving_to("1.1.1.1", "2606:4700::1111", "10.0.0.5"))
    assert refusal(policy, "https://hooks.agency.example/events") == "webhook.address"
    assert refusal(TargetPolicy(resolver=resolving_to("1.1.1.1")), "https://a.example/") is None


def test_https_is_required_unless_http_is_allowed():
    public = resolving_to("1.1.1.1")
    assert refusal(TargetPolicy(resolver=public), "http://hooks.example/") == "webhook.scheme"
    allowed = TargetPolicy(allow_http=True, resolver=public)
    assert refusal(allowed, "http://hooks.example/") is None
    assert refusal(allowed, "ftp://hooks.example/") == "webhook.scheme"


def test_allowed_networks_open_an_intranet_range_and_no_more():
    networks = parse_networks("10.20.0.0/16, fd12:3456::/32")
    policy = TargetPolicy(networks, resolver=resolving_to("10.20.4.5"))
    assert refusal(policy, "https://siasn.palembang.go.id/hook") is None
    inside = TargetPolicy(policy.allowed_networks, resolver=resolving_to("10.21.0.1"))
    assert refusal(inside, "https://siasn.palembang.go.id/hook") == "webhook.address"


def test_a_name_that_does_not_resolve_is_refused():
    def nowhere(host, port):
        raise OSError("Name or service not known")

    policy = TargetPolicy(resolver=nowhere)
    assert refusal(policy, "https://nowhere.invalid/") == "webhook.unresolved"


@pytest.mark.parametrize(
    ("networks", "allow_http", "named"),
    [("10.0.0.0/33", "false", "WEBHOOK_ALLOWED_NETWORKS"), ("", "maybe", "WEBHOOK_ALLOW_HTTP")],
)
def test_settings_that_mean_nothing_stop_the_service(networks, allow_http, named):
    with pytest.raises(SettingError, match=named):
        TargetPolicy(parse_networks(networks), parse_flag("WEBHOOK_ALLOW_HTTP", allow_http))


def test_delivery_checks_the_address_it_reached_not_the_one_it_was_told(webhook_receiver):
    """A name that resolved to a public address at the check but leads to loopback when
    connecting (DNS rebinding) is refused before a byte is sent."""
    receiver = webhook_receiver()
    url = receiver.url.replace("127.0.0.1", "localhost")
    webhook = Webhook("d-1", "budget.rejected", url, b"{}", "secret")
    told_public = resolving_to("1.1.1.1")
    sender = WebhookSender(timeout=5, policy=TargetPolicy(allow_http=True, resolver=told_public))

    with pytest.raises(DeliveryError, match=r"webhook\.address") as refused:
        sender.send(webhook)
    assert refused.value.permanent and receiver.requests() == []

    opened = TargetPolicy(parse_networks("127.0.0.0/8, ::1/128"), allow_http=True)
    receiver.trust("secret")
    WebhookSender(timeout=5, policy=opened).send(webhook)
    assert [r["status"] for r in receiver.requests()] == [200]


def test_registration_refuses_internal_targets_and_stores_nothing(start_notification):
    service = start_notification(**STRICT)
    cases = {
        "http://hooks.example.com/events": "webhook.scheme",
        "https://localhost:8443/events": "webhook.address",
        "https://169.254.169.254/latest/meta-data": "webhook.address",
        "https://tidak-ada.invalid/events": "webhook.unresolved",
    }
    for url, code in cases.items():
        answer = admin_http.post(
            f"{service.url}/subscriptions",
            json={"name": "Inspektorat", "url": url, "patterns": ["#"]},
            timeout=10,
        )
        assert answer.status_code == 400, answer.text
        problem = answer.json()
        assert problem["error_codes"] == {"url": [code]}, url
        assert list(problem["errors"]) == ["url"]
    listed = admin_http.get(f"{service.url}/subscriptions", timeout=5).json()
    assert listed["total"] == 0


def test_a_target_refused_since_registration_is_parked_not_called(
    start_notification, publish_event, webhook_receiver, samples
):
    first = start_notification()  # the harness allows loopback over http
    receiver = webhook_receiver()
    url = receiver.url.replace("127.0.0.1", "localhost")
    created = admin_http.post(
        f"{first.url}/subscriptions",
        json={"name": "Inspektorat", "url": url, "patterns": ["budget.*"]},
        timeout=5,
    )
    assert created.status_code == 201, created.text
    first.stop()

    service = start_notification(WEBHOOK_ALLOWED_NETWORKS="", WEBHOOK_ALLOW_HTTP="true")
    publish_event("budget.rejected", samples.budget_rejected())

    def parked():
        answer = admin_http.get(f"{service.url}/deliveries", params={"status": "parked"})
        return answer.json()["items"]

    [delivery] = wait_for(parked, what="the refused webhook parked")
    assert delivery["channel"] == "webhook" and delivery["attempts"] == 1
    assert delivery["last_error"].startswith("webhook.address")
    assert receiver.requests() == []
