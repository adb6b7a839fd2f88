"""The event envelope and registry: pure, no broker."""

import json
import uuid

import pytest
from marshmallow import Schema, fields

from asn_shared.events import (
    EventRegistry,
    EventSchemaError,
    InvalidEvent,
    event_type,
    new_event,
    parse_event,
)
from asn_shared.events.catalog import ProposalCancelled
from asn_shared.web import may_hold_unstorable, unstorable

registry = EventRegistry()


@event_type("thing.done", version=1, producer="maker", registry=registry)
class ThingDone(Schema):
    """A thing was done."""

    count = fields.Integer(required=True)
    note = fields.String()


def make(**data):
    return new_event(registry.get("thing.done", 1), data, subject="thing-1")


def test_event_round_trips_as_a_structured_cloudevent():
    event = make(count=3, note="ok")
    body = json.loads(event.to_json())

    assert body["specversion"] == "1.0"
    assert body["type"] == "id.kompasasn.maker.thing.done.v1"
    assert body["source"] == "urn:kompasasn:maker"
    assert body["subject"] == "thing-1"
    assert body["datacontenttype"] == "application/json"
    assert body["time"].endswith("Z")
    assert body["data"] == {"count": 3, "note": "ok"}
    assert uuid.UUID(body["id"]) and uuid.UUID(body["correlationid"])

    parsed = parse_event(event.to_json(), registry)
    assert (parsed.id, parsed.type) == (event.id, event.type)
    assert parsed.data == {"count": 3, "note": "ok"}
    assert parsed.correlation_id == event.correlation_id


def test_amqp_properties_mirror_the_envelope():
    event = make(count=1)
    properties = event.amqp_properties()
    assert properties["message_id"] == event.id
    assert properties["type"] == event.type
    assert properties["timestamp"] == int(event.time.timestamp())
    assert properties["content_type"] == "application/cloudevents+json"
    assert properties["delivery_mode"] == 2


@pytest.mark.parametrize(
    ("data", "field"),
    [({}, "count"), ({"count": "many"}, "count"), ({"count": 1, "colour": "red"}, "colour")],
)
def test_producer_refuses_data_that_does_not_fit_the_schema(data, field):
    with pytest.raises(EventSchemaError) as refused:
        make(**data)
    assert field in refused.value.errors


def test_consumer_ignores_fields_added_by_a_newer_producer():
    body = json.loads(make(count=2).to_json())
    body["data"]["added_later"] = True
    assert parse_event(json.dumps(body).encode(), registry).data == {"count": 2}


def envelope(**changes):
    body = json.loads(make(count=1).to_json())
    body.update(changes)
    return json.dumps(body).encode()


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"\xff\xfe", "body is not JSON"),
        (b"[1, 2]", "body is not a JSON object"),
        (json.dumps({"id": "1"}).encode(), "missing CloudEvents attributes: specversion"),
        (envelope(specversion="0.3"), "unsupported specversion '0.3'"),
        (envelope(type="id.kompasasn.maker.thing.done.v2"), "unknown event type"),
        (envelope(data={"count": "x"}), "data does not match its schema"),
        (envelope(time="yesterday"), "time is not RFC 3339"),
    ],
)
def test_consumer_refuses_what_it_cannot_handle_and_says_why(body, reason):
    with pytest.raises(InvalidEvent, match=reason):
        parse_event(body, registry)


def test_registry_finds_versions_and_refuses_a_second_schema_for_one_type():
    assert registry.latest("thing.done").version == 1

    class Other(Schema):
        pass

    with pytest.raises(ValueError, match="registered twice"):
        event_type("thing.done", version=1, producer="maker", registry=registry)(Other)


@pytest.mark.parametrize(
    "nip",
    ["\u0661\u0669\u0668\u0666" + "09262015051001", "1986092620150510\uff10\uff11", "1986"],
)
def test_the_catalogue_takes_only_18_ascii_digits_as_a_nip(nip):
    data = {
        "proposal_id": str(uuid.uuid4()),
        "employee_nip": nip,
        "employee_name": "Rina",
        "unit_code": "KEC-PLAJU",
        "fiscal_year": 2026,
        "status": "cancelled",
        "reason": "superseded",
    }
    assert list(ProposalCancelled().validate(data)) == ["employee_nip"]
    assert ProposalCancelled().validate({**data, "employee_nip": "198609262015051001"}) == {}


@pytest.mark.parametrize(
    "text",
    ["Siti\u0000", "\ud800", "a\udfffb", "\udbff\u0000", "Rahmawati 😀 \ud83d", "\\\u0000"],
)
def test_a_body_whose_data_holds_unstorable_text_is_always_walked(text):
    data = {"name": text, text: ["x", {"k": text}]}
    for body in (
        json.dumps(data).encode(),
        json.dumps(data, ensure_ascii=False).encode("utf-8", "surrogatepass"),
        json.dumps(data),  # as kombu hands it over, decoded
        json.dumps(data, ensure_ascii=False),
    ):
        assert unstorable(json.loads(body))
        assert may_hold_unstorable(body)


@pytest.mark.parametrize("text", ["Siti Rahmawati", "Kecamatan Plaju 😀", "\\u0000 as text", "é"])
def test_a_body_of_storable_text_is_not_walked(text):
    text_body = json.dumps({"name": text}, ensure_ascii=False)  # as the producers write it
    for body in (text_body.encode(), text_body):
        assert not unstorable(json.loads(body))
        assert may_hold_unstorable(body) is (text == "\\u0000 as text")  # a false alarm walks
