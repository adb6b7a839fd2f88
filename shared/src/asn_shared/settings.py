"""Settings: every environment variable the suite reads, declared once.

A declaration (:func:`setting`) gives the variable, its default, a line saying what it does and
its kind: the type it is read as and the values it may take. A service's settings are a frozen
dataclass of declarations (``services/<name>/src/<name>/settings.py``) extending
:class:`ServiceSettings`, the ones every service reads. The service reads them once, at start
(:func:`of_container`); a value it cannot work with stops it there with a :class:`SettingError`
naming the variable and the values it takes. An empty variable counts as unset.

README.md's configuration table is printed from the same declarations::

    python -m asn_shared.settings                    # the table
    python -m asn_shared.settings --check README.md  # exit 1 when README's table differs

Longer than most modules: the shared declarations are the one list of what every service
reads, and sit beside the kinds and the table they are printed as.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from importlib.metadata import entry_points
from pathlib import Path
from types import MappingProxyType
from typing import Any, ClassVar, Protocol, Self, TypeGuard

COMMAND = "python -m asn_shared.settings"
SETTING = "asn_shared.setting"  # the dataclass field metadata key of a declaration
QUEUE_TYPES = ("classic", "quorum")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
BEGIN, END = "<!-- settings -->\n", "<!-- /settings -->"
NO_MARKS: Mapping[str, str] = MappingProxyType({})


class SettingError(ValueError, RuntimeError):
    """A setting with a value the service cannot work with: it refuses to start.

    A RuntimeError too, as a verification setting's refusal has always been."""


def choice(name: str, value: object, allowed: Iterable[str]) -> str:
    """``value`` of setting ``name`` if it is one of ``allowed``; else a SettingError that
    names the variable and the values it takes."""
    allowed = tuple(allowed)
    if str(value) not in allowed:
        raise SettingError(f"{name} must be one of {', '.join(allowed)}; not {str(value)!r}.")
    return str(value)


def listed(values: Iterable[object]) -> str:
    """``("a", "b")`` → ```a`, `b```: allowed values as the README shows them."""
    return ", ".join(f"`{value}`" for value in values)


def commas(values: Iterable[object]) -> str:
    """``(80, 100)`` → ``80,100``: a list as a variable holds it."""
    return ",".join(map(str, values))


# --- kinds: how a variable is read, and what it may hold ----------------------------------


class Kind(Protocol):
    def parse(self, name: str, text: str) -> Any:
        """The value of variable ``name`` holding ``text``, or a SettingError naming it."""

    def values(self) -> str:
        """The values it takes, as the README says them."""

    def cell(self, value: Any) -> str:
        """A value as the README's table shows it."""


@dataclass(frozen=True)
class Text:
    """Any text; ``what`` says what it should be."""

    what: str = "text"

    def parse(self, name: str, text: str) -> str:
        return text

    def values(self) -> str:
        return self.what

    def cell(self, value: Any) -> str:
        return f"`{value}`"


