"""HTTP helpers: JSON bodies in, JSON out, and every error as RFC 9457 problem+json.

No stack trace or exception text of an unexpected error ever reaches a client: it gets a
generic 500 problem carrying the correlation id under which the trace was logged.
"""

from __future__ import annotations

import json
import re
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Request, Response

from . import errors
from .errors import CodedMessage
from .settings import ServiceSettings

PROBLEM_JSON = "application/problem+json"
JSON = "application/json"
# text PostgreSQL cannot store (NUL) or UTF-8 cannot encode (a lone surrogate from "\ud800")
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class Problem(Exception):
    """An error a client can act on; rendered as problem+json with ``status``."""

    status = 400
    title = "Bad Request"
    headers: dict[str, str] = {}

    def __init__(self, detail: str, **extensions: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extensions = extensions


def error_codes(errors: Any) -> Any:
    """The codes of the coded messages in marshmallow-shaped ``errors``, same shape; None
    when none is coded."""
    if isinstance(errors, dict):
        found = {key: error_codes(value) for key, value in errors.items()}
        return {key: codes for key, codes in found.items() if codes} or None
    if isinstance(errors, list):
        codes = [m.code for m in errors if isinstance(m, CodedMessage)]
        nested = [error_codes(m) for m in errors if isinstance(m, dict | list)]
        return codes + [n for n in nested if n] or None
    return None


def field_errors(errors: Any) -> dict[str, Any]:
    """The problem extensions for field errors: ``errors``, and ``error_codes`` if any."""
    codes = error_codes(errors)
    return {"errors": errors, **({"error_codes": codes} if codes else {})}


class PayloadTooLarge(Problem):
    status, title = 413, "Content Too Large"

    @classmethod
    def over(cls, what: str, limit: int) -> PayloadTooLarge:
        """``what`` is larger than ``limit`` bytes."""
        return cls(f"{what} is larger than {size_text(limit)}.", limit_bytes=limit)


def size_text(size: int) -> str:
    """``1048576`` → ``1 MiB (1048576 bytes)``: a limit as a person reads it."""
    for unit, factor in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= factor and size % factor == 0:
            return f"{size // factor} {unit} ({size} bytes)"
    return f"{size} bytes"


def json_response(
    payload: Any, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    body = _encode(json.dumps(payload, default=str, ensure_ascii=False))
    return Response(body, status=status, headers=headers, content_type=JSON)


def problem_response(
    status: int, title: str, detail: str | None = None, **extensions: Any
) -> Response:
    payload = {"type": "about:blank", "title": title, "status": status}
    if detail:
        payload["detail"] = detail
    payload.update(extensions)
    body = _encode(json.dumps(payload, ensure_ascii=False))
    return Response(body, status=status, content_type=PROBLEM_JSON)


def _encode(text: str) -> bytes:
    # a lone surrogate (echoed from a request, say) becomes the JSON escape "\udxxx"
    return text.encode("utf-8", "backslashreplace")


# the one place where the application's errors meet HTTP
APPLICATION_STATUS: dict[type[errors.ApplicationError], tuple[int, str]] = {
    errors.Invalid: (400, "Bad Request"),
    errors.Forbidden: (403, "Forbidden"),
    errors.NotFound: (404, "Not Found"),
    errors.Conflict: (409, "Conflict"),
    errors.TooLarge: (413, "Content Too Large"),
    errors.RuleBroken: (422, "Unprocessable Content"),
}


def application_problem(exc: errors.ApplicationError) -> Response:
    status, title = next(
        (answer for kind, answer in APPLICATION_STATUS.items() if isinstance(exc, kind)),
        (400, "Bad Request"),
    )
    extensions = {"code": exc.code, **exc.details}
    if exc.fields:
        extensions.update(field_errors(exc.fields))
    return problem_response(status, title, exc.message, **extensions)


def response_for(exc: BaseException, *, correlation_id: str | None = None) -> Response:
    """The problem response for an exception raised while handling a request."""
    if isinstance(exc, errors.ApplicationError):
        return application_problem(exc)
    if isinstance(exc, Problem):
        response = problem_response(exc.status, exc.title, exc.detail, **exc.extensions)
        response.headers.extend(exc.headers)
        return response
    if isinstance(exc, ValidationError):
        return problem_response(
            400,
            "Bad Request",
            "The request body has invalid fields.",
            **field_errors(exc.normalized_messages()),
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


def max_json_bytes(request: Request) -> int:
    """``HTTP_MAX_JSON_BYTES`` as the service read it at start (JsonApi hands it to each
    request); read now for a request that came another way."""
    limit: int | None = getattr(request, "max_json_bytes", None)
    if limit:
        return limit
    configured: int = ServiceSettings.read_one("http_max_json_bytes")
    return configured


def load_json(request: Request, schema: Schema, *, partial: bool = False) -> Any:
    """Parse and validate a JSON body; bad JSON and invalid fields become 400 problems,
    a body over ``HTTP_MAX_JSON_BYTES`` (1 MiB) a 413 problem."""
    if request.mimetype != JSON:
        raise Problem(f"Content-Type must be {JSON}, not {request.mimetype or 'missing'}.")
    limit = max_json_bytes(request)
    if (request.content_length or 0) > limit:
        raise PayloadTooLarge.over("The JSON body", limit)
    try:
        payload = json.loads(request.get_data())
        found = unstorable(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise Problem(f"The body is not valid JSON: {exc}.") from None
    except RecursionError:
        raise Problem("The body is nested too deeply.") from None
    if found:
        errors = found if isinstance(found, dict) else {"_schema": found}
        raise Problem("The request body has invalid fields.", errors=errors)
    return schema.load(payload, partial=partial)


def load_query(request: Request, schema: Schema) -> Any:
    """Validate query parameters; invalid ones become a 400 problem naming them."""
    arguments = request.args.to_dict()
    errors = unstorable(arguments)
    if not errors:
        try:
            return schema.load(arguments)
        except ValidationError as exc:
            errors = exc.normalized_messages()
    raise Problem("The query string has invalid parameters.", **field_errors(errors))


def unstorable_text(value: str) -> str | None:
    """Why ``value`` cannot be text of this API (a NUL or a lone surrogate), or None."""
    found = _UNSTORABLE.search(value)
    if found is None:
        return None
    name = "NUL" if found.group() == "\x00" else "a lone UTF-16 surrogate"
    return f"Contains {name} (U+{ord(found.group()):04X}), which is not allowed in text."


def unstorable(value: Any) -> Any:
    """Errors shaped like marshmallow's for each key or string of ``value`` (JSON-like data)
    that cannot be stored, or None when there is none."""
    if isinstance(value, str):
        reason = unstorable_text(value)
        return [reason] if reason else None
    pairs: list[tuple[str | int, Any]]
    if isinstance(value, dict):
        pairs = [
            (_printable(key), [unstorable_text(key)] if unstorable_text(key) else unstorable(item))
            for key, item in value.items()
        ]
    elif isinstance(value, list):
        pairs = list(enumerate(map(unstorable, value)))
    else:
        return None
    return {key: errors for key, errors in pairs if errors} or None


# a NUL or surrogate escaped (\u0000, \ud800), or a surrogate encoded raw, which json.loads
# decodes with "surrogatepass" (a raw NUL it refuses); in text, either of them as it is
_UNSTORABLE_JSON = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])|\xed[\xa0-\xbf]")
_UNSTORABLE_JSON_TEXT = re.compile(r"\\u(?:0000|[dD][89a-fA-F])|" + _UNSTORABLE.pattern)


def may_hold_unstorable(body: object) -> bool:
    """False when the JSON text ``body`` (bytes, or text as decoded) cannot hold a string
    :func:`unstorable` refuses, so that its decoded data need not be walked (a surrogate
    pair's escape walks it too)."""
    if isinstance(body, bytes):
        return _UNSTORABLE_JSON.search(body) is not None
    if isinstance(body, str):
        return _UNSTORABLE_JSON_TEXT.search(body) is not None
    return True


def _printable(text: str) -> str:
    return text.encode("utf-8", "backslashreplace").decode()


class PageQuery(Schema):
    """``?page=1&per_page=50``; subclass it to add a list's filters."""

    # bounded so that the row offset fits PostgreSQL's bigint
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1_000_000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


def page_schema(item: type[Schema], name: str | None = None) -> type[Schema]:
    """The documented shape of ``page_response`` around ``item`` (``<item>Page`` unless
    ``name`` is given)."""
    shape: type[Schema] = type(
        name or f"{item.__name__}Page",
        (Schema,),
        {
            "items": fields.List(fields.Nested(item), required=True),
            "page": fields.Integer(required=True),
            "per_page": fields.Integer(required=True),
            "total": fields.Integer(required=True),
        },
    )
    return shape


def page_response(items: list[Any], *, total: int, page: int, per_page: int) -> dict[str, Any]:
    return {"items": items, "page": page, "per_page": per_page, "total": total}
