"""What a deployment is told about settings agrees with their declarations: each config.yaml
hands nameko the declared variables with the declared defaults, README's table is what
``python -m asn_shared.settings`` prints, and a running service obeys and checks them."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from importlib import import_module
from pathlib import Path

import pytest
import yaml

from asn_shared.settings import Settings, documented
from asn_testkit.auth import admin_http
from asn_testkit.processes import service_targets

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
SERVICES = service_targets()
REFERENCE = re.compile(r"\$\{(?P<variable>[^}:\s]+)(?::(?P<default>[^}]*))?\}")
QUIET = {**os.environ, "PYTHONWARNINGS": "ignore"}


def settings_class(service: str) -> type[Settings]:
    module, _, name = SERVICES[service].partition(":")
    return getattr(import_module(module), name).settings_class


def references(node, path: tuple[str, ...] = ()):
    """(dotted key, variable, default) of every ``${VARIABLE:default}`` value in ``node``."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from references(value, (*path, str(key)))
    elif isinstance(node, str) and (found := REFERENCE.fullmatch(node)):
        yield ".".join(path), found["variable"], found["default"]


def disagreements(settings: type[Settings], text: str) -> list[str]:
    """Where a config.yaml's text differs from the declarations that name a nameko key."""
    marks = settings.marks()
    declared = {d.nameko: d for d in settings.declarations().values() if d.nameko}
    found = {
        key: (variable, default) for key, variable, default in references(yaml.safe_load(text))
    }
    problems = [f"{key}: no declaration hands it to nameko" for key in set(found) - set(declared)]
    problems += [f"{key}: missing from config.yaml" for key in set(declared) - set(found)]
    if text.count("${") != len(found):
        problems.append("a ${...} that is not a whole value")
    for key in set(found) & set(declared):
        (variable, default), declaration = found[key], declared[key]
        if variable != declaration.name(marks):
            problems.append(f"{key}: reads {variable}, declared {declaration.name(marks)}")
        elif default is None:
            problems.append(f"{key}: {variable} without a default")
        elif declaration.kind.parse(variable, default) != declaration.default_for(marks):
            problems.append(f"{key}: {variable} defaults to {default!r} here")
    return sorted(problems)


@pytest.mark.parametrize("service", SERVICES)
def test_config_yaml_hands_nameko_the_declared_variables_and_defaults(service):
    text = (ROOT / "services" / service / "config.yaml").read_text()
    settings = settings_class(service)
    assert disagreements(settings, text) == []

    port = str(settings.port)
    assert disagreements(settings, text.replace(f":0.0.0.0:{port}}}", ":0.0.0.0:8000}")) == [
        f"WEB_SERVER_ADDRESS: {service.upper()}_HTTP_ADDRESS defaults to '0.0.0.0:8000' here"
    ]
    assert disagreements(settings, text.replace("${MAX_WORKERS:10}", "${WORKERS:10}")) == [
        "max_workers: reads WORKERS, declared MAX_WORKERS"
    ]
    assert disagreements(settings, text + "QUEUE_TYPE: ${QUEUE_TYPE:classic}\n") == [
        "QUEUE_TYPE: no declaration hands it to nameko"
    ]


def settings_command(*arguments: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "asn_shared.settings", *arguments]
    return subprocess.run(command, capture_output=True, text=True, env=QUIET, timeout=120)


def test_readme_configuration_table_is_what_the_command_prints(tmp_path):
    printed = settings_command()
    assert printed.returncode == 0, printed.stderr
    assert documented(README.read_text()) == printed.stdout

    stale = tmp_path / "README.md"
    stale.write_text(
        README.read_text().replace("| `MAX_WORKERS` | `10` |", "| `MAX_WORKERS` | `12` |")
    )
    checked = settings_command("--check", str(stale))
    assert checked.returncode == 1 and "out of date" in checked.stderr


def start(service: str, run_service, database, env: dict[str, str], **options):
    migrations = Path(import_module(service).__file__).parent / "migrations"
    config = ROOT / "services" / service / "config.yaml"
    url = database(migrations=migrations)
    return run_service(service, SERVICES[service], config, url, env=env, **options)


@pytest.mark.parametrize(
    ("service", "env", "messages"),
    [
        (
            "training",
            {"EVENT_MAX_ATTEMPTS": "0"},
            ["EVENT_MAX_ATTEMPTS must be a whole number, 1 or more; not '0'."],
        ),
        (
            "notification",
            {"DISPATCH_INTERVAL": "often", "SMTP_PORT": "0"},
            [
                "SMTP_PORT must be a whole number from 1 to 65535; not '0'.",
                "DISPATCH_INTERVAL must be a number of seconds, more than 0; not 'often'.",
            ],
        ),
    ],
)
def test_values_out_of_range_stop_the_service_at_start_naming_each(
    service, env, messages, run_service, database
):
    with pytest.raises(RuntimeError) as stopped:
        start(service, run_service, database, env)
    assert f"{service} exited with" in str(stopped.value)
    for message in messages:
        assert message in str(stopped.value)


def test_a_service_takes_the_http_limits_from_its_environment(run_service, database):
    training = start(
        "training",
        run_service,
        database,
        {"HTTP_MAX_JSON_BYTES": "64", "HTTP_MAX_BODY_BYTES": "4096"},
    )
    programme = {"code": "P-LIMIT", "name": "x" * 100}
    refused = admin_http.post(f"{training.url}/programmes", json=programme)
    assert refused.status_code == 413 and refused.json()["limit_bytes"] == 64
    body = admin_http.post(f"{training.url}/programmes", data=b"x" * 5000)
    assert body.status_code == 413 and body.json()["limit_bytes"] == 4096
