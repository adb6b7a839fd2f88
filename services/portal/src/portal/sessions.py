"""Server-side sessions: the browser holds a random id, the tokens stay in the portal's own
PostgreSQL database, which every replica shares.

Three tables, created at start when missing: ``portal_sessions`` (a session's tokens and
claims, with the time it expires; rows an hour past it are removed), ``portal_logins`` (a
sign-in under way: PKCE verifier, state, nonce; ten minutes) and ``portal_imports`` (the
import reports a person uploaded, followed until the chain has settled; twenty per person).
A sign-in started at one replica finishes at another, and a restart signs nobody out.

The database never holds what would let its reader act as someone: a session's row is found by
a hash of the browser's session id, and its tokens are sealed (Fernet) with a key derived from
that id, which only the browser keeps.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.fernet import Fernet
from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    MetaData,
    String,
    Table,
    create_engine,
    delete,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.pool import NullPool

LOGIN_SECONDS = 600  # a sign-in not finished in ten minutes starts again
KEPT_SECONDS = 3600  # an expired session's row stays this long, then it is removed
KEPT_IMPORTS = 20  # per person, the newest
SCHEMA_LOCK = 7_406_521  # pg_advisory_xact_lock key: one replica creates the tables at a time

metadata = MetaData()
sessions_table = Table(
    "portal_sessions",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("data", JSONB, nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False, index=True),
)
logins_table = Table(
    "portal_logins",
    metadata,
    Column("state", String(64), primary_key=True),
    Column("data", JSONB, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, index=True),
)
imports_table = Table(
    "portal_imports",
    metadata,
    Column("owner", String(255), primary_key=True),
    Column("id", String(64), primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("report", JSONB, nullable=False),
    Column("progress", JSONB, nullable=False),
)


class StoreUnavailable(RuntimeError):
    """The portal's database does not answer; the message names it without its password."""


