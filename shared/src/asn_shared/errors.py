"""The suite's application errors: what a use case raises when it cannot do what was asked.

Use cases know nothing of HTTP or of marshmallow. Each error carries a sentence for people,
a stable ``code`` for programs and, where fields are at fault, their messages by field name;
:func:`asn_shared.web.response_for` is the one place that turns them into problem+json::

    def cancel(uow, caller, enrollment_id):
        with uow:
            enrollment = uow.session.get(Enrollment, enrollment_id)
            if enrollment is None:
                raise NotFound(f"Pendaftaran {enrollment_id} tidak ada.")
            ...

answers ``404 {"title": "Not Found", "detail": "Pendaftaran … tidak ada.", "code": "not_found"}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class CodedMessage(str):
    """An error sentence for people with a stable code beside it for programs (e.g.
    ``nip.serial``): field errors made of them answer ``error_codes`` shaped like ``errors``."""

    code: str

    def __new__(cls, code: str, text: str) -> CodedMessage:
        message = super().__new__(cls, text)
        message.code = code
        return message


class ApplicationError(Exception):
    """A request a use case refuses, for a reason the caller can act on."""

    code = "error"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        fields: Mapping[str, Any] | None = None,
        **details: Any,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or type(self).code
        self.fields = dict(fields) if fields else None
        self.details = details


class NotFound(ApplicationError):
    """What the request names does not exist (or is not the caller's to know of)."""

    code = "not_found"


class Forbidden(ApplicationError):
    """The caller's role or scope does not reach what the request names."""

    code = "forbidden"


class Conflict(ApplicationError):
    """The request clashes with the current state: a duplicate, a status that moved on."""

    code = "conflict"


class Invalid(ApplicationError):
    """Fields of the request are wrong in themselves (``fields`` names them)."""

    code = "invalid"

    def __init__(self, fields: Mapping[str, Any], message: str | None = None, **kw: Any) -> None:
        super().__init__(message or "The request body has invalid fields.", fields=fields, **kw)


class RuleBroken(ApplicationError):
    """A well-formed request that a rule of the domain refuses."""

    code = "rule_broken"


class TooLarge(ApplicationError):
    """The request carries more than the service takes in one go."""

    code = "too_large"
