"""The setup administrators change, without broker or database: webhook subscriptions (the
target policy with a resolver the test gives), officials, rules and templates."""

import uuid
from datetime import timedelta

import pytest

from asn_shared.errors import Conflict, Invalid, NotFound
from notification.domain import BKPSDM_ADMIN, UNIT_OPERATOR
from notification.models import Official, Subscription
from notification.targets import TargetPolicy
from notification.use_cases import setup

PUBLIC = TargetPolicy(resolver=lambda host, port: ["93.184.216.34"])
INTERNAL = TargetPolicy(resolver=lambda host, port: ["10.1.2.3"])


def subscribe(uow, policy=PUBLIC, url="https://bkn.example/hooks", agency=None):
    return setup.subscribe(uow, policy, "BKN", url, ["proposal.*", "proposal.*"], agency)


def test_a_subscription_gets_a_secret_and_its_patterns_once(setup_uow, setup_repo):
    subscription, secret = subscribe(setup_uow)

    assert setup_repo.rows[subscription.id] is subscription and subscription.secret == secret
    assert subscription.patterns == ["proposal.*"] and subscription.active
    assert subscription.created_at == setup_uow.clock.now() and setup_uow.commits == 1


def test_a_webhook_into_the_internal_network_is_refused(setup_uow, setup_repo):
    with pytest.raises(Invalid) as refused:
        subscribe(setup_uow, INTERNAL)
    [message] = refused.value.fields["url"]
    assert message.code == "webhook.address" and setup_repo.rows == {}


def test_a_plain_http_webhook_is_refused_unless_allowed(setup_uow, setup_repo):
    with pytest.raises(Invalid) as refused:
        subscribe(setup_uow, url="http://bkn.example/hooks")
    assert refused.value.fields["url"][0].code == "webhook.scheme"


def test_a_cancelled_subscription_stays_listed_as_inactive(setup_uow, setup_repo):
    first, _ = subscribe(setup_uow, agency="bkn")
    setup_uow.clock.advance(timedelta(minutes=1))
    second, _ = subscribe(setup_uow, agency="bkn")

    setup.cancel_subscription(setup_uow, first.id)

    assert not setup.get_subscription(setup_uow, first.id).active
    active, total = setup.subscription_page(setup_uow, {"active": True}, 1, 10)
    assert (active, total) == ([second], 1)
    every, total = setup.subscription_page(setup_uow, {"agency": "bkn"}, 1, 10)
    assert every == [first, second] and total == 2


def test_an_unknown_subscription_is_not_found(setup_uow):
    with pytest.raises(NotFound):
        setup.get_subscription(setup_uow, uuid.uuid4())
    with pytest.raises(NotFound):
        setup.cancel_subscription(setup_uow, uuid.uuid4())
    assert setup_uow.commits == 0


def official(role=UNIT_OPERATOR, unit_code="KEC-PLAJU"):
    return {
        "role": role,
        "name": "Operator Plaju",
        "email": "op@plaju.example",
        "unit_code": unit_code,
        "language": "id",
    }


def test_a_unit_operator_needs_a_unit(setup_uow, setup_repo):
    with pytest.raises(Invalid) as refused:
        setup.add_official(setup_uow, official(unit_code=None))
    assert "unit_code" in refused.value.fields and setup_repo.rows == {}

    admin = setup.add_official(setup_uow, official(BKPSDM_ADMIN, None))
    assert isinstance(setup_repo.rows[admin.id], Official)


def test_an_official_becoming_a_unit_operator_without_a_unit_is_refused(setup_uow):
    admin = setup.add_official(setup_uow, official(BKPSDM_ADMIN, None))

    with pytest.raises(Invalid):
        setup.change_official(setup_uow, admin.id, {"role": UNIT_OPERATOR})
    assert setup_uow.commits == 1  # the addition only


def test_a_removed_official_is_neither_listed_nor_changed(setup_uow):
    kept = setup.add_official(setup_uow, official())
    removed = setup.add_official(setup_uow, official(unit_code="KEC-ILIR"))

    setup.remove_official(setup_uow, removed.id)

    listed, total = setup.official_page(setup_uow, {"role": UNIT_OPERATOR}, 1, 10)
    assert (listed, total) == ([kept], 1)
    with pytest.raises(NotFound):
        setup.change_official(setup_uow, removed.id, {"name": "Lain"})
    with pytest.raises(NotFound):
        setup.remove_official(setup_uow, uuid.uuid4())


def test_removing_a_subscription_as_an_official_is_not_found(setup_uow):
    subscription, _ = subscribe(setup_uow)

    with pytest.raises(NotFound):
        setup.remove_official(setup_uow, subscription.id)
    assert isinstance(setup.get_subscription(setup_uow, subscription.id), Subscription)


def rule(template="diusulkan", audience="employee"):
    return {
        "event_type": "proposal.created",
        "audience": audience,
        "channels": ["email", "inbox"],
        "template": template,
    }


def test_a_rule_needs_a_template_in_bahasa_indonesia(setup_uow, setup_repo):
    setup.put_template(setup_uow, "diusulkan", "en", "Proposed", "{{ employee.name }}")

    with pytest.raises(Invalid) as refused:
        setup.add_rule(setup_uow, rule())
    assert "template" in refused.value.fields

    setup.put_template(setup_uow, "diusulkan", "id", "Diusulkan", "{{ employee.name }}")
    added = setup.add_rule(setup_uow, rule())
    assert added.active and setup.list_rules(setup_uow) == [added]


def test_a_second_rule_for_the_same_event_and_audience_is_a_conflict(setup_uow):
    setup.put_template(setup_uow, "diusulkan", "id", "Diusulkan", "Halo")
    setup.add_rule(setup_uow, rule())

    with pytest.raises(Conflict) as refused:
        setup.add_rule(setup_uow, rule())
    assert refused.value.code == "conflict"


def test_a_rule_for_an_event_not_listened_to_is_invalid(setup_uow):
    with pytest.raises(Invalid) as refused:
        setup.add_rule(setup_uow, {**rule(), "event_type": "unit.registered"})
    assert "event_type" in refused.value.fields


def test_a_rule_changes_only_to_an_existing_template(setup_uow):
    setup.put_template(setup_uow, "diusulkan", "id", "Diusulkan", "Halo")
    added = setup.add_rule(setup_uow, rule())

    with pytest.raises(Invalid):
        setup.change_rule(setup_uow, added.id, {"template": "tidak-ada"})
    changed = setup.change_rule(setup_uow, added.id, {"active": False})
    assert changed.active is False and changed.template == "diusulkan"
    with pytest.raises(NotFound):
        setup.change_rule(setup_uow, 999, {"active": True})


def test_a_template_that_does_not_compile_is_refused_naming_the_field(setup_uow, setup_repo):
    with pytest.raises(Invalid) as refused:
        setup.put_template(setup_uow, "diusulkan", "id", "Diusulkan", "{% if %}")
    assert list(refused.value.fields) == ["body"] and setup_repo.the_templates == {}


def test_a_template_in_an_unknown_language_is_not_found(setup_uow):
    with pytest.raises(NotFound):
        setup.put_template(setup_uow, "diusulkan", "jv", "Diusulke", "Halo")


def test_a_template_is_replaced_in_place(setup_uow):
    setup.put_template(setup_uow, "diusulkan", "id", "Diusulkan", "Halo")
    setup.put_template(setup_uow, "diusulkan", "id", "Usulan baru", "Halo lagi")

    [template] = setup.list_templates(setup_uow)
    assert (template.subject, template.body) == ("Usulan baru", "Halo lagi")
