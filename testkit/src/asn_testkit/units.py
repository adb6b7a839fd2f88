"""Announce units as competency would, to a service that keeps the organisation tree."""

from __future__ import annotations

from datetime import datetime

from .metrics import events_handled
from .waiting import wait_for

HANDLERS = {"unit.registered": "on_unit_registered", "unit.updated": "on_unit_updated"}


def unit_state(code: str, parent: str | None, changed_at: datetime) -> dict:
    return {
        "code": code,
        "name": f"Unit {code}",
        "parent_code": parent,
        "kind": None,
        "changed_at": changed_at,
    }


def announce(publish_event, url: str, name: str, states: list[dict]) -> None:
    """Publish ``unit.*`` events and wait until the service at ``url`` has handled them all."""
    handler = HANDLERS[name]
    before = events_handled(url, handler)
    for state in states:
        publish_event(name, state)
    wait_for(
        lambda: events_handled(url, handler) >= before + len(states),
        what=f"{len(states)} {name} handled",
    )
