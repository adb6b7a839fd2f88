"""Generate the AsyncAPI 3.0 document of the event contract from the event registry.

The document is what other agencies code against, so it is generated, committed and checked:

    python -m asn_shared.asyncapi --output PATH   # regenerate
    python -m asn_shared.asyncapi --check PATH    # exit 1 if out of date

Event data schemas are converted from marshmallow by apispec (OpenAPI 3.1 schema objects,
which are JSON Schema); nested schemas go to ``components/schemas``.
"""

from __future__ import annotations

import argparse
import difflib
import importlib.metadata
import inspect
import json
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.ext.marshmallow.openapi import OpenAPIConverter
from marshmallow import Schema

from .events import registry as default_registry
from .events.envelope import CONTENT_TYPE, DATA_CONTENT_TYPE, SOURCE_PREFIX, SPEC_VERSION
from .events.registry import EventDefinition, EventRegistry

ASYNCAPI_VERSION = "3.0.0"
AMQP_BINDING_VERSION = "0.3.0"
SERVER = "rabbitmq"
COMMAND = "python -m asn_shared.asyncapi"
_KEY = re.compile(r"^[a-zA-Z0-9.\-_]+$")

DESCRIPTION = """\
Events published by the Kompas ASN services over RabbitMQ (AMQP 0-9-1).

Each service publishes to its own durable topic exchange `<service>.events`; the routing key \
is the event name (for example `assessment.recorded`). To subscribe, bind your own queue to \
the exchange with the routing keys you need.

Every message body is a CloudEvents 1.0 event in structured JSON mode \
(`application/cloudevents+json`): the attributes `specversion`, `id`, `source`, `type`, \
`time`, `subject` and `datacontenttype`, the extensions `correlationid` and `causationid`, and \
the event itself in `data`. The AMQP properties mirror the envelope so a consumer can route \
without parsing the body: `message_id` = `id`, `type` = `type`, `timestamp` = `time`, \
`content_type` = `application/cloudevents+json`, `content_encoding` = `utf-8`, and messages \
are persistent (delivery mode 2).

Evolution: optional fields may be added to an event's `data` at any time, so consumers must \
ignore fields they do not know. Any other change (removing or renaming a field, changing its \
type or making it required) is a new version of the event, with its own CloudEvents `type` \
ending in `.v<N>`, published side by side with the old one until consumers have moved.
"""


def build_document(
    registry: EventRegistry = default_registry,
    *,
    title: str = "Kompas ASN events",
    version: str | None = None,
) -> dict[str, Any]:
    """The AsyncAPI document of every event type in ``registry``, as a plain dict."""
    converter = _converter()
    channels: dict[str, dict[str, Any]] = {}
    operations: dict[str, dict[str, Any]] = {}
    for definition in registry:
        channel_id = _key(definition.exchange)
        channel = channels.setdefault(channel_id, _channel(definition))
        message_id = _key(_message_id(definition))
        channel["messages"][message_id] = _message(definition, converter)
        operation_id = _key(f"publish_{_message_id(definition).replace('.', '_')}")
        if operation_id in operations:
            raise ValueError(f"two events map to the operation id {operation_id!r}")
        operations[operation_id] = _operation(definition, channel_id, message_id)
    document = {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": title,
            "version": version or _package_version(),
            "description": DESCRIPTION,
        },
        "defaultContentType": CONTENT_TYPE,
        "servers": {SERVER: _server()},
        "channels": channels,
        "operations": operations,
    }
    schemas = converter.spec.components.to_dict().get("schemas", {})
    if schemas:
        document["components"] = {"schemas": schemas}
    return document


