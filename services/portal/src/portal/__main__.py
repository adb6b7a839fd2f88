"""``kompas-portal``: the portal under gunicorn (one process, threads; sessions live in its
database, so replicas share them)."""

from __future__ import annotations

import sys

from gunicorn.app.base import BaseApplication

from . import logs
from .sessions import Store, StoreUnavailable
from .settings import SettingsError, from_env
from .web import create_app


class _Server(BaseApplication):
    def __init__(self, app, options: dict) -> None:
        self.application, self.options = app, options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        return self.application


def main() -> None:
    import os

    try:
        settings = from_env()
    except SettingsError as error:
        sys.exit(f"kompas-portal: {error}")
    logs.configure(settings.log_level)
    address = os.environ.get("PORTAL_HTTP_ADDRESS", "0.0.0.0:8000")
    threads = os.environ.get("PORTAL_THREADS", "16")
    try:
        store = Store.open(settings.database_url, connections=int(threads))
    except StoreUnavailable as error:
        sys.exit(f"kompas-portal: {error}")
    print(f"Kompas ASN portal: {settings.public_url} (listening on {address})", flush=True)
    _Server(
        create_app(settings, store),
        {
            "bind": address,
            "workers": 1,
            "worker_class": "gthread",
            "threads": int(threads),
            "accesslog": None,
            "errorlog": "-",
            "loglevel": "warning",
            "timeout": 120,
        },
    ).run()


if __name__ == "__main__":
    main()
