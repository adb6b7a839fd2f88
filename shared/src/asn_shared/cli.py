"""``asn-admin``: operate the suite's services from the command line.

Services are found through the ``asn.services`` entry point group, so each installed
service package brings its own commands' targets:

    asn-admin migrate [SERVICE ...]            create missing databases, migrate to the newest
    asn-admin declare-topology [SERVICE ...]   declare exchanges, queues and bindings
    asn-admin relay SERVICE                    run an outbox relay on its own
    asn-admin broker-users [SERVICE ...]       give each service its own broker user
              [--agency NAME ...]                and agencies a user that reads the stream
    asn-admin follow [--from WHEN] [--type TYPE] [--cursor FILE]   print the event stream
    asn-admin token ROLE [--unit|--nip|--agency]  print a bearer token to try the API with
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import threading
from importlib import import_module
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING

from kombu.connection import Connection

from . import config, logs, migrations
from . import follower as follow_command
from . import tokens as token_command
from .messaging import ConfirmingPublisher, agency_permissions, declare_event_stream
from .outbox import OutboxRelay
from .persistence import make_engine
from .topology import (
    ManagementApi,
    apply_broker_user,
    convert_to_quorum,
    declare_service_topology,
    permissions_of,
)

if TYPE_CHECKING:
    from .base import ServiceBase


def installed_services() -> dict[str, type[ServiceBase]]:
    return {ep.name: ep.load() for ep in entry_points(group="asn.services")}


def _services(names: list[str]) -> dict[str, type[ServiceBase]]:
    available = installed_services()
    unknown = sorted(set(names) - set(available))
    if unknown:
        raise SystemExit(
            f"unknown service(s): {', '.join(unknown)}; installed: "
            f"{', '.join(sorted(available)) or 'none'}"
        )
    return {name: available[name] for name in names} if names else available


def migrations_of(service_cls: type[ServiceBase]) -> Path:
    package = import_module(service_cls.__module__.rpartition(".")[0])
    if package.__file__ is None:  # a namespace package holds no migrations
        raise SystemExit(f"{package.__name__}: not a package with migrations")
    return Path(package.__file__).parent / "migrations"


def migrate(names: list[str]) -> None:
    """Create each service's database when its server has none of that name, then bring it to
    the newest schema; a server that cannot be reached ends the command with one line."""
    for name, service_cls in _services(names).items():
        url = config.database_url(name)
        try:
            if migrations.ensure_database(url):
                print(f"{name}: created the database {migrations.safe_url(url)}")
        except migrations.DatabaseUnavailable as error:
            raise SystemExit(f"asn-admin migrate: {name}: {error}") from None
        migrations.upgrade(url, migrations_of(service_cls))
        print(f"{name}: database at the newest schema")


def declare(names: list[str], convert: bool = False) -> None:
    """Declare the topology; with ``convert`` first make classic queues quorum queues."""
    if convert and config.queue_type() != "quorum":
        raise SystemExit("--convert-classic: set QUEUE_TYPE=quorum")
    with Connection(config.amqp_uri()) as connection:
        for name, service_cls in _services(names).items():
            for queue, moved in (
                convert_to_quorum(connection, service_cls) if convert else {}
            ).items():
                print(f"{name}: {queue} is a quorum queue now, {moved} message(s) kept")
            subscriptions = declare_service_topology(connection, service_cls, config.queue_type())
            print(
                f"{name}: exchanges {name}.events and {name}.redelivery, "
                f"{len(subscriptions)} handler queue(s)"
            )
        print(declare_event_stream(connection, installed_services()))


def broker_users(names: list[str], agencies: list[str] | None = None) -> None:
    """As the administrator of ``AMQP_URI``, in its virtual host: the user ``<SERVICE>_AMQP_USER``
    (default: the service's name) with the password ``<SERVICE>_AMQP_PASSWORD``; and for each
    agency the user ``NAME`` with ``<NAME>_AMQP_PASSWORD``, which may read the event stream
    and nothing else. Only the agencies, when agencies and no services are named."""
    agencies = agencies or []
    services = _services(names) if names or not agencies else {}
    variables = {name: f"{_variable(name)}_AMQP_PASSWORD" for name in [*services, *agencies]}
    passwords = {name: os.environ.get(variable, "") for name, variable in variables.items()}
    missing = [variables[name] for name, value in passwords.items() if not value]
    if missing:
        raise SystemExit(f"not set: {', '.join(missing)}")
    api = ManagementApi.of(config.amqp_uri(), os.environ.get("RABBITMQ_MANAGEMENT_URL"))
    vhost = Connection(config.amqp_uri()).virtual_host
    users = {
        name: (os.environ.get(f"{_variable(name)}_AMQP_USER") or name, permissions_of(cls))
        for name, cls in services.items()
    }
    users.update({agency: (agency, agency_permissions()) for agency in agencies})
    for name, (user, permissions) in users.items():
        apply_broker_user(api, vhost, user, passwords[name], permissions)
        print(
            f"{name}: broker user {user!r} in virtual host {vhost!r}: configure "
            f"{permissions.configure} write {permissions.write} read {permissions.read}"
        )


def _variable(name: str) -> str:
    """The prefix of a service's or agency's settings: ``bkn-pusat`` -> ``BKN_PUSAT``."""
    return "".join(c if c.isalnum() else "_" for c in name.upper())


def relay(name: str) -> None:
    stop, wake = threading.Event(), threading.Event()

    def on_signal(*_: object) -> None:
        stop.set()
        wake.set()

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, on_signal)
    outbox = OutboxRelay(
        make_engine(config.database_url(name), pool_size=1),
        ConfirmingPublisher(config.amqp_uri()),
        service=name,
    )
    outbox.run(stop, wake)


def main(argv: list[str] | None = None) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logs.RedactingFormatter("%(asctime)s %(levelname)s %(message)s"))
    logging.basicConfig(level=logging.INFO, handlers=[handler])
    parser = argparse.ArgumentParser(prog="asn-admin", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="run database migrations").add_argument(
        "services", nargs="*", help="default: every installed service"
    )
    topology = commands.add_parser("declare-topology", help="declare broker topology")
    topology.add_argument("services", nargs="*", help="default: every installed service")
    topology.add_argument(
        "--convert-classic",
        action="store_true",
        help="QUEUE_TYPE=quorum, services stopped: turn classic queues into quorum queues",
    )
    commands.add_parser("relay", help="run an outbox relay on its own").add_argument(
        "service", help="the service whose outbox to relay"
    )
    users = commands.add_parser(
        "broker-users", help="create each service's broker user and set its permissions"
    )
    users.add_argument("services", nargs="*", help="default: every installed service")
    users.add_argument(
        "--agency", action="append", default=[], help="an agency's user that reads the stream"
    )
    token_command.add_parser(commands)
    follow_command.add_parser(commands)
    args = parser.parse_args(argv)
    if args.command == "migrate":
        migrate(args.services)
    elif args.command == "declare-topology":
        declare(args.services, args.convert_classic)
    elif args.command == "broker-users":
        broker_users(args.services, args.agency)
    elif args.command == "token":
        token_command.main(args)
    elif args.command == "follow":
        follow_command.main(args)
    else:
        relay(args.service)


if __name__ == "__main__":
    main()