@dataclass(frozen=True)
class Whole:
    """A whole number from ``minimum`` to ``maximum`` (none: no upper bound)."""

    minimum: int = 1
    maximum: int | None = None

    def parse(self, name: str, text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < self.minimum or value > (self.maximum or value):
            raise SettingError(f"{name} must be {self.values()}; not {text!r}.")
        return value

    def values(self) -> str:
        if self.maximum is None:
            return f"a whole number, {self.minimum} or more"
        return f"a whole number from {self.minimum} to {self.maximum}"

    def cell(self, value: Any) -> str:
        return f"`{value}`"


@dataclass(frozen=True)
class Bytes(Whole):
    """A size in bytes, shown in MiB too."""

    def values(self) -> str:
        return f"a number of bytes, {self.minimum} or more"

    def cell(self, value: Any) -> str:
        mebibytes, rest = divmod(value, 1 << 20)
        return f"`{value}` ({mebibytes} MiB)" if mebibytes and not rest else f"`{value}`"


@dataclass(frozen=True)
class Number:
    """A finite number of ``unit``: 0 or more, or more than 0 when ``positive``."""

    unit: str = "seconds"
    positive: bool = False

    def parse(self, name: str, text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or value < 0 or (self.positive and value == 0):
            raise SettingError(f"{name} must be a number of {self.values()}; not {text!r}.")
        return value

    def values(self) -> str:
        return f"{self.unit}, {'more than 0' if self.positive else '0 or more'}"

    def cell(self, value: Any) -> str:
        return f"`{value:g}`"


@dataclass(frozen=True)
class OneOf:
    """One of ``allowed``, exactly as written."""

    allowed: tuple[str, ...]

    def parse(self, name: str, text: str) -> str:
        return choice(name, text, self.allowed)

    def values(self) -> str:
        return listed(self.allowed)

    def cell(self, value: Any) -> str:
        return f"`{value}`"


@dataclass(frozen=True)
class Parsed:
    """Read by ``function``, whose ValueError names the variable; ``what`` says what it takes
    and ``shown`` how a value reads."""

    function: Callable[[str], Any]
    what: str
    shown: Callable[[Any], str] = str

    def parse(self, name: str, text: str) -> Any:
        try:
            return self.function(text)
        except SettingError:
            raise
        except ValueError as error:
            raise SettingError(str(error)) from None

    def values(self) -> str:
        return self.what

    def cell(self, value: Any) -> str:
        return f"`{self.shown(value)}`"


CLAIM_PATH = Text("a dotted claim path")


def claim_paths(text: str) -> tuple[str, ...]:
    paths = tuple(path.strip() for path in text.split(",") if path.strip())
    if not paths:
        raise SettingError(f"AUTH_ROLES_CLAIM must name one claim path or more; not {text!r}.")
    return paths


# --- declarations -------------------------------------------------------------------------


@dataclass(frozen=True)
class Setting:
    """One environment variable: ``<SERVICE>``, ``<service>`` and ``<port>`` in its name and
    default stand for the service reading it. ``shown`` is the default as the README says it
    when the value alone says too little; ``nameko`` the key of the services' config.yaml that
    hands it to nameko too (dotted when nested)."""

    variable: str
    default: Any
    meaning: str
    kind: Kind = Text()
    shown: str | None = None
    nameko: str | None = None

    def name(self, marks: Mapping[str, str] = NO_MARKS) -> str:
        return _marked(self.variable, marks)

    def default_for(self, marks: Mapping[str, str] = NO_MARKS) -> Any:
        # exactly str: a StrEnum default stays a member
        return _marked(self.default, marks) if type(self.default) is str else self.default

    def read(self, environ: Mapping[str, str], marks: Mapping[str, str] = NO_MARKS) -> Any:
        name = self.name(marks)
        text = environ.get(name, "")
        return self.kind.parse(name, text) if text else self.default_for(marks)

    def row(self, prefix: str = "") -> str:
        default = self.shown or ("none" if self.default is None else self.kind.cell(self.default))
        return f"| `{self.variable}` | {default} | {self.kind.values()} | {prefix}{self.meaning} |"


def _marked(text: str, marks: Mapping[str, str]) -> str:
    for mark, value in marks.items():
        text = text.replace(mark, value)
    return text


def setting(
    variable: str,
    default: Any,
    meaning: str,
    kind: Kind = Text(),
    *,
    shown: str | None = None,
    nameko: str | None = None,
) -> Any:
    """A field of a :class:`Settings` dataclass, read from ``variable`` (see :class:`Setting`)."""
    return field(metadata={SETTING: Setting(variable, default, meaning, kind, shown, nameko)})


_LOADED: list[Settings] = []


@dataclass(frozen=True, kw_only=True)
class Settings:
    """A group of declared settings; a subclass declares its fields with :func:`setting`."""

    @classmethod
    def declarations(cls) -> dict[str, Setting]:
        """Field name → declaration, the inherited ones first."""
        return {f.name: f.metadata[SETTING] for f in fields(cls) if SETTING in f.metadata}

    @classmethod
    def own_declarations(cls) -> dict[str, Setting]:
        """Those declared by the class itself, not by the classes it extends."""
        inherited = {
            name for base in cls.__mro__[1:] if _is_settings(base) for name in base.declarations()
        }
        return {name: s for name, s in cls.declarations().items() if name not in inherited}

    @classmethod
    def marks(cls, **context: Any) -> dict[str, str]:
        """What ``<...>`` in a variable's name and default stands for."""
        return {}

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None, **context: Any) -> Self:
        """Every declared setting read from ``environ`` (the process's by default), checked:
        one SettingError names every variable the service cannot work with."""
        environ = os.environ if environ is None else environ
        marks = cls.marks(**context)
        values, refusals = {}, []
        for name, declaration in cls.declarations().items():
            try:
                values[name] = declaration.read(environ, marks)
            except SettingError as refusal:
                refusals.append(str(refusal))
        if refusals:
            raise SettingError("\n".join(refusals))
        return cls(**values, **context)

    @classmethod
    def read_one(cls, name: str, environ: Mapping[str, str] | None = None, **context: Any) -> Any:
        """One setting (by field name) read from ``environ`` now, checked."""
        environ = os.environ if environ is None else environ
        return cls.declarations()[name].read(environ, cls.marks(**context))

    @classmethod
    def load(cls, **context: Any) -> Self:
        """This process's settings: read from its environment at the first call (a service's
        start), the same object afterwards, also for a class this one extends."""
        for loaded in _LOADED:
            if isinstance(loaded, cls) and all(getattr(loaded, k) == v for k, v in context.items()):
                return loaded
        settings = cls.from_environment(**context)
        _LOADED.append(settings)
        return settings


def _is_settings(cls: type) -> TypeGuard[type[Settings]]:
    return isinstance(cls, type) and issubclass(cls, Settings) and cls is not Settings


@dataclass(frozen=True, kw_only=True)
class AuthSettings(Settings):
    """How a service verifies bearer tokens (asn_shared.auth; README, "Identity")."""

    auth_oidc_issuer: str | None = setting(
        "AUTH_OIDC_ISSUER",
        None,
        'the OpenID Connect provider whose tokens the services accept (see "Identity"); '
        "`asn-admin token` asks it for tokens. A service starts only with it or `AUTH_JWT_KEY`",
        Text("the provider's issuer URL"),
        shown="none (`make run`: `http://127.0.0.1:9000`, its development provider)",
    )
    auth_oidc_audience: str = setting(
        "AUTH_OIDC_AUDIENCE",
        "kompas-asn",
        "the audience (`aud`) a provider's token must carry",
    )
    auth_jwks_url: str | None = setting(
        "AUTH_JWKS_URL",
        None,
        "where the provider's signing keys are, when the services must reach them by another "
        "address",
        Text("a URL"),
        shown="the `jwks_uri` of the provider's discovery document",
    )
    auth_jwks_refetch_seconds: float = setting(
        "AUTH_JWKS_REFETCH_SECONDS",
        10.0,
        "for tokens naming an unknown `kid`, at most one fetch of the keys this often",
        Number(),
    )
    auth_jwks_cache_seconds: float = setting(
        "AUTH_JWKS_CACHE_SECONDS",
        300.0,
        "how long fetched keys are used before they are fetched again (they stay while the "
        "provider is down)",
        Number(),
    )
    auth_roles_claim: tuple[str, ...] = setting(
        "AUTH_ROLES_CLAIM",
        ("realm_access.roles", "role"),
        "dotted claim paths holding roles (a string or a list), e.g. "
        "`resource_access.kompas-asn.roles` for Keycloak client roles; a token holding several "
        "acts in the first of `admin`, `operator`, `employee`, `agency`",
        Parsed(claim_paths, "claim paths, comma-separated", commas),
    )
    auth_unit_claim: str = setting(
        "AUTH_UNIT_CLAIM", "unit", "the claim holding an operator's unit code", CLAIM_PATH
    )
    auth_nip_claim: str = setting(
        "AUTH_NIP_CLAIM", "nip", "the claim holding an employee's NIP", CLAIM_PATH
    )
    auth_agency_claim: str = setting(
        "AUTH_AGENCY_CLAIM", "agency", "the claim holding an agency's id", CLAIM_PATH
    )
    auth_jwt_key: str | None = setting(
        "AUTH_JWT_KEY",
        None,
        "verifies tokens without a provider",
        Text("a PEM public key (RS/ES/PS/EdDSA) or an HS256 shared secret"),
    )
    auth_jwt_issuer: str | None = setting(
        "AUTH_JWT_ISSUER",
        None,
        "when set, an `AUTH_JWT_KEY` token's `iss` must match",
        shown="not checked",
    )
    auth_jwt_audience: str | None = setting(
        "AUTH_JWT_AUDIENCE",
        None,
        "when set, an `AUTH_JWT_KEY` token's `aud` must match",
        shown="not checked",
    )


@dataclass(frozen=True, kw_only=True)
class ServiceSettings(AuthSettings):
    """What every service reads; a service's own settings class extends it and sets ``name``
    and ``port``."""

    name: ClassVar[str] = ""
    port: ClassVar[int] = 8000
    service: str = ""  # whose settings: the service of <SERVICE>_DATABASE_URL, ...

    amqp_uri: str = setting(
        "AMQP_URI",
        "amqp://guest:guest@localhost:5672/",
        "RabbitMQ, virtual host included; on a cluster every node, separated by `;` (see "
        '"RabbitMQ cluster")',
        Text("an AMQP URL"),
        nameko="AMQP_URI",
    )
    database_url: str = setting(
        "<SERVICE>_DATABASE_URL",
        "postgresql://postgres@127.0.0.1:5432/<service>",
        "the service's own database, e.g. `COMPETENCY_DATABASE_URL`",
        Text("a PostgreSQL URL"),
    )
    http_address: str = setting(
        "<SERVICE>_HTTP_ADDRESS",
        "0.0.0.0:<port>",
        "where the HTTP API listens, e.g. `TRAINING_HTTP_ADDRESS`; `<port>` is the service's "
        "(see the table at the top)",
        Text("`host:port`"),
        nameko="WEB_SERVER_ADDRESS",
    )
    max_workers: int = setting(
        "MAX_WORKERS",
        10,
        "concurrent workers per process (also the AMQP prefetch)",
        Whole(),
        nameko="max_workers",
    )
    event_max_attempts: int = setting(
        "EVENT_MAX_ATTEMPTS", 5, "handler attempts before a message is dead-lettered", Whole()
    )
    event_retry_delay: float = setting(
        "EVENT_RETRY_DELAY", 1.0, "seconds before the first retry; doubled each time", Number()
    )
    consume_batch_size: int = setting(
        "CONSUME_BATCH_SIZE",
        50,
        "events a handler takes from its queue and handles in one transaction (1: one by one)",
        Whole(),
    )
    consume_batch_wait_ms: float = setting(
        "CONSUME_BATCH_WAIT_MS",
        10.0,
        "milliseconds a handler waits for more events before handling a batch that is not full",
        Number("milliseconds"),
    )
    event_max_bytes: int = setting(
        "EVENT_MAX_BYTES",
        1 << 20,
        "a larger event is dead-lettered unread (set RabbitMQ's `max_message_size` too)",
        Bytes(),
    )
    queue_type: str = setting(
        "QUEUE_TYPE",
        "classic",
        "`quorum` on a RabbitMQ cluster: every handler, retry and dead-letter queue a quorum queue",
        OneOf(QUEUE_TYPES),
    )
    queue_delivery_limit: int = setting(
        "QUEUE_DELIVERY_LIMIT",
        20,
        "quorum queues: deliveries of one message before it is dead-lettered (`x-delivery-limit`)",
        Whole(),
    )
    outbox_batch_size: int = setting(
        "OUTBOX_BATCH_SIZE", 500, "outbox rows the relay publishes per confirmed batch", Whole()
    )
    outbox_poll_interval: float = setting(
        "OUTBOX_POLL_INTERVAL",
        0.5,
        "seconds between outbox polls when idle (a local commit wakes it at once)",
        Number(positive=True),
    )
    outbox_retention_hours: float = setting(
        "OUTBOX_RETENTION_HOURS",
        168.0,
        "published outbox rows kept this long; inbox ids four times longer",
        Number("hours"),
    )
    http_max_body_bytes: int = setting(
        "HTTP_MAX_BODY_BYTES",
        8 << 20,
        "a larger request body is refused with a 413 problem before any work",
        Bytes(),
    )
    http_max_json_bytes: int = setting(
        "HTTP_MAX_JSON_BYTES",
        1 << 20,
        "a larger JSON body is refused with a 413 problem before any work",
        Bytes(),
    )
    log_level: str = setting(
        "LOG_LEVEL",
        "INFO",
        "logs are JSON lines with `service`, `correlation_id` and `event_id`",
        OneOf(LOG_LEVELS),
        nameko="LOGGING.root.level",
    )

    @classmethod
    def marks(cls, service: str = "", **context: Any) -> dict[str, str]:
        service = service or cls.name
        return {"<SERVICE>": service.upper(), "<service>": service, "<port>": str(cls.port)}

    @classmethod
    def from_environment(
        cls, environ: Mapping[str, str] | None = None, *, service: str = "", **context: Any
    ) -> Self:
        return super().from_environment(environ, service=service or cls.name, **context)

    @classmethod
    def load(cls, *, service: str = "", **context: Any) -> Self:
        return super().load(service=service or cls.name, **context)


def of_container(container: Any) -> ServiceSettings:
    """The settings of the service a nameko container runs (its class's ``settings_class``),
    read once, at the first call of its start."""
    settings_class = getattr(container.service_cls, "settings_class", ServiceSettings)
    return settings_class.load(service=container.service_name)


@dataclass(frozen=True, kw_only=True)
class AdminSettings(Settings):
    """What ``asn-admin`` reads besides the services' settings (documented here; the commands
    read AMQP_URI, the database URLs, QUEUE_TYPE and QUEUE_DELIVERY_LIMIT as the services do)."""

    broker_user: str | None = setting(
        "<SERVICE>_AMQP_USER",
        "<service>",
        '`asn-admin broker-users`: the service\'s own broker user (see "RabbitMQ users")',
        shown="the service's name",
    )
    broker_password: str | None = setting(
        "<SERVICE>_AMQP_PASSWORD",
        None,
        "`asn-admin broker-users`: that user's password",
    )
    management_url: str | None = setting(
        "RABBITMQ_MANAGEMENT_URL",
        None,
        "`asn-admin broker-users` and the tests: RabbitMQ's management API",
        Text("a URL"),
        shown="`http://<AMQP_URI's host>:15672` (the tests: `http://localhost:15672`)",
    )
    event_stream_max_age: str = setting(
        "EVENT_STREAM_MAX_AGE",
        "400D",
        "`asn-admin declare-topology`: how long the event stream for agencies keeps events "
        '(see "Reading the event stream")',
        Text("a number and a unit, `Y` `M` `D` `h` `m` `s` (RabbitMQ's `x-max-age`)"),
    )
    event_stream_max_bytes: int = setting(
        "EVENT_STREAM_MAX_BYTES",
        20_000_000_000,
        "`asn-admin declare-topology`: the size the event stream for agencies is trimmed to, "
        "whole segments at a time",
        Bytes(),
    )
    client_secret: str | None = setting(
        "AUTH_CLIENT_SECRET",
        None,
        "`asn-admin token agency --agency CLIENT_ID`: that client's secret (at the development "
        "provider both default to its demo agency)",
    )


@dataclass(frozen=True, kw_only=True)
class DevelopmentSettings(Settings):
    """What ``make run``'s Procfile, compose and the tests read (documented here)."""

    devidp_port: int = setting(
        "DEVIDP_PORT",
        9000,
        "`make run` only: the development OpenID Connect provider's port on 127.0.0.1",
        Whole(1, 65535),
    )
    devmail_port: int = setting(
        "DEVMAIL_PORT",
        1025,
        "`make run` only: the development mail sink's port on 127.0.0.1 (notification's "
        "`SMTP_PORT` there)",
        Whole(1, 65535),
    )
    devmail_dir: str = setting(
        "DEVMAIL_DIR", ".mail", "`make run` only: the folder the development mail sink writes to"
    )
    keycloak_admin_password: str = setting(
        "KEYCLOAK_ADMIN_PASSWORD",
        "admin",
        "compose profile `identity` only: the Keycloak admin console's password",
    )
    test_amqp_uri: str | None = setting(
        "TEST_AMQP_URI",
        None,
        "the tests' RabbitMQ (with the management plugin)",
        Text("an AMQP URL"),
        shown="the one on localhost, else a container",
    )
    test_database_url: str | None = setting(
        "TEST_DATABASE_URL",
        None,
        "the tests' PostgreSQL",
        Text("a PostgreSQL URL"),
        shown="the one on localhost, else a container",
    )


# --- the README's table -------------------------------------------------------------------

HEADER = "| variable | default | values | meaning |\n|---|---|---|---|\n"


def installed_services() -> list[type[ServiceSettings]]:
    """The settings classes of the installed services, in the order of their ports."""
    services = [ep.load() for ep in entry_points(group="asn.services")]
    classes = {getattr(service, "settings_class", ServiceSettings) for service in services}
    return sorted(classes, key=lambda cls: cls.port)


def table(services: Sequence[type[ServiceSettings]]) -> str:
    """The configuration table: every service's settings, then the tools'."""
    groups: list[tuple[type[Settings], str]] = [(ServiceSettings, ""), (AuthSettings, "")]
    groups += [(service, f"{service.name}: ") for service in services]
    groups += [(AdminSettings, ""), (DevelopmentSettings, "")]
    rows = [s.row(prefix) for group, prefix in groups for s in group.own_declarations().values()]
    return HEADER + "".join(f"{row}\n" for row in rows)


def documented(readme: str) -> str:
    """The table README.md holds between ``<!-- settings -->`` and ``<!-- /settings -->``."""
    start, end = readme.find(BEGIN), readme.find(END)
    if start < 0 or end < start:
        raise SystemExit(f"no {BEGIN.strip()} ... {END} block in the README")
    return readme[start + len(BEGIN) : end]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog=COMMAND,
        description="Print README.md's configuration table from the settings' declarations.",
    )
    parser.add_argument("--check", metavar="README", help="exit 1 if README's table differs")
    args = parser.parse_args(argv)
    text = table(installed_services())
    if not args.check:
        sys.stdout.write(text)
        return 0
    if documented(Path(args.check).read_text(encoding="utf-8")) != text:
        print(
            f"{args.check}'s configuration table is out of date; replace it with what "
            f"{COMMAND} prints",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
