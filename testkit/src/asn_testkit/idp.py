"""The development OpenID Connect provider as a process of its own, for the tests.

``shared()`` is one provider per test run, started on first use: every service process the
harness starts trusts it (``AUTH_OIDC_ISSUER``) beside the harness key. Tests that stop,
rotate or reshape a provider start their own ``DevProvider``.
"""

from __future__ import annotations

import atexit
import subprocess
import sys
import tempfile
from functools import cache
from pathlib import Path

import requests

from asn_shared import tokens

from .infrastructure import answers
from .processes import free_port
from .waiting import wait_for


class DevProvider:
    def __init__(self, *, claims: str = "keycloak", port: int | None = None) -> None:
        self.port = port or free_port()
        self.claims = claims
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.log_path = Path(tempfile.mkdtemp(prefix="devidp-")) / "log"
        self.process: subprocess.Popen | None = None

    def start(self) -> DevProvider:
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "asn_shared.devidp",
                    "--port",
                    str(self.port),
                    "--claims",
                    self.claims,
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_for(
            lambda: answers("127.0.0.1", self.port, 0.2) or self.process.poll() is not None,
            20,
            "the development provider to listen",
        )
        if self.process.poll() is not None:
            raise RuntimeError(f"the development provider exited: {self.log_path.read_text()}")
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)

    def token(self, role: str, scope: str | None = None) -> str:
        """A person's token: authorization code with PKCE through the login form."""
        return tokens.provider_token(self.issuer, role, scope)

    def agency_token(self, client_id: str, secret: str) -> str:
        return tokens.client_credentials_token(self.issuer, client_id, secret)

    def rotate(self, *, retire: bool = False) -> str:
        """A new signing key (its kid); ``retire``: the old ones are no longer published."""
        answer = requests.post(f"{self.issuer}/dev/rotate", json={"retire": retire}, timeout=10)
        answer.raise_for_status()
        return answer.json()["kid"]

    def stats(self) -> dict[str, int]:
        return requests.get(f"{self.issuer}/dev/stats", timeout=10).json()

    def service_env(self, **settings: str) -> dict[str, str]:
        """A service's environment to trust this provider alone."""
        return {"AUTH_JWT_KEY": "", "AUTH_OIDC_ISSUER": self.issuer, **settings}


@cache
def shared() -> DevProvider:
    provider = DevProvider().start()
    atexit.register(provider.stop)
    return provider


def stop_shared() -> None:
    """At the end of a test run: stop the run's provider, if anything started it."""
    if shared.cache_info().currsize:
        shared().stop()