def _at(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def row_key(session_id: str) -> str:
    """The key of a session's row: a hash of its id, so that the table names no session."""
    return hashlib.sha256(b"kompas-portal row\0" + session_id.encode()).hexdigest()


def _cipher(session_id: str) -> Fernet:
    digest = hashlib.sha256(b"kompas-portal seal\0" + session_id.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def _sealed(session: Session) -> dict[str, str]:
    plain = json.dumps(session.data()).encode()
    return {"sealed": _cipher(session.id).encrypt(plain).decode()}


def _opened(session_id: str, data: dict[str, Any]) -> dict[str, Any]:
    return json.loads(_cipher(session_id).decrypt(data["sealed"].encode()))


@dataclass
class Session:
    id: str
    access_token: str
    expires_at: float  # the access token's expiry, or the session's cap when sooner
    claims: dict[str, Any]
    name: str
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    refresh_token: str | None = None
    id_token: str | None = None
    created_at: float = field(default_factory=time.time)

    @property
    def expired(self) -> bool:
        return time.time() >= self.expires_at

    @property
    def owner(self) -> str:
        """Who signed in, as the provider names them (``sub``)."""
        return str(self.claims.get("sub") or self.name)

    def data(self) -> dict[str, Any]:
        values = asdict(self)
        del values["id"]
        return values


@dataclass
class PendingLogin:
    """What the callback needs to finish a sign-in it started: PKCE verifier, state, nonce."""

    state: str
    verifier: str
    nonce: str
    next_url: str
    created_at: float = field(default_factory=time.time)


@dataclass
class FollowedImport:
    """An import report as competency gave it and how far the chain got (kept between polls,
    so that each poll asks only about what is still open)."""

    report: dict[str, Any]
    progress: dict[str, Any]


def ensure_database(url: str) -> bool:
    """Create the database ``url`` names when the server has none of that name; True if it
    did. The server's ``postgres`` database is used only when the named one cannot be
    reached, so a deployment whose database exists needs no rights beyond its own."""
    target = make_url(url)
    safe = target.render_as_string(hide_password=True)
    try:
        _once(target, "SELECT 1")
        return False
    except OperationalError as error:
        reason = str(error.orig).strip().splitlines()[0]
    maintenance = target.set(database="postgres")
    try:
        if _once(maintenance, "SELECT 1 FROM pg_database WHERE datname = :name", target.database):
            raise StoreUnavailable(f"cannot connect to {safe}: {reason}")
        _once(maintenance, 'CREATE DATABASE "{}"'.format(target.database.replace('"', '""')))
    except OperationalError as error:
        raise StoreUnavailable(f"cannot connect to {safe}: {error.orig}".strip()) from None
    except DBAPIError as error:  # another replica created it at the same moment
        if getattr(error.orig, "pgcode", None) != "42P04":
            raise
    return True


def engine_for(url: Any, **options: Any) -> Engine:
    """An engine on psycopg2 (SQLAlchemy's default for ``postgresql://`` is psycopg 3), its
    parameters (tokens among them) kept out of error messages."""
    target = make_url(url)
    if target.drivername == "postgresql":
        target = target.set(drivername="postgresql+psycopg2")
    return create_engine(target, hide_parameters=True, **options)


def _once(url: Any, statement: str, name: str | None = None) -> Any:
    engine = engine_for(url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            result = connection.execute(text(statement), {"name": name})
            return result.scalar() if result.returns_rows else None
    finally:
        engine.dispose()


class Store:
    """Sessions, sign-ins under way and followed imports in the portal's database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def open(cls, url: str, connections: int = 16) -> Store:
        """The store at ``url``: the database created if missing, then its tables."""
        ensure_database(url)
        engine = engine_for(
            url, pool_size=4, max_overflow=connections, pool_pre_ping=True, pool_recycle=1800
        )
        with engine.begin() as connection:
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK})
            metadata.create_all(connection)
        return cls(engine)

    def close(self) -> None:
        self.engine.dispose()

    def answers(self) -> bool:
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except DBAPIError:
            return False
        return True

    # --- sessions -------------------------------------------------------------------------

    def create(self, **values: Any) -> Session:
        session = Session(id=secrets.token_urlsafe(32), **values)
        with self.engine.begin() as connection:
            connection.execute(
                delete(sessions_table).where(
                    sessions_table.c.expires_at < func.now() - timedelta(seconds=KEPT_SECONDS)
                )
            )
            connection.execute(
                insert(sessions_table).values(
                    id=row_key(session.id),
                    data=_sealed(session),
                    expires_at=_at(session.expires_at),
                )
            )
        return session

    def get(self, session_id: str | None) -> Session | None:
        if not session_id or len(session_id) > 64:
            return None
        with self.engine.connect() as connection:
            row = connection.execute(
                select(sessions_table.c.data, sessions_table.c.expires_at).where(
                    sessions_table.c.id == row_key(session_id)
                )
            ).first()
        if row is None:
            return None
        session = Session(id=session_id, **_opened(session_id, row.data))
        session.expires_at = min(session.expires_at, row.expires_at.timestamp())
        return session

    def save(self, session: Session) -> None:
        """A session whose tokens were refreshed."""
        with self.engine.begin() as connection:
            connection.execute(
                update(sessions_table)
                .where(sessions_table.c.id == row_key(session.id))
                .values(data=_sealed(session), expires_at=_at(session.expires_at))
            )

    def drop(self, session_id: str | None) -> None:
        if not session_id:
            return
        with self.engine.begin() as connection:
            connection.execute(
                delete(sessions_table).where(sessions_table.c.id == row_key(session_id))
            )

    # --- sign-ins under way ---------------------------------------------------------------

    def start_login(self, login: PendingLogin) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                delete(logins_table).where(
                    logins_table.c.created_at < func.now() - timedelta(seconds=LOGIN_SECONDS)
                )
            )
            connection.execute(
                insert(logins_table).values(
                    state=login.state, data=asdict(login), created_at=_at(login.created_at)
                )
            )

    def finish_login(self, state: str) -> PendingLogin | None:
        """The sign-in ``state`` started, once: a second callback with it finds nothing."""
        if not state or len(state) > 64:
            return None
        with self.engine.begin() as connection:
            data = connection.scalar(
                delete(logins_table)
                .where(logins_table.c.state == state)
                .returning(logins_table.c.data)
            )
        login = PendingLogin(**data) if data else None
        if login and time.time() - login.created_at < LOGIN_SECONDS:
            return login
        return None

    # --- imports followed -----------------------------------------------------------------

    def keep_import(self, owner: str, report: dict[str, Any]) -> None:
        """An import report to follow; a person's oldest beyond the newest twenty go."""
        with self.engine.begin() as connection:
            values = {"created_at": func.now(), "report": report, "progress": {}}
            connection.execute(
                postgresql.insert(imports_table)
                .values(id=str(report["import_id"]), owner=owner, **values)
                .on_conflict_do_update(index_elements=["owner", "id"], set_=values)
            )
            newest = (
                select(imports_table.c.id)
                .where(imports_table.c.owner == owner)
                .order_by(imports_table.c.created_at.desc())
                .limit(KEPT_IMPORTS)
            )
            connection.execute(
                delete(imports_table).where(
                    imports_table.c.owner == owner, imports_table.c.id.not_in(newest)
                )
            )

    def followed_import(self, owner: str, import_id: str) -> FollowedImport | None:
        with self.engine.connect() as connection:
            row = connection.execute(
                select(imports_table.c.report, imports_table.c.progress).where(
                    imports_table.c.id == import_id, imports_table.c.owner == owner
                )
            ).first()
        return FollowedImport(row.report, row.progress) if row else None

    def save_progress(self, owner: str, import_id: str, progress: dict[str, Any]) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                update(imports_table)
                .where(imports_table.c.id == import_id, imports_table.c.owner == owner)
                .values(progress=progress)
            )
