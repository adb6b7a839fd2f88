"""No secret reaches a log line: bearer tokens, JWTs, passwords in URLs and the values of the
secret settings are redacted wherever they occur, in a formatter and in a running service."""

import io
import json
import logging
import secrets
import time
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import jwt
import pytest
import requests
from sqlalchemy import text

import competency
from asn_shared import logs
from asn_shared.messaging import Permissions
from asn_shared.persistence import make_engine
from asn_shared.topology import ManagementApi, apply_broker_user
from asn_testkit import auth

SERVICES_DIR = Path(__file__).resolve().parents[2] / "services"


def formatted(formatter: logging.Formatter, emit) -> str:
    """What ``emit(logger)`` writes through ``formatter``."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    logger = logging.getLogger(f"test-log-secrets-{secrets.token_hex(4)}")
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    emit(logger)
    return stream.getvalue()


@pytest.fixture
def settings(monkeypatch) -> dict[str, str]:
    """Secret settings in the environment, as a deployment sets them."""
    values = {
        "SMTP_PASSWORD": f"smtp-{secrets.token_hex(8)}",
        "AUTH_JWT_KEY": secrets.token_hex(32),
        "TRAINING_AMQP_PASSWORD": f"amqp-{secrets.token_hex(8)}",
        "amqp_password": f"Ab{secrets.token_hex(8)}",  # inside AMQP_URI only, URL-encoded
        "db_password": f"db{secrets.token_hex(8)}",  # inside *_DATABASE_URL only
    }
    for name in ("SMTP_PASSWORD", "AUTH_JWT_KEY", "TRAINING_AMQP_PASSWORD"):
        monkeypatch.setenv(name, values[name])
    monkeypatch.setenv(
        "AMQP_URI",
        f"amqp://training:{quote(values['amqp_password'] + '/%', safe='')}@rabbitmq:5672/",
    )
    monkeypatch.setenv(
        "TRAINING_DATABASE_URL", f"postgresql://training:{values['db_password']}@db/training"
    )
    values["amqp_password"] += "/%"
    return values


def test_the_json_formatter_redacts_message_arguments_extra_fields_and_exceptions(settings):
    token = auth.token()
    webhook_secret = secrets.token_urlsafe(32)

    def emit(logger: logging.Logger) -> None:
        logger.info("connecting to %s", f"amqp://training:{settings['amqp_password']}@mq:5672/")
        logger.info("database %s", f"postgresql://training:{settings['db_password']}@db/x")
        logger.warning(
            "request refused",
            extra={
                "authorization": f"Bearer {token}",
                "headers": {"Authorization": f"Bearer {token}", "Accept": "application/json"},
                "query": f"page=2&access_token={token}",
                "note": f"login with {settings['SMTP_PASSWORD']} failed",
            },
        )
        logger.info('"GET /employees?token=%s HTTP/1.1" 200', token)
        logger.info("sending Webhook(url='https://x.example', secret='%s')", webhook_secret)
        logger.info("[parameters: {'name': 'bkd', 'secret': '%s'}]", webhook_secret)
        logger.info("verifying with key %s", settings["AUTH_JWT_KEY"])
        logger.info("relay as %s", settings["TRAINING_AMQP_PASSWORD"])
        try:
            raise RuntimeError(f"SMTP login as kompas:{settings['SMTP_PASSWORD']} refused {token}")
        except RuntimeError:
            logger.exception("delivery failed")

    output = formatted(logs.JsonFormatter(), emit)
    lines = [json.loads(line) for line in output.splitlines()]
    assert len(lines) == 9
    for secret in [token, webhook_secret, *settings.values()]:
        assert secret not in output
    assert lines[0]["message"] == "connecting to amqp://training:***@mq:5672/"
    assert lines[1]["message"] == "database postgresql://training:***@db/x"
    assert lines[2]["authorization"] == "[REDACTED]"
    assert lines[2]["headers"] == {"Authorization": "[REDACTED]", "Accept": "application/json"}
    assert lines[2]["query"] == "page=2&access_token=[REDACTED]"
    assert lines[2]["note"] == "login with [REDACTED] failed"
    assert lines[3]["message"] == '"GET /employees?token=[REDACTED] HTTP/1.1" 200'
    assert lines[4]["message"] == "sending Webhook(url='https://x.example', secret='[REDACTED]')"
    assert lines[5]["message"] == "[parameters: {'name': 'bkd', 'secret': '[REDACTED]'}]"
    assert lines[6]["message"] == "verifying with key [REDACTED]"
    assert lines[7]["message"] == "relay as [REDACTED]"
    assert (
        "RuntimeError: SMTP login as kompas:[REDACTED] refused [REDACTED]" in lines[8]["exception"]
    )


def test_ordinary_text_is_left_alone():
    untouched = [
        "message dead-lettered",
        "evt-competency-assessment.recorded--training.on_assessment_recorded.retry",
        "The bearer token is not valid: Signature verification failed.",
        'FATAL:  password authentication failed for user "training"',
        "Connected to amqp://guest:**@127.0.0.1:5672//",
        "http://127.0.0.1:8001/employees?page=2&per_page=50",
        "asn_shared.logs.JsonFormatter",
        'Bearer realm="kompas-asn"',
        "employee 198503302010011001 registered, version 3",
    ]
    output = formatted(
        logs.JsonFormatter(), lambda logger: [logger.info(line) for line in untouched]
    )
    messages = [json.loads(line)["message"] for line in output.splitlines()]
    assert messages == [
        *untouched[:4],
        "Connected to amqp://guest:***@127.0.0.1:5672//",
        *untouched[5:],
    ]


def test_the_plain_formatter_of_asn_admin_redacts_too(settings):
    uri = f"amqp://admin:{settings['amqp_password']}@rabbitmq:5672/"
    output = formatted(
        logs.RedactingFormatter("%(levelname)s %(message)s"),
        lambda logger: logger.error("cannot reach %s with %s", uri, settings["SMTP_PASSWORD"]),
    )
    assert output == "ERROR cannot reach amqp://admin:***@rabbitmq:5672/ with [REDACTED]\n"


def with_password(url: str, password: str) -> str:
    parts = urlsplit(url)
    userinfo = f"{parts.username}:{quote(password, safe='')}"
    return urlunsplit(parts._replace(netloc=f"{userinfo}@{parts.hostname}:{parts.port}"))


def invalid_tokens() -> dict[str, str]:
    claims = {"sub": "admin-x", "role": "admin", "exp": int(time.time()) + 600}
    valid = auth.token()
    return {
        "tampered": valid[:-6] + ("AAAAAA" if not valid.endswith("AAAAAA") else "BBBBBB"),
        "foreign key": jwt.encode(claims, secrets.token_hex(32), algorithm="HS256"),
        "expired": auth.token(ttl=-60),
        "unsigned": jwt.encode(claims, None, algorithm="none"),
        "no role": jwt.encode({**claims, "role": "root"}, auth.KEY, algorithm="HS256"),
        "garbage": f"not-a-jwt-{secrets.token_urlsafe(24)}",
    }


@pytest.fixture
def broker_user(broker, vhost):
    """``broker_user(password)``: the URI of a new user with every right in the test's vhost."""
    api = ManagementApi(broker.management_url, broker.user, broker.password)
    users = []

    def create(password: str) -> str:
        users.append(f"{vhost}-{len(users)}")
        apply_broker_user(api, vhost, users[-1], password, Permissions(".*", ".*", ".*"))
        return with_password(broker.uri(vhost).replace(broker.user, users[-1], 1), password)

    yield create
    for user in users:
        url = f"{broker.management_url}/api/users/{user}"
        requests.delete(url, auth=(broker.user, broker.password), timeout=10)


