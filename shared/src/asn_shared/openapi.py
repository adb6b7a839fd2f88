"""OpenAPI 3.1 documents generated from the services' own entrypoints and schemas (apispec).

Each ``@api`` entrypoint carries its documentation (summary, request, query and response
schemas, status); ``ServiceBase`` serves the document at ``GET /openapi.json``. The schemas
that validate a request are the ones documented, so the two cannot drift apart.
"""

from __future__ import annotations

import inspect
import re
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from .entrypoints import JsonApi

if TYPE_CHECKING:
    from .base import ServiceBase

_PATH_PARAMETER = re.compile(r"<(?:[a-z_]+:)?([a-zA-Z_][a-zA-Z0-9_]*)>")
PROBLEM = {
    "type": "object",
    "description": "RFC 9457 problem details; validation errors name each field in `errors`.",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {"type": "object", "additionalProperties": True},
    },
    "required": ["title", "status"],
}


BEARER = {
    "type": "http",
    "scheme": "bearer",
    "bearerFormat": "JWT",
    "description": "A signed JWT with `sub`, `role` (admin, operator, employee, agency), `exp` "
    "and, by role, `unit`, `nip` or `agency`.",
}


def routes_of(service_cls: type) -> list[JsonApi]:
    found = []
    for method_name, method in inspect.getmembers(service_cls, inspect.isfunction):
        for entrypoint in getattr(method, "nameko_entrypoints", ()):
            if isinstance(entrypoint, JsonApi):
                entrypoint.method_name = method_name
                found.append(entrypoint)
    return sorted(found, key=lambda route: (route.url, route.method))


def build_document(
    service_cls: type[ServiceBase], *, description: str | None = None
) -> dict[str, Any]:
    spec = APISpec(
        title=f"Kompas ASN {service_cls.name} service",
        version=_version(service_cls),
        openapi_version="3.1.0",
        plugins=[MarshmallowPlugin()],
        info={
            "description": description or inspect.cleandoc(vars(service_cls).get("__doc__") or "")
        },
    )
    spec.components.schema("Problem", PROBLEM)
    spec.components.security_scheme("bearer", BEARER)
    for route in routes_of(service_cls):
        path, parameters = _path(route.url)
        operations = {
            method.lower(): _operation(route, parameters) for method in route.method.split(",")
        }
        spec.path(path=path, operations=operations)
    return spec.to_dict()


def _path(url: str) -> tuple[str, list[dict[str, Any]]]:
    names = _PATH_PARAMETER.findall(url)
    parameters = [
        {"in": "path", "name": name, "required": True, "schema": {"type": "string"}}
        for name in names
    ]
    return _PATH_PARAMETER.sub(r"{\1}", url), parameters


def _operation(route: JsonApi, path_parameters: list[dict[str, Any]]) -> dict[str, Any]:
    doc = route.doc
    operation: dict[str, Any] = {
        "operationId": route.method_name,
        "summary": doc.get("summary") or route.method_name.replace("_", " "),
        "tags": doc.get("tags", []),
        "parameters": list(path_parameters),
        "responses": {
            str(doc.get("status", 200)): _response(doc.get("response"), doc.get("many", False)),
            "default": {
                "description": "A problem",
                "content": {"application/problem+json": {"schema": "Problem"}},
            },
        },
    }
    if route.public:
        operation["security"] = []
    else:
        operation["security"] = [{"bearer": []}]
        operation["x-roles"] = list(route.roles)
        operation["description"] = f"Roles: {', '.join(route.roles)}."
    if doc.get("query") is not None:
        operation["parameters"].append({"in": "query", "schema": doc["query"]})
    if doc.get("request") is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": doc["request"]}},
        }
    return operation


def _response(schema: Any, many: bool) -> dict[str, Any]:
    if schema is None:
        return {"description": "Done"}
    body = {"type": "array", "items": schema} if many else schema
    return {"description": "Success", "content": {"application/json": {"schema": body}}}


def _version(service_cls: type[ServiceBase]) -> str:
    try:
        return version(f"asn-{service_cls.name}")
    except PackageNotFoundError:
        return "0.0.0"
