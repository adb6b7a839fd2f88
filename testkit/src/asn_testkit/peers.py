"""Real peers of the notification channels, each run as its own process: an SMTP server and
a webhook receiver that checks signatures as a subscribing agency would."""

from __future__ import annotations

import email
import email.policy
import json
import subprocess
import sys
from email.message import EmailMessage
from pathlib import Path

from .waiting import wait_for


class Peer:
    """A peer process that writes its port, then what it receives, into ``directory``."""

    module: str

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True)
        log = open(directory / "log", "wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", self.module, str(directory)], stdout=log, stderr=log
        )
        log.close()
        wait_for(
            lambda: (directory / "port").exists() or self.process.poll() is not None,
            15,
            f"{self.module} to listen",
        )
        if self.process.poll() is not None:
            raise RuntimeError(f"{self.module} exited: {(directory / 'log').read_text()}")
        self.port = int((directory / "port").read_text())

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


class SmtpServer(Peer):
    module = "asn_testkit.smtp_sink"
    host = "127.0.0.1"

    def messages(self) -> list[tuple[dict, EmailMessage]]:
        """(envelope, parsed message) of every message received, in order."""
        received = []
        for path in sorted((self.directory / "messages").glob("*.eml")):
            envelope = json.loads(path.with_suffix(".json").read_text())
            parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            received.append((envelope, parsed))
        return received


class WebhookReceiver(Peer):
    module = "asn_testkit.webhook_receiver"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/kompas-events"

    def trust(self, secret: str) -> None:
        (self.directory / "secret").write_text(secret)

    def fail(self, setting: str) -> None:
        """``always``, or a number N: fail the first N requests."""
        (self.directory / "fail").write_text(setting)

    def hold(self) -> None:
        """Hold every request unanswered from now on, until :meth:`release`."""
        (self.directory / "hold").touch()

    def release(self) -> None:
        (self.directory / "hold").unlink(missing_ok=True)

    def held(self) -> list[int]:
        """The numbers of the requests that were held (answered since or not)."""
        return sorted(int(path.name) for path in (self.directory / "held").glob("*"))

    def requests(self) -> list[dict]:
        paths = sorted((self.directory / "requests").glob("*.json"))
        return [json.loads(path.read_text()) for path in paths]
