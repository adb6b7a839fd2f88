"""The organisation tree, for scoping what an operator may see: a unit and its sub-units.

competency owns the units and announces them (``unit.registered``, ``unit.updated``); every
other service that scopes by unit mixes :class:`UnitTreeProjection` into its service class and
keeps its own copy in the ``unit_tree`` table. competency asks its own ``units`` table.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, TypeVarTuple

from sqlalchemy import CTE, ColumnElement, Select, Table, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from .auth import ADMIN, EMPLOYEE, OPERATOR, Principal
from .entrypoints import subscribe
from .events import Event
from .persistence import UnitOfWork, unit_tree

if TYPE_CHECKING:
    from .dependencies import DatabaseAccess

Row = TypeVarTuple("Row")


def subtree(root: str, table: Table = unit_tree) -> CTE:
    """``root`` and every unit below it, however deep: a recursive CTE of unit codes."""
    tree = select(table.c.code).where(table.c.code == root).cte("subtree", recursive=True)
    return tree.union(select(table.c.code).where(table.c.parent_code == tree.c.code))


def units_within(session: Session, root: str, table: Table = unit_tree) -> set[str]:
    return set(session.scalars(select(subtree(root, table).c.code))) | {root}


def units_in_scope(
    session: Session, principal: Principal, table: Table = unit_tree
) -> set[str] | None:
    """The unit codes ``principal`` may see: ``None`` for all (admin), none but an operator's."""
    if principal.role == ADMIN:
        return None
    if principal.role == OPERATOR and principal.scope is not None:
        return units_within(session, principal.scope, table)
    return set()


def reachable_units(
    session: Session, principal: Principal, unit_code: str | None = None
) -> set[str] | None:
    """The units ``principal`` may list (``None``: all); refuses a ``unit_code`` filter
    outside them with a 403."""
    scope = units_in_scope(session, principal)
    if unit_code is not None:
        principal.require_unit(unit_code, scope)
    return scope


def check_reach(
    session: Session,
    principal: Principal,
    nip: str,
    unit_code: str | None,
    table: Table = unit_tree,
) -> None:
    """Employees reach their own records; operators those of their units; admins all."""
    if principal.role == EMPLOYEE:
        principal.require_nip(nip)
    else:
        principal.require_unit(unit_code, units_in_scope(session, principal, table))


def in_units(
    statement: Select[*Row], column: ColumnElement[str], scope: set[str] | None
) -> Select[*Row]:
    """``statement`` narrowed to rows whose ``column`` is one of ``scope`` (``None``: all)."""
    return statement if scope is None else statement.where(column.in_(scope))


def record_unit(uow: UnitOfWork, event: Event) -> None:
    """Keep the unit's latest state; an older announcement arriving late changes nothing."""
    data = event.data
    row = {
        "code": data["code"],
        "name": data["name"],
        "parent_code": data.get("parent_code"),
        "changed_at": data["changed_at"],
    }
    statement = insert(unit_tree).values(**row)
    statement = statement.on_conflict_do_update(
        index_elements=[unit_tree.c.code],
        set_={key: statement.excluded[key] for key in ("name", "parent_code", "changed_at")},
        where=unit_tree.c.changed_at < statement.excluded.changed_at,
    )
    uow.session.execute(statement)


class _ServiceWithDatabase(Protocol):
    @property
    def db(self) -> DatabaseAccess: ...


class UnitTreeProjection:
    """Mixin for a service class: follow competency's units into ``unit_tree``."""

    @subscribe("unit.registered", consumer="unit_registrations", formerly="on_unit_registered")
    def on_unit_registered(self: _ServiceWithDatabase, event: Event) -> None:
        self.db.handle_once(event, record_unit)

    @subscribe("unit.updated", consumer="unit_updates", formerly="on_unit_updated")
    def on_unit_updated(self: _ServiceWithDatabase, event: Event) -> None:
        self.db.handle_once(event, record_unit)
