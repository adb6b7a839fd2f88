"""A development mail sink: the e-mail of ``make run`` lands in a folder a person can read.

    python -m asn_shared.devmail [--host 127.0.0.1] [--port 1025] [--directory .mail]

An SMTP server (aiosmtpd, from the ``dev`` extra) that accepts every message, writes it to
DIRECTORY/messages/ as ``<n>.eml`` beside ``<n>.json`` (the envelope), numbering on from what
the folder already holds, and prints one line per message. SIGTERM or SIGINT stop it cleanly
(exit status 0). Never a production mail server: it relays nothing and asks for no login.
"""

from __future__ import annotations

import argparse
import asyncio
import email
import email.policy
import json
import os
import signal
from pathlib import Path

from aiosmtpd.smtp import SMTP, Envelope, Session


class Recorder:
    """Writes each message received to DIRECTORY/messages/: the test kit's SMTP sink too."""

    def __init__(self, directory: Path) -> None:
        self.messages = directory / "messages"
        self.messages.mkdir(parents=True, exist_ok=True)
        self.count = 0

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.count += 1
        stem = self.messages / f"{self.count:04d}"
        envelope_data = {"mail_from": envelope.mail_from, "rcpt_tos": list(envelope.rcpt_tos)}
        stem.with_suffix(".json").write_text(json.dumps(envelope_data))
        partial = stem.with_suffix(".part")
        partial.write_bytes(envelope.original_content or b"")  # set for every DATA
        partial.rename(stem.with_suffix(".eml"))  # readers only see complete messages
        return "250 Message accepted for delivery"


class MailFolder(Recorder):
    """The test harness's recorder, continuing the folder's numbering and saying what came."""

    def __init__(self, directory: Path) -> None:
        super().__init__(directory)
        numbers = (int(path.stem) for path in self.messages.glob("*.eml") if path.stem.isdigit())
        self.count = max(numbers, default=0)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        reply = await super().handle_DATA(server, session, envelope)
        print(summary(self.messages / f"{self.count:04d}.eml", envelope.rcpt_tos), flush=True)
        return reply


def summary(path: Path, recipients: list[str]) -> str:
    """``to a@x, b@y: "Subject" .mail/messages/0001.eml``"""
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    return f'to {", ".join(recipients)}: "{message["Subject"] or ""}" {path}'


async def serve(host: str, port: int, directory: Path) -> None:
    """Accept mail on ``host:port`` until SIGTERM or SIGINT."""
    folder = MailFolder(directory)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    server = await loop.create_server(lambda: SMTP(folder), host, port)
    print(f"mail sink on {host}:{port}, writing to {folder.messages}/", flush=True)
    async with server:
        await stop.wait()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="devmail", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1025)
    parser.add_argument("--directory", type=Path, default=Path(".mail"))
    args = parser.parse_args(argv)
    try:
        asyncio.run(serve(args.host, args.port, args.directory))
    except OSError as error:  # the port is taken or not ours to bind
        reason = os.strerror(error.errno) if error.errno else str(error)
        raise SystemExit(f"devmail: cannot listen on {args.host}:{args.port}: {reason}") from None


if __name__ == "__main__":
    main()