def test_a_service_logs_no_secret_whatever_it_is_sent(broker_user, database, run_service):
    amqp_password, db_password = secrets.token_urlsafe(18), secrets.token_urlsafe(18)
    smtp_password = f"smtp-{secrets.token_hex(10)}"
    amqp_uri = broker_user(amqp_password)
    database_url = database(migrations=Path(competency.__file__).parent / "migrations")
    service = run_service(
        "competency",
        "competency.service:CompetencyService",
        SERVICES_DIR / "competency" / "config.yaml",
        with_password(database_url, db_password),
        env={"AMQP_URI": amqp_uri, "SMTP_PASSWORD": smtp_password},
    )
    valid = auth.token()
    tokens = invalid_tokens()
    # secrets a client could send, recognisable wherever a request carries them
    sent = [valid, *tokens.values(), smtp_password, auth.KEY, amqp_uri]
    sent.remove(tokens["garbage"])  # recognisable only as a header's or a token's value

    assert requests.get(f"{service.url}/employees", headers=auth_header(valid)).ok
    in_query = requests.get(f"{service.url}/health", params={"access_token": valid})
    assert in_query.status_code == 200
    for name, token in tokens.items():
        refused = requests.get(
            f"{service.url}/employees", params={"token": token}, headers=auth_header(token)
        )
        # a verified token without a recognised role is forbidden, the others unauthenticated
        assert refused.status_code == (403 if name == "no role" else 401), name
        assert refused.headers["Content-Type"] == "application/problem+json"
        assert_not_echoed(refused.text, token)
    for value in sent:
        missing = requests.get(
            f"{service.url}/employees/{quote(value, safe='')}", headers=auth_header(valid)
        )
        assert missing.status_code in (400, 404)

    # an unexpected error, whose trace carries the query's parameters
    rename_table(database_url, "employees", "employees_away")
    for value in sent:
        failed = requests.get(
            f"{service.url}/employees",
            params={"jabatan": value},
            headers={**auth_header(valid), "X-Correlation-ID": valid},
        )
        assert failed.status_code == 500
    service.stop()  # the whole log, flushed

    log = service.log()
    for secret in [*sent, tokens["garbage"], amqp_password, db_password]:
        assert secret not in log, secret
    entries = [json.loads(line) for line in log.splitlines() if line.strip()]
    access = [e["message"] for e in entries if e["logger"] == "nameko.web.server"]
    assert sum("/health?access_token=[REDACTED]" in line for line in access) == 1
    refusals = [line for line in access if "/employees?token=[REDACTED]" in line]
    assert sum(" 401 " in line for line in refusals) == 5  # and the token with no role:
    assert sum(" 403 " in line for line in refusals) == 1
    refused = [e for e in entries if e["message"].startswith("(expected) error handling")]
    assert len(refused) == len(sent) - 1  # all but the URI, which matches no route
    assert all("[REDACTED]" in e["message"] for e in refused)
    errors = [e for e in entries if e["message"].startswith("error handling worker")]
    assert len(errors) == len(sent)
    assert all("UndefinedTable" in e["exception"] for e in errors)
    # the engine never writes SQL parameters (names, NIPs, e-mail addresses) into a trace
    assert all("[SQL parameters hidden" in e["exception"] for e in errors)
    assert all(e["correlation_id"] == "[REDACTED]" for e in errors)


def rename_table(database_url: str, table: str, new_name: str) -> None:
    engine = make_engine(database_url, pool_size=1)
    try:
        with engine.begin() as connection:
            connection.execute(text(f"ALTER TABLE {table} RENAME TO {new_name}"))
    finally:
        engine.dispose()


def auth_header(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_not_echoed(body: str, secret: str) -> None:
    """Neither the secret nor any long piece of it (a JWT's segments, say) is in ``body``."""
    pieces = [secret, *(piece for piece in secret.split(".") if len(piece) >= 10)]
    assert not [piece for piece in pieces if piece in body], body
