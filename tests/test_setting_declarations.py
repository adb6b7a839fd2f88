"""Settings are declared once (asn_shared.settings): read from the environment as their type,
their default when unset or empty, and refused with a message naming the variable and the
values it takes."""

import ipaddress

import pytest

from asn_shared import config, settings
from asn_shared.settings import (
    AdminSettings,
    AuthSettings,
    DevelopmentSettings,
    ServiceSettings,
    SettingError,
    installed_services,
    table,
)
from budget.domain import Policy
from budget.settings import BudgetSettings
from competency.settings import CompetencySettings
from notification.settings import NotificationSettings
from training.settings import TrainingSettings

SERVICES = (CompetencySettings, TrainingSettings, BudgetSettings, NotificationSettings)


def test_unset_and_empty_variables_take_the_declared_defaults():
    unset = NotificationSettings.from_environment({})
    empty = NotificationSettings.from_environment({"SMTP_PORT": "", "AUTH_JWKS_URL": ""})
    assert unset == empty
    assert (unset.smtp_port, unset.dispatch_interval, unset.smtp_user) == (25, 1.0, None)
    assert unset.auth_jwks_url is None and unset.webhook_allow_http is False
    assert unset.auth_roles_claim == ("realm_access.roles", "role")


def test_values_are_read_as_their_declared_types():
    read = NotificationSettings.from_environment(
        {
            "SMTP_PORT": "587",
            "DISPATCH_INTERVAL": "0.25",
            "WEBHOOK_ALLOWED_NETWORKS": "10.20.0.0/16, fd12::/32",
            "WEBHOOK_ALLOW_HTTP": "yes",
            "AUTH_ROLES_CLAIM": " resource_access.kompas-asn.roles ,role",
            "EVENT_MAX_BYTES": "2097152",
        }
    )
    assert read.smtp_port == 587 and read.dispatch_interval == 0.25
    assert read.webhook_allowed_networks == (
        ipaddress.ip_network("10.20.0.0/16"),
        ipaddress.ip_network("fd12::/32"),
    )
    assert read.webhook_allow_http is True and read.event_max_bytes == 2 << 20
    assert read.auth_roles_claim == ("resource_access.kompas-asn.roles", "role")
    budget = BudgetSettings.from_environment({"BUDGET_THRESHOLDS": "100,75"})
    assert budget.rules.thresholds == (75, 100) and budget.rules.policy is Policy.PER_ITEM


def test_a_service_reads_its_own_variables_and_defaults():
    competency = CompetencySettings.from_environment(
        {"COMPETENCY_DATABASE_URL": "postgresql://x/c"}
    )
    assert competency.database_url == "postgresql://x/c"
    assert competency.http_address == "0.0.0.0:8001"
    training = TrainingSettings.from_environment({"COMPETENCY_DATABASE_URL": "postgresql://x/c"})
    assert training.database_url == "postgresql://postgres@127.0.0.1:5432/training"
    other = ServiceSettings.from_environment({"PINGER_HTTP_ADDRESS": ":9"}, service="pinger")
    assert (other.service, other.http_address) == ("pinger", ":9")
    assert other.database_url.endswith("/pinger")


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("MAX_WORKERS", "ten", "MAX_WORKERS must be a whole number, 1 or more; not 'ten'."),
        ("EVENT_MAX_ATTEMPTS", "0", "EVENT_MAX_ATTEMPTS must be a whole number, 1 or more"),
        ("SMTP_PORT", "70000", "SMTP_PORT must be a whole number from 1 to 65535"),
        ("HTTP_MAX_JSON_BYTES", "1.5", "HTTP_MAX_JSON_BYTES must be a number of bytes, 1 or more"),
        ("EVENT_RETRY_DELAY", "-1", "EVENT_RETRY_DELAY must be a number of seconds, 0 or more"),
        ("DISPATCH_INTERVAL", "0", "DISPATCH_INTERVAL must be a number of seconds, more than 0"),
        ("OUTBOX_RETENTION_HOURS", "inf", "must be a number of hours, 0 or more; not 'inf'."),
        ("RETRY_MAX_DELAY", "nan", "RETRY_MAX_DELAY must be a number of seconds"),
        ("LOG_LEVEL", "info", "LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL"),
        ("SMTP_TLS", "yes", "SMTP_TLS must be one of none, starttls, ssl; not 'yes'."),
        ("WEBHOOK_ALLOW_HTTP", "maybe", "WEBHOOK_ALLOW_HTTP must be true or false"),
        ("WEBHOOK_ALLOWED_NETWORKS", "10.0.0.0/33", "WEBHOOK_ALLOWED_NETWORKS takes CIDR ranges"),
        ("AUTH_ROLES_CLAIM", " , ", "AUTH_ROLES_CLAIM must name one claim path or more"),
    ],
)
def test_a_value_out_of_its_kind_is_refused_naming_the_variable_and_its_values(
    variable, value, message
):
    with pytest.raises(SettingError) as refused:
        NotificationSettings.from_environment({variable: value})
    assert message in str(refused.value)


def test_every_refusal_is_named_at_once_and_is_a_runtime_error_too():
    with pytest.raises(RuntimeError) as refused:
        BudgetSettings.from_environment(
            {"BUDGET_THRESHOLDS": "80,150", "QUEUE_TYPE": "stream", "JPM_METHOD": "rata"}
        )
    lines = str(refused.value).splitlines()
    assert len(lines) == 2  # JPM_METHOD is competency's: budget does not read it
    assert lines[0].startswith("QUEUE_TYPE must be one of classic, quorum")
    assert lines[1].startswith("BUDGET_THRESHOLDS must be between 1 and 100")
    with pytest.raises(SettingError, match=r"JPM_METHOD must be one of \('capped', 'uncapped'\)"):
        CompetencySettings.from_environment({"JPM_METHOD": "rata"})


def test_a_process_reads_its_settings_once_and_shares_them(monkeypatch):
    monkeypatch.setattr(settings, "_LOADED", [])
    monkeypatch.delenv("QUEUE_TYPE", raising=False)
    monkeypatch.setenv("SMTP_PORT", "2525")
    loaded = NotificationSettings.load()
    monkeypatch.setenv("SMTP_PORT", "2626")
    assert NotificationSettings.load() is loaded and loaded.smtp_port == 2525
    assert AuthSettings.load() is loaded  # the verifier's view of the same object
    assert ServiceSettings.load(service="pinger") is not loaded
    assert config.queue_type() == "classic"  # one-off reads look at the environment now
    monkeypatch.setenv("QUEUE_TYPE", "quorum")
    assert config.queue_type() == "quorum" and loaded.queue_type == "classic"
    assert config.database_url("budget") == "postgresql://postgres@127.0.0.1:5432/budget"


def test_each_variable_is_declared_once_with_a_one_line_meaning():
    groups = [ServiceSettings, AuthSettings, *SERVICES, AdminSettings, DevelopmentSettings]
    declared = [d for group in groups for d in group.own_declarations().values()]
    variables = [d.variable for d in declared]
    assert sorted(set(variables)) == sorted(variables)
    for declaration in declared:
        assert declaration.meaning.strip() and "\n" not in declaration.meaning, declaration
        assert "|" not in declaration.meaning + (declaration.shown or ""), declaration
    assert set(installed_services()) == set(SERVICES)
    rows = table(SERVICES).splitlines()[2:]
    assert [row.split("`")[1] for row in rows] == variables
