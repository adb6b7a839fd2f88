"""The newcomer's path: `make run` on a machine with only RabbitMQ and PostgreSQL running.

`asn-admin migrate` creates the databases it is given, the Procfile's mail sink keeps the
e-mail, the services trust the Procfile's development OpenID Connect provider, from which
`asn-admin token` gets its tokens, and Ctrl-C ends `make run` quietly, every process with exit
status 0.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import smtplib
import subprocess
import sys
import uuid
from email.message import EmailMessage
from pathlib import Path

import pytest
import requests

from asn_shared import cli, migrations
from asn_testkit.infrastructure import DatabaseServer
from asn_testkit.processes import free_port
from asn_testkit.waiting import wait_for

ROOT = Path(__file__).resolve().parents[1]
SERVICES = ("competency", "training", "budget", "notification")
NOISE = re.compile(r"Warning|Traceback|make: \*\*\*")


@pytest.fixture
def database_names(database_server: DatabaseServer):
    """``database_names(n)``: n unused database names, each dropped after the test."""
    names: list[str] = []

    def make(count: int) -> list[str]:
        names.extend(f"newcomer_{uuid.uuid4().hex[:10]}" for _ in range(count))
        return names[-count:]

    yield make
    for name in names:
        database_server.drop(database_server.url(name))


def test_migrate_creates_a_missing_database_then_leaves_it(
    database_server: DatabaseServer, database_names, monkeypatch, capsys
) -> None:
    url = database_server.url(database_names(1)[0])
    monkeypatch.setenv("COMPETENCY_DATABASE_URL", url)

    cli.main(["migrate", "competency"])
    cli.main(["migrate", "competency"])

    printed = capsys.readouterr().out.splitlines()
    assert printed.count(f"competency: created the database {url}") == 1
    assert printed.count("competency: database at the newest schema") == 2
    from competency import models

    assert migrations.differences(url, models.metadata) == []


def test_migrate_names_a_server_that_does_not_answer_in_one_line() -> None:
    url = f"postgresql://postgres:s3cret-pw@127.0.0.1:{free_port()}/competency"
    finished = subprocess.run(
        [str(Path(sys.executable).parent / "asn-admin"), "migrate", "competency"],
        env={**os.environ, "COMPETENCY_DATABASE_URL": url, "PYTHONWARNINGS": "ignore"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert finished.returncode == 1
    assert finished.stdout == ""
    [line] = finished.stderr.splitlines()
    assert line.startswith(
        "asn-admin migrate: competency: cannot connect to postgresql://postgres:***@127.0.0.1:"
    )
    assert "Connection refused" in line
    assert "s3cret-pw" not in finished.stderr


def test_make_run_creates_databases_delivers_mail_trusts_its_provider_and_stops_quietly(
    amqp_uri: str, database_server: DatabaseServer, database_names, tmp_path: Path
) -> None:
    ports = {service: free_port() for service in SERVICES}
    mail_port, mail_dir, idp_port = free_port(), tmp_path / "mail", free_port()
    portal_port = free_port()
    names = dict(zip(SERVICES, database_names(len(SERVICES)), strict=True))
    env = {
        **{
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("SMTP_", "PYTHONWARN", "AUTH_"))
        },
        "AMQP_URI": amqp_uri,
        "AUTH_JWT_KEY": secrets.token_hex(32),
        "DEVMAIL_PORT": str(mail_port),
        "DEVMAIL_DIR": str(mail_dir),
        "DEVIDP_PORT": str(idp_port),
        "PORTAL_PORT": str(portal_port),
        **{f"{s.upper()}_DATABASE_URL": database_server.url(names[s]) for s in SERVICES},
        **{f"{s.upper()}_HTTP_ADDRESS": f"127.0.0.1:{ports[s]}" for s in SERVICES},
    }
    output = tmp_path / "make-run.log"
    with open(output, "wb") as log:
        # its own process group, which a terminal's Ctrl-C signals as a whole
        make = subprocess.Popen(
            ["make", "--no-print-directory", "-o", ".venv/.installed", "run"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        for service, port in ports.items():
            wait_for(lambda port=port: _healthy(port, make, output), 90, f"{service} to be healthy")
        wait_for(lambda: _healthy(portal_port, make, output), 30, "the portal to be healthy")
        _send_mail(mail_port)
        eml = wait_for(lambda: sorted((mail_dir / "messages").glob("*.eml")), 10, "the mail")
        wait_for(lambda: "Tes sink" in output.read_text(), 10, "the sink's line")
        issuer = f"http://127.0.0.1:{idp_port}"
        admin, agency = (_token(issuer, role) for role in ("admin", "agency"))
        units = _get(ports["competency"], "/units", admin)
        subscriptions = _get(ports["notification"], "/subscriptions", agency)
    finally:
        if make.poll() is None:
            os.killpg(make.pid, signal.SIGINT)
        returncode = make.wait(60)

    text = output.read_text()
    assert b"Subject: Tes sink" in eml[0].read_bytes()
    assert units.status_code == 200, units.text
    assert subscriptions.status_code == 200, subscriptions.text
    assert re.search(r"idp\.1 +\| token for service-account-bps-sumsel \(agency\)", text), text
    assert f'to ana@example.go.id: "Tes sink" {mail_dir}/messages/0001.eml' in text
    assert f"Kompas ASN portal: http://localhost:{portal_port}" in text
    for name in names.values():
        assert f"created the database {database_server.url(name)}" in text
    stopped = re.findall(r"(\w+)\.1 stopped \(rc=(-?\d+)\)", text)
    assert sorted(stopped) == sorted(
        (name, "0") for name in (*SERVICES, "mail", "idp", "portal")
    ), text
    assert not NOISE.search(text), text
    # make ends itself with the SIGINT it received, as after any Ctrl-C; a failed recipe is 2
    assert returncode == -signal.SIGINT, text


def test_a_service_stopped_with_ctrl_c_exits_with_0(database, run_service, broker, vhost) -> None:
    from budget import models

    process = run_service(
        "budget",
        "budget.service:BudgetService",
        ROOT / "services" / "budget" / "config.yaml",
        database(migrations=Path(models.__file__).parent / "migrations"),
    )

    def consuming() -> bool:  # started: every handler queue has its consumer
        handlers = {q: n for q, n in broker.consumers(vhost).items() if q.startswith("evt-")}
        return bool(handlers) and all(n for q, n in handlers.items() if not q.endswith(".retry"))

    wait_for(consuming, timeout=30, what="budget consuming its queues")
    process.process.send_signal(signal.SIGINT)
    assert process.process.wait(30) == 0, process.log()


def _healthy(port: int, make: subprocess.Popen, output: Path) -> bool:
    assert make.poll() is None, f"make run ended early:\n{output.read_text()[-4000:]}"
    try:
        return requests.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def _token(issuer: str, role: str) -> str:
    """What a newcomer runs beside `make run`: `asn-admin token ROLE` from its provider."""
    finished = subprocess.run(
        [str(Path(sys.executable).parent / "asn-admin"), "token", role],
        env={**os.environ, "AUTH_OIDC_ISSUER": issuer, "AUTH_JWT_KEY": ""},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert finished.returncode == 0, finished.stderr
    return finished.stdout.strip()


def _get(port: int, path: str, token: str) -> requests.Response:
    bearer = {"Authorization": f"Bearer {token}"}
    return requests.get(f"http://127.0.0.1:{port}{path}", headers=bearer, timeout=10)


def _send_mail(port: int) -> None:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = (
        "a@localhost",
        "ana@example.go.id",
        "Tes sink",
    )
    message.set_content("Halo.")
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
        smtp.send_message(message)
