"""Alembic migrations, run from code: the messaging tables, then the service's own tables.

The outbox and inbox tables belong to this library and have their own version table, so a
change to them is written once, here, and reaches every service with ``asn-admin migrate``.
A service keeps its migrations in ``<package>/migrations`` with a three-line ``env.py``::

    from asn_shared.migrations import run_env
    from competency.models import metadata
    run_env(metadata)
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from alembic import command, context, op
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, pool, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import OperationalError

from .persistence import make_engine, messaging_metadata

MESSAGING_MIGRATIONS = Path(__file__).parent / "messaging_migrations"
MESSAGING_VERSION_TABLE = "asn_messaging_version"
MAINTENANCE_DATABASE = "postgres"
EXISTS = "SELECT 1 FROM pg_database WHERE datname = :name"
CONNECT_TIMEOUT = 10  # seconds before a server that does not answer is given up

# one of alembic's comparisons, untyped there: ("add_table", Table), ("remove_index", Index),
# ("add_column", schema, table, Column), ...; column changes come as a list of such tuples
Difference = tuple[Any, ...] | list[tuple[Any, ...]]


class DatabaseUnavailable(RuntimeError):
    """The database server named by a URL cannot be reached or refuses the connection."""


def safe_url(url: str) -> str:
    """``url`` fit for a message: the password replaced by ``***``."""
    return make_url(url).render_as_string(hide_password=True)


def ensure_database(url: str) -> bool:
    """Create the database ``url`` names when the server has none of that name; True if it
    did. The server's maintenance database (``postgres``) is used only when the named one
    cannot be reached, so a deployment whose databases exist needs no rights beyond its own.
    Raises DatabaseUnavailable, naming the URL without its password, when the server does not
    answer or refuses the connection."""
    target = make_url(url)
    if not target.database:
        raise DatabaseUnavailable(f"{safe_url(url)} names no database")
    database = target.database
    try:
        _execute_once(target, "SELECT 1")
        return False
    except OperationalError as error:
        reason = _first_line(error)
    maintenance = target.set(database=MAINTENANCE_DATABASE)
    try:
        if _execute_once(maintenance, EXISTS, name=database):
            raise DatabaseUnavailable(f"cannot connect to {safe_url(url)}: {reason}")
        quoted = database.replace('"', '""')
        _execute_once(maintenance, f'CREATE DATABASE "{quoted}"')
    except OperationalError as error:
        reason = _first_line(error)
        raise DatabaseUnavailable(f"cannot connect to {safe_url(url)}: {reason}") from None
    return True


def _execute_once(url: URL, statement: str, **parameters: object) -> object:
    """Run one statement outside a transaction on a connection of its own; its first value."""
    engine = make_engine(
        url.render_as_string(hide_password=False),
        poolclass=pool.NullPool,
        isolation_level="AUTOCOMMIT",
        connect_args={"connect_timeout": CONNECT_TIMEOUT},
    )
    try:
        with engine.connect() as connection:
            result = connection.execute(text(statement), parameters)
            return result.scalar() if result.returns_rows else None
    finally:
        engine.dispose()


def _first_line(error: OperationalError) -> str:
    lines = str(error.orig).strip().splitlines()
    return lines[0].strip() if lines else type(error.orig).__name__


def alembic_config(
    script_location: Path, url: str, version_table: str = "alembic_version"
) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(script_location))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["version_table"] = version_table
    return cfg


def upgrade(url: str, service_migrations: Path | None = None) -> None:
    """Bring a service database to the newest schema."""
    command.upgrade(alembic_config(MESSAGING_MIGRATIONS, url, MESSAGING_VERSION_TABLE), "head")
    if service_migrations is not None:
        command.upgrade(alembic_config(service_migrations, url), "head")


def run_env(target_metadata: MetaData | None) -> None:
    """The body of every ``env.py``: run migrations online against ``sqlalchemy.url``."""
    cfg = context.config
    url = cfg.get_main_option("sqlalchemy.url")
    if url is None:  # alembic_config always sets it
        raise RuntimeError("alembic: no sqlalchemy.url to migrate")
    engine = make_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            version_table=cfg.attributes.get("version_table", "alembic_version"),
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()


def differences(url: str, target_metadata: MetaData) -> list[Difference]:
    """What the models and the library's messaging tables declare that the migrated database
    lacks (or has extra): empty if the migrations and the models agree."""
    expected = MetaData()
    for table in [*messaging_metadata.tables.values(), *target_metadata.tables.values()]:
        table.to_metadata(expected)
    engine = make_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            found: list[Difference] = compare_metadata(
                MigrationContext.configure(connection), expected
            )
    finally:
        engine.dispose()
    versions = {MESSAGING_VERSION_TABLE, "alembic_version"}
    return [change for change in found if _table_of(change) not in versions]


def _table_of(change: Difference) -> str:
    kind, subject, *rest = change[0] if isinstance(change, list) else change
    if kind.endswith("_table"):
        return str(subject.name)
    if hasattr(subject, "table"):  # an index or a constraint
        return str(subject.table.name)
    return str(rest[0])  # (kind, schema, table, ...) for columns


def baseline() -> None:
    """``upgrade`` and ``downgrade`` of a service's first revision, ``<service>_0001``: the
    messaging tables come from this library's own migrations, the service's tables from the
    revisions after it, so the baseline changes nothing either way."""


def rename_inbox_consumers(renames: dict[str, str]) -> None:
    """In a service's migration: the inbox rows of each old consumer identity become the new
    one's, so events handled under the old name stay handled. Run inside the migration."""
    for old, new in renames.items():
        names = {"old": old, "new": new}
        op.execute(text(RENAME_INBOX_CONSUMER).bindparams(**names))
        op.execute(text("DELETE FROM inbox WHERE consumer = :old").bindparams(old=old))


def inbox_consumer_renames(
    renames: dict[str, str],
) -> tuple[Callable[[], None], Callable[[], None]]:
    """A service migration's ``upgrade`` and ``downgrade`` that only rename consumers:
    ``renames`` (old: new) one way, and back the other."""
    return (
        lambda: rename_inbox_consumers(renames),
        lambda: rename_inbox_consumers({new: old for old, new in renames.items()}),
    )


RENAME_INBOX_CONSUMER = """
UPDATE inbox SET consumer = :new
WHERE consumer = :old
  AND NOT EXISTS (
    SELECT 1 FROM inbox AS known WHERE known.consumer = :new AND known.event_id = inbox.event_id
  )
"""
