"""A setting the service cannot work with stops it at start, with a message naming the
variable and the values it takes, instead of failing at first use."""

from importlib import import_module
from pathlib import Path

import pytest

from asn_testkit.processes import service_targets

SERVICES_DIR = Path(__file__).resolve().parents[1] / "services"
TARGETS = service_targets()


@pytest.mark.parametrize(
    ("service", "setting", "value", "message"),
    [
        (
            "competency",
            "JPM_SCHEME",
            "rapor",
            "JPM_SCHEME must be one of memenuhi_syarat, optimal; not 'rapor'.",
        ),
        ("competency", "JPM_METHOD", "rata", "JPM_METHOD must be one of ('capped', 'uncapped')"),
        (
            "budget",
            "BUDGET_RESERVATION_POLICY",
            "greedy",
            "BUDGET_RESERVATION_POLICY must be one of all_or_nothing, per_item; not 'greedy'.",
        ),
        ("budget", "BUDGET_THRESHOLDS", "80,150", "BUDGET_THRESHOLDS must be between 1 and 100"),
        (
            "notification",
            "SMTP_TLS",
            "yes",
            "SMTP_TLS must be one of none, starttls, ssl; not 'yes'.",
        ),
        ("training", "QUEUE_TYPE", "stream", "QUEUE_TYPE must be one of classic, quorum"),
    ],
)
def test_a_bad_setting_stops_the_service_at_start_naming_the_variable_and_allowed_values(
    service, setting, value, message, database, run_service
):
    migrations = Path(import_module(service).__file__).parent / "migrations"
    database_url = database(migrations=migrations)
    config = SERVICES_DIR / service / "config.yaml"
    with pytest.raises(RuntimeError) as stopped:
        run_service(service, TARGETS[service], config, database_url, env={setting: value})
    assert f"{service} exited with" in str(stopped.value)
    assert message in str(stopped.value)
