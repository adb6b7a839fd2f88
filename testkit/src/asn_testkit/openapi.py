"""A running service's OpenAPI document, as the API tests read and check it."""

from __future__ import annotations

from typing import Any

from openapi_spec_validator import validate

from .auth import admin_http


def document(base_url: str) -> dict[str, Any]:
    """``GET /openapi.json`` of the service at ``base_url``, valid by the OpenAPI specification."""
    answer = admin_http.get(f"{base_url}/openapi.json", timeout=10)
    assert answer.status_code == 200, answer.text
    found = answer.json()
    validate(found)
    return found


def request_schema(document: dict[str, Any], path: str, method: str = "post") -> dict[str, Any]:
    """The JSON schema of the body the operation ``method path`` takes."""
    body = document["paths"][path][method]["requestBody"]["content"]["application/json"]
    return document["components"]["schemas"][body["schema"]["$ref"].rsplit("/", 1)[1]]
