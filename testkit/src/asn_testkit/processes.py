"""Services as real ``nameko run`` processes, the way they run in production."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from importlib.metadata import entry_points
from pathlib import Path

import requests

from . import auth
from .infrastructure import answers


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def service_targets() -> dict[str, str]:
    """The ``nameko run`` target of each installed service, from the ``asn.services`` entry
    points: ``{"budget": "budget.service:BudgetService", ...}``."""
    return {point.name: point.value for point in entry_points(group="asn.services")}


# the harness's peers (SMTP server, webhook receiver) listen on loopback over plain http,
# which notification refuses as a webhook target unless told otherwise
PEERS_ENV = {"WEBHOOK_ALLOWED_NETWORKS": "127.0.0.0/8", "WEBHOOK_ALLOW_HTTP": "true"}


class ServiceProcess:
    """One ``nameko run`` process; start, stop, kill -9 and restart it, read its log."""

    def __init__(
        self,
        service: str,
        target: str,
        config: Path,
        env: dict[str, str],
        log_path: Path,
        python_path: list[Path] = (),
    ) -> None:
        self.service = service
        self.target = target
        self.config = config
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            **auth.service_env(),
            **PEERS_ENV,
            **env,
            f"{service.upper()}_HTTP_ADDRESS": f"127.0.0.1:{self.port}",
            "PYTHONPATH": os.pathsep.join(
                [*map(str, python_path), os.environ.get("PYTHONPATH", "")]
            ),
            "PYTHONWARNINGS": "ignore",
        }
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def spawn(self) -> ServiceProcess:
        """Start the process without waiting for it (start several, then wait for each)."""
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "nameko", "run", "--config", str(self.config), self.target],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        return self

    def start(self, *, wait_healthy: bool = True, timeout: float = 30.0) -> ServiceProcess:
        self.spawn()
        if wait_healthy:
            self.wait_healthy(timeout)
        else:
            self._wait_listening(timeout)
        return self

    def _wait_listening(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not answers("127.0.0.1", self.port, timeout=0.2):
            self._check_alive()
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.service} did not listen within {timeout}s\n{self.log()}")
            time.sleep(0.1)

    def wait_healthy(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            self._check_alive()
            try:
                if requests.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return
            except requests.RequestException:  # refused, or slow while the broker restarts
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.service} not healthy within {timeout}s\n{self.log()}")
            time.sleep(0.1)

    def _check_alive(self) -> None:
        if self.process.poll() is not None:
            raise RuntimeError(
                f"{self.service} exited with {self.process.returncode}\n{self.log()}"
            )

    def terminate(self) -> None:
        """Ask nameko to stop (SIGTERM) without waiting: stop several at once, then wait."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    def stop(self, timeout: float = 15.0) -> None:
        """Graceful: SIGTERM lets nameko finish running workers; kill -9 if it hangs."""
        self.terminate()
        if self.process and self.process.poll() is None:
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()

    def kill(self) -> None:
        """kill -9: no clean-up at all, as in a crash."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def restart(self) -> ServiceProcess:
        self.kill()
        return self.start()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