def render(registry: EventRegistry = default_registry) -> str:
    """The exact text to commit: stable key order, so it is reproducible byte for byte."""
    return json.dumps(build_document(registry), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def check(path: str | Path, registry: EventRegistry = default_registry) -> list[str]:
    """A unified diff from the file at ``path`` to the current document; empty when current."""
    path = Path(path)
    current = path.read_text(encoding="utf-8") if path.exists() else ""
    expected = render(registry)
    if current == expected:
        return []
    return list(
        difflib.unified_diff(
            current.splitlines(keepends=True),
            expected.splitlines(keepends=True),
            fromfile=str(path),
            tofile="generated",
        )
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=COMMAND, description="Generate the AsyncAPI document.")
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--output", metavar="PATH", help="write the document to PATH")
    target.add_argument("--check", metavar="PATH", help="exit 1 if PATH is not up to date")
    args = parser.parse_args(argv)
    if args.check:
        diff = check(args.check)
        if diff:
            sys.stderr.writelines(diff)
            print(
                "AsyncAPI document is out of date; regenerate with: "
                f"{COMMAND} --output {args.check}",
                file=sys.stderr,
            )
            return 1
        return 0
    text = render()
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8", newline="\n")
    else:
        sys.stdout.write(text)
    return 0


class _TolerantConverter(OpenAPIConverter):
    def schema2jsonschema(self, schema: Schema | type[Schema]) -> dict[str, Any]:
        # apispec leaves it unannotated, and untyped_calls_exclude does not reach a super() call
        jsonschema: dict[str, Any] = super().schema2jsonschema(schema)  # type: ignore[no-untyped-call]
        # marshmallow's default (unknown=RAISE) is the producer's strictness; on the wire
        # readers must accept fields added later, so the contract never forbids them
        if jsonschema.get("additionalProperties") is False:
            del jsonschema["additionalProperties"]
        return jsonschema


class _Plugin(MarshmallowPlugin):
    Converter = _TolerantConverter


def _converter() -> _TolerantConverter:
    plugin = _Plugin()
    APISpec(title="events", version="0", openapi_version="3.1.0", plugins=[plugin])
    assert isinstance(plugin.converter, _TolerantConverter)
    return plugin.converter


def _package_version() -> str:
    try:
        return importlib.metadata.version("asn-shared")
    except importlib.metadata.PackageNotFoundError:
        return "0.0.0"


def _key(key: str) -> str:
    if not _KEY.match(key):
        raise ValueError(f"{key!r} is not a valid AsyncAPI key")
    return key


def _pointer(*keys: str) -> str:
    return "#/" + "/".join(key.replace("~", "~0").replace("/", "~1") for key in keys)


def _message_id(definition: EventDefinition) -> str:
    return f"{definition.name}.v{definition.version}"


def _server() -> dict[str, Any]:
    return {
        "host": "localhost:5672",
        "protocol": "amqp",
        "protocolVersion": "0-9-1",
        "description": (
            "The RabbitMQ broker; host, credentials and virtual host are deployment-specific, "
            "this entry only names the protocol."
        ),
    }


def _channel(definition: EventDefinition) -> dict[str, Any]:
    return {
        "address": definition.exchange,
        "title": f"{definition.producer} events",
        "description": (
            f"The topic exchange the {definition.producer} service publishes to; "
            "the routing key is the event name."
        ),
        "messages": {},
        "bindings": {
            "amqp": {
                "is": "routingKey",
                "exchange": {
                    "name": definition.exchange,
                    "type": "topic",
                    "durable": True,
                    "autoDelete": False,
                    "vhost": "/",
                },
                "bindingVersion": AMQP_BINDING_VERSION,
            }
        },
    }


def _message(definition: EventDefinition, converter: OpenAPIConverter) -> dict[str, Any]:
    message = {
        "name": _message_id(definition),
        "title": f"{definition.name} v{definition.version}",
        "summary": definition.summary,
        "contentType": CONTENT_TYPE,
        "correlationId": {
            "location": "$message.payload#/correlationid",
            "description": "Shared by every event caused by the same original request.",
        },
        "payload": _envelope(definition, converter.schema2jsonschema(definition.schema())),
        "bindings": {
            "amqp": {
                "messageType": definition.type,
                "contentEncoding": "utf-8",
                "bindingVersion": AMQP_BINDING_VERSION,
            }
        },
        "x-routing-key": definition.name,
    }
    description = _description(definition.schema)
    if description:
        message["description"] = description
    return message


def _description(schema: type[Schema]) -> str | None:
    # only the schema's own docstring: inspect.getdoc would inherit marshmallow's
    lines = inspect.cleandoc(schema.__doc__ or "").splitlines()
    return "\n".join(lines[1:]).strip() or None


def _envelope(definition: EventDefinition, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["specversion", "id", "source", "type", "time", "datacontenttype", "data"],
        "properties": {
            "specversion": {"type": "string", "const": SPEC_VERSION},
            "id": {"type": "string", "format": "uuid", "description": "Unique per event."},
            "source": {"type": "string", "const": SOURCE_PREFIX + definition.producer},
            "type": {"type": "string", "const": definition.type},
            "time": {"type": "string", "format": "date-time"},
            "subject": {"type": "string", "description": "The entity the event is about."},
            "datacontenttype": {"type": "string", "const": DATA_CONTENT_TYPE},
            "correlationid": {
                "type": "string",
                "description": "Shared by every event caused by the same original request.",
            },
            "causationid": {
                "type": "string",
                "description": "The id of the event that caused this one.",
            },
            "data": data,
        },
    }


def _operation(definition: EventDefinition, channel_id: str, message_id: str) -> dict[str, Any]:
    return {
        "action": "send",
        "summary": definition.summary,
        "channel": {"$ref": _pointer("channels", channel_id)},
        "messages": [{"$ref": _pointer("channels", channel_id, "messages", message_id)}],
        "bindings": {
            "amqp": {
                "cc": [definition.name],
                "deliveryMode": 2,
                "timestamp": True,
                "bindingVersion": AMQP_BINDING_VERSION,
            }
        },
    }


if __name__ == "__main__":
    sys.exit(main())
