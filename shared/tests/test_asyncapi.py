"""The AsyncAPI document generated from a private registry of two producers' events."""

from __future__ import annotations

import enum
import json
from typing import Any

import pytest
from marshmallow import Schema, fields, validate

from asn_shared import asyncapi
from asn_shared.events import EventRegistry, event_type

registry = EventRegistry()


class Level(enum.Enum):
    BASIC = "basic"
    ADVANCED = "advanced"


class ScoreSchema(Schema):
    competency = fields.String(required=True)
    value = fields.Integer(required=True, validate=validate.Range(min=1, max=5))


@event_type("assessment.recorded", version=1, producer="competency", registry=registry)
class AssessmentRecordedV1(Schema):
    """An assessment of one civil servant was recorded."""

    nip = fields.String(required=True)
    score = fields.Integer(required=True, validate=validate.Range(min=0, max=100))


@event_type("assessment.recorded", version=2, producer="competency", registry=registry)
class AssessmentRecordedV2(Schema):
    """An assessment of one civil servant was recorded.

    Version 2 scores each competency separately.
    """

    nip = fields.String(required=True)
    assessed_on = fields.Date(required=True)
    scores = fields.List(fields.Nested(ScoreSchema), required=True)
    level = fields.Enum(Level, by_value=True)
    method = fields.String(validate=validate.OneOf(["interview", "test"]))
    lead = fields.Nested(ScoreSchema, allow_none=True)


@event_type("employee.transferred", version=1, producer="employee", registry=registry)
class EmployeeTransferred(Schema):
    """A civil servant moved to another agency."""

    nip = fields.String(required=True)
    agency = fields.String(required=True)


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return asyncapi.build_document(registry, version="1.2.3")


def resolve(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = document
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [ref for value in node.values() for ref in refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in refs(value)]
    return []


def data_schema(document: dict[str, Any], channel: str, message: str) -> dict[str, Any]:
    return document["channels"][channel]["messages"][message]["payload"]["properties"]["data"]


def test_top_level(document):
    assert document["asyncapi"] == "3.0.0"
    assert document["info"]["title"] == "Kompas ASN events"
    assert document["info"]["version"] == "1.2.3"
    assert "side by side" in document["info"]["description"]
    assert document["defaultContentType"] == "application/cloudevents+json"
    assert document["servers"]["rabbitmq"]["protocol"] == "amqp"


def test_one_channel_per_exchange(document):
    channels = document["channels"]
    assert set(channels) == {"competency.events", "employee.events"}
    competency = channels["competency.events"]
    assert competency["address"] == "competency.events"
    assert competency["bindings"]["amqp"]["is"] == "routingKey"
    assert competency["bindings"]["amqp"]["exchange"] == {
        "name": "competency.events",
        "type": "topic",
        "durable": True,
        "autoDelete": False,
        "vhost": "/",
    }
    assert set(competency["messages"]) == {"assessment.recorded.v1", "assessment.recorded.v2"}
    assert set(channels["employee.events"]["messages"]) == {"employee.transferred.v1"}


def test_message_describes_the_envelope(document):
    message = document["channels"]["competency.events"]["messages"]["assessment.recorded.v2"]
    assert message["name"] == "assessment.recorded.v2"
    assert message["summary"] == "An assessment of one civil servant was recorded."
    assert message["description"] == "Version 2 scores each competency separately."
    assert message["x-routing-key"] == "assessment.recorded"
    assert message["correlationId"]["location"] == "$message.payload#/correlationid"
    ce_type = "id.kompasasn.competency.assessment.recorded.v2"
    assert message["bindings"]["amqp"]["messageType"] == ce_type
    payload = message["payload"]
    assert payload["properties"]["type"]["const"] == ce_type
    assert payload["properties"]["source"]["const"] == "urn:kompasasn:competency"
    assert payload["properties"]["specversion"]["const"] == "1.0"
    assert {"specversion", "id", "source", "type", "data"} <= set(payload["required"])


def test_data_schema_from_marshmallow(document):
    data = data_schema(document, "competency.events", "assessment.recorded.v2")
    assert data["required"] == ["assessed_on", "nip", "scores"]
    properties = data["properties"]
    assert properties["assessed_on"] == {"type": "string", "format": "date"}
    assert properties["scores"]["type"] == "array"
    assert properties["scores"]["items"] == {"$ref": "#/components/schemas/Score"}
    assert properties["level"]["enum"] == ["basic", "advanced"]
    assert properties["method"]["enum"] == ["interview", "test"]
    assert properties["lead"]["anyOf"] == [
        {"$ref": "#/components/schemas/Score"},
        {"type": "null"},
    ]
    score = document["components"]["schemas"]["Score"]
    assert score["required"] == ["competency", "value"]
    assert score["properties"]["value"] == {"type": "integer", "minimum": 1, "maximum": 5}


def test_data_schema_tolerates_added_fields(document):
    # evolution rule: readers ignore optional fields added later
    data = data_schema(document, "employee.events", "employee.transferred.v1")
    assert "additionalProperties" not in data
    assert "additionalProperties" not in document["components"]["schemas"]["Score"]


def test_versions_differ(document):
    v1 = data_schema(document, "competency.events", "assessment.recorded.v1")
    assert v1["properties"]["score"] == {"type": "integer", "minimum": 0, "maximum": 100}
    assert "scores" not in v1["properties"]


def test_one_send_operation_per_message(document):
    operations = document["operations"]
    assert set(operations) == {
        "publish_assessment_recorded_v1",
        "publish_assessment_recorded_v2",
        "publish_employee_transferred_v1",
    }
    operation = operations["publish_employee_transferred_v1"]
    assert operation["action"] == "send"
    assert operation["channel"] == {"$ref": "#/channels/employee.events"}
    assert operation["messages"] == [
        {"$ref": "#/channels/employee.events/messages/employee.transferred.v1"}
    ]
    assert operation["bindings"]["amqp"]["cc"] == ["employee.transferred"]


def test_every_ref_resolves(document):
    found = refs(document)
    assert "#/components/schemas/Score" in found
    for ref in found:
        assert isinstance(resolve(document, ref), dict), ref


def test_render_is_deterministic():
    text = asyncapi.render(registry)
    assert text == asyncapi.render(registry)
    assert text.endswith("}\n")
    assert json.loads(text)["channels"].keys() == {"competency.events", "employee.events"}


def test_check_detects_a_change(tmp_path):
    path = tmp_path / "asyncapi.json"
    path.write_text(asyncapi.render(registry), encoding="utf-8")
    assert asyncapi.check(path, registry) == []

    changed = EventRegistry()
    for definition in registry:
        changed.add(definition)

    @event_type("employee.retired", version=1, producer="employee", registry=changed)
    class EmployeeRetired(Schema):
        """A civil servant retired."""

        nip = fields.String(required=True)

    diff = asyncapi.check(path, changed)
    assert diff
    assert any("employee.retired" in line for line in diff)


def test_check_of_a_missing_file_is_a_diff(tmp_path):
    assert asyncapi.check(tmp_path / "missing.json", registry)


def test_main_writes_and_checks(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(asyncapi, "render", lambda registry=registry: "{}\n")
    path = tmp_path / "asyncapi.json"
    assert asyncapi.main(["--output", str(path)]) == 0
    assert path.read_text(encoding="utf-8") == "{}\n"
    assert asyncapi.main(["--check", str(path)]) == 0

    path.write_text("{\n}\n", encoding="utf-8")
    assert asyncapi.main(["--check", str(path)]) == 1
    assert "AsyncAPI document is out of date; regenerate with:" in capsys.readouterr().err
