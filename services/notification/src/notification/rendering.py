"""Templates rendered with Jinja2 in the recipient's language; no I/O.

Templates are data an administrator may edit, so they run in Jinja2's sandbox.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache, partial
from typing import Any

from jinja2 import Template, TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment

from .domain import (
    format_date,
    format_gap,
    format_number,
    format_percent,
    format_rupiah,
    language_of,
)


class TemplateError(ValueError):
    """A template does not compile or does not render."""


def format_nip(nip: str | None) -> str:
    """``19860926 201505 1 001``: birth date, appointment month, sex, serial."""
    if not nip or len(nip) != 18:
        return nip or "-"
    return f"{nip[:8]} {nip[8:14]} {nip[14]} {nip[15:]}"


@cache
def environment(language: str) -> SandboxedEnvironment:
    env = SandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, autoescape=False)
    env.filters.update(
        rupiah=format_rupiah,
        date=partial(format_date, language=language),
        number=partial(format_number, language=language),
        gap=partial(format_gap, language=language),
        percent=partial(format_percent, language=language),
        nip=format_nip,
    )
    return env


def check(source: str, language: str = "id") -> None:
    """Raise TemplateError if ``source`` does not compile."""
    try:
        environment(language_of(language)).from_string(source)
    except TemplateSyntaxError as exc:
        raise TemplateError(f"line {exc.lineno}: {exc.message}") from None


@lru_cache(maxsize=256)
def compiled(source: str, language: str) -> Template:
    """A template compiled once per source text (compiling costs far more than rendering);
    keyed by the text itself, so an edited template is simply compiled anew."""
    return environment(language).from_string(source)


def render(subject: str, body: str, context: dict[str, Any], language: str) -> tuple[str, str]:
    """The subject (one line) and the body, rendered for a recipient."""
    language = language_of(language)
    try:
        rendered_subject = compiled(subject, language).render(context)
        rendered_body = compiled(body, language).render(context)
    except Exception as exc:
        raise TemplateError(f"{type(exc).__name__}: {exc}") from exc
    return re.sub(r"\s+", " ", rendered_subject).strip(), _tidy(rendered_body)


def _tidy(text: str) -> str:
    """At most one blank line in a row, and one final newline."""
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"
