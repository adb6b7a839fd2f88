"""Announce units as competency would, to a service that keeps the organisation tree."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta

from .metrics import events_handled
from .waiting import wait_for

HANDLERS = {"unit.registered": "on_unit_registered", "unit.updated": "on_unit_updated"}
ANNOUNCED = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
PLAJU = {  # code: parent; the operator of KEC-PLAJU sees KEC-PLAJU and KEL-PLAJU-ULU
    "PEMKOT": None,
    "KEC-PLAJU": "PEMKOT",
    "KEL-PLAJU-ULU": "KEC-PLAJU",
    "DINKES": "PEMKOT",
}


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


def register_tree(publish_event, url: str, tree: Mapping[str, str | None]) -> None:
    """Announce each unit of ``tree`` (code: parent) as registered at ``ANNOUNCED``."""
    states = [unit_state(code, parent, ANNOUNCED) for code, parent in tree.items()]
    announce(publish_event, url, "unit.registered", states)


def check_a_move_is_followed(publish_event, url: str, operator_reaches: Callable[[], int]) -> None:
    """PUSK-PLAJU, registered under DINKES, moves under KEC-PLAJU: what KEC-PLAJU's operator
    gets asking for PUSK-PLAJU's data (``operator_reaches``, a status) is 403 before the move
    and 200 after it, and stays 200 when an older announcement arrives late."""
    assert operator_reaches() == 403, "PUSK-PLAJU is outside KEC-PLAJU before the move"
    moved = ANNOUNCED + timedelta(days=30)
    announce(publish_event, url, "unit.updated", [unit_state("PUSK-PLAJU", "KEC-PLAJU", moved)])
    assert operator_reaches() == 200, "PUSK-PLAJU is inside KEC-PLAJU after the move"
    late = unit_state("PUSK-PLAJU", "DINKES", moved - timedelta(days=1))  # older, arriving late
    announce(publish_event, url, "unit.updated", [late])
    assert operator_reaches() == 200, "an older announcement arriving late moved PUSK-PLAJU back"
