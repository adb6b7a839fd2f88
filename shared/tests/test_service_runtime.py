"""What every service gets from the library, seen from outside: HTTP problems, health,
metrics, logs and duplicate suppression, against real RabbitMQ and PostgreSQL."""

import json

from openapi_spec_validator import validate as validate_spec

from asn_testkit.auth import admin_http
from asn_testkit.metrics import metric, scrape
from asn_testkit.waiting import wait_for

from support import ping_counts, unpublished


def test_invalid_requests_get_problem_details_naming_the_fields(start_sample):
    pinger = start_sample("pinger")
    url = f"{pinger.url}/pings"

    invalid = admin_http.post(url, json={"first": -1, "colour": "red"})
    assert invalid.status_code == 400
    assert invalid.headers["Content-Type"] == "application/problem+json"
    problem = invalid.json()
    assert problem["status"] == 400 and problem["title"] == "Bad Request"
    assert set(problem["errors"]) == {"first", "count", "colour"}
    assert problem["errors"]["count"] == ["Missing data for required field."]

    not_json = admin_http.post(url, data=b"{oops", headers={"Content-Type": "application/json"})
    assert not_json.status_code == 400 and "not valid JSON" in not_json.json()["detail"]

    wrong_type = admin_http.post(url, data=b"first=1", headers={"Content-Type": "text/plain"})
    assert wrong_type.status_code == 400 and "Content-Type" in wrong_type.json()["detail"]

    for method, path, status in (("GET", "/nowhere", 404), ("DELETE", "/pings", 405)):
        response = admin_http.request(method, pinger.url + path)
        assert response.status_code == status
        assert response.headers["Content-Type"] == "application/problem+json"
        assert response.json()["status"] == status

    accepted = admin_http.post(url, json={"first": 0, "count": 3})
    assert accepted.status_code == 202 and accepted.json() == {"accepted": 3}
    wait_for(lambda: unpublished(pinger.env["PINGER_DATABASE_URL"]) == 0, what="the relay")
    assert "Traceback" not in invalid.text + not_json.text


def test_health_answers_503_naming_what_is_down(start_sample, database):
    no_database = start_sample(
        "pinger", "postgresql://postgres@127.0.0.1:1/none", wait_healthy=False
    )
    health = admin_http.get(f"{no_database.url}/health")
    assert health.status_code == 503
    assert health.json()["checks"]["database"].startswith("down")
    assert health.json()["checks"]["broker"] == "ok"

    import sample_services

    no_broker = start_sample(
        "pinger",
        database(metadata=sample_services.metadata),
        env={"AMQP_URI": "amqp://guest:guest@127.0.0.1:1/"},
        wait_healthy=False,
    )
    health = admin_http.get(f"{no_broker.url}/health")
    assert health.status_code == 503
    assert health.json()["checks"] == {
        "database": "ok",
        "broker": health.json()["checks"]["broker"],
    }
    assert health.json()["checks"]["broker"].startswith("down")


def test_a_redelivered_event_has_its_effect_once_and_shows_in_metrics_and_logs(
    start_sample, publish_event
):
    sink = start_sample("sink")
    # at-least-once delivery: the same event, three times
    event = publish_event("ping.sent", {"seq": 42}, times=3)

    sink_db = sink.env["SINK_DATABASE_URL"]
    wait_for(
        lambda: (
            "duplicate event ignored" in sink.log()
            and sink.log().count("duplicate event ignored") == 2
        ),
        what="two duplicates",
    )
    assert ping_counts(sink_db) == (1, 1)

    metrics = scrape(sink.url)
    labels = {"service": "sink", "event": "ping.sent", "handler": "on_ping"}
    assert metric(metrics, "asn_events_handled_total", outcome="handled", **labels) == 3
    assert metric(metrics, "asn_events_handled_total", outcome="duplicate", **labels) == 2
    assert metric(metrics, "asn_event_handler_duration_seconds_count", **labels) == 3
    assert metric(metrics, "asn_outbox_backlog", service="sink") == 0

    duplicate_lines = [
        json.loads(line) for line in sink.log().splitlines() if "duplicate event ignored" in line
    ]
    assert all(line["event_id"] == event.id for line in duplicate_lines)
    assert all(line["correlation_id"] == event.correlation_id for line in duplicate_lines)
    assert all(line["service"] == "sink" for line in duplicate_lines)


def test_openapi_document_is_valid_and_generated_from_the_request_schemas(start_sample):
    pinger = start_sample("pinger")
    document = admin_http.get(f"{pinger.url}/openapi.json").json()

    validate_spec(document)
    assert document["info"]["description"] == "Sends pings through its outbox."
    assert set(document["paths"]) == {"/pings", "/health", "/metrics", "/openapi.json"}
    post = document["paths"]["/pings"]["post"]
    body = post["requestBody"]["content"]["application/json"]["schema"]
    schema = document["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]
    assert set(schema["properties"]) == {"first", "count", "fail"}
    assert set(schema["required"]) == {"first", "count"}
    assert "202" in post["responses"]
