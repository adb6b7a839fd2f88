"""HTTP helpers: JSON bodies in, JSON out, and every error as RFC 9457 problem+json.

No stack trace or exception text of an unexpected error ever reaches a client: it gets a
generic 500 problem carrying the correlation id under which the trace was logged.
"""

from __future__ import annotations

import json
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Request, Response

PROBLEM_JSON = "application/problem+json"
JSON = "application/json"


class Problem(Exception):
    """An error a client can act on; rendered as problem+json with ``status``."""

    status = 400
    title = "Bad Request"
    headers: dict[str, str] = {}

    def __init__(self, detail: str, **extensions: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extensions = extensions


class NotFound(Problem):
    status, title = 404, "Not Found"


class Conflict(Problem):
    status, title = 409, "Conflict"


class Unprocessable(Problem):
    """The request is well-formed but breaks a rule of the domain."""

    status, title = 422, "Unprocessable Content"


def json_response(
    payload: Any, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    body = json.dumps(payload, default=str, ensure_ascii=False)
    return Response(body, status=status, headers=headers, content_type=JSON)


def problem_response(
    status: int, title: str, detail: str | None = None, **extensions: Any
) -> Response:
    payload = {"type": "about:blank", "title": title, "status": status}
    if detail:
        payload["detail"] = detail
    payload.update(extensions)
    return Response(
        json.dumps(payload, ensure_ascii=False), status=status, content_type=PROBLEM_JSON
    )


def response_for(exc: BaseException, *, correlation_id: str | None = None) -> Response:
    """The problem response for an exception raised while handling a request."""
    if isinstance(exc, Problem):
        response = problem_response(exc.status, exc.title, exc.detail, **exc.extensions)
        response.headers.extend(exc.headers)
        return response
    if isinstance(exc, ValidationError):
        return problem_response(
            400,
            "Bad Request",
            "The request body has invalid fields.",
            errors=exc.normalized_messages(),
        )
    if isinstance(exc, HTTPException):
        return problem_response(exc.code or 500, exc.name, exc.description)
    extra = {"correlation_id": correlation_id} if correlation_id else {}
    return problem_response(
        500,
        "Internal Server Error",
        "The request could not be completed; it has been logged.",
        **extra,
    )


def load_json(request: Request, schema: Schema, *, partial: bool = False) -> Any:
    """Parse and validate a JSON body; bad JSON and invalid fields become 400 problems."""
    if request.mimetype != JSON:
        raise Problem(f"Content-Type must be {JSON}, not {request.mimetype or 'missing'}.")
    try:
        payload = json.loads(request.get_data())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise Problem(f"The body is not valid JSON: {exc}.") from None
    return schema.load(payload, partial=partial)


def load_query(request: Request, schema: Schema) -> Any:
    """Validate query parameters; invalid ones become a 400 problem naming them."""
    return schema.load(request.args.to_dict())


class PageQuery(Schema):
    """``?page=1&per_page=50``; subclass it to add a list's filters."""

    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


def page_response(items: list[Any], *, total: int, page: int, per_page: int) -> dict[str, Any]:
    return {"items": items, "page": page, "per_page": per_page, "total": total}
