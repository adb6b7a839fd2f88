"""Rows shown as dicts: what the views of every service build their payloads from."""

from __future__ import annotations

from typing import Any


def attributes(row: Any, *names: str) -> dict[str, Any]:
    """``row``'s attributes ``names``, each under its own name (in that order)."""
    return {name: getattr(row, name) for name in names}
