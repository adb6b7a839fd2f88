"""A real SMTP server for the tests (aiosmtpd), run as its own process: the test process is
eventlet-patched, where asyncio is unreliable.

    python -m asn_shared.testing.smtp_sink DIRECTORY

Writes its port to DIRECTORY/port, then each message received to DIRECTORY/messages/ as
``<n>.eml`` (the bytes as received) beside ``<n>.json`` (the envelope: MAIL FROM, RCPT TO).
"""

import asyncio
import json
import sys
from pathlib import Path

from aiosmtpd.smtp import SMTP


class Recorder:
    def __init__(self, directory: Path) -> None:
        self.messages = directory / "messages"
        self.messages.mkdir(parents=True, exist_ok=True)
        self.count = 0

    async def handle_DATA(self, server, session, envelope) -> str:
        self.count += 1
        stem = self.messages / f"{self.count:04d}"
        envelope_data = {"mail_from": envelope.mail_from, "rcpt_tos": list(envelope.rcpt_tos)}
        stem.with_suffix(".json").write_text(json.dumps(envelope_data))
        partial = stem.with_suffix(".part")
        partial.write_bytes(envelope.original_content)
        partial.rename(stem.with_suffix(".eml"))  # readers only see complete messages
        return "250 Message accepted for delivery"


async def main(directory: Path) -> None:
    recorder = Recorder(directory)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(recorder), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    (directory / "port.part").write_text(str(port))
    (directory / "port.part").rename(directory / "port")
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1])))
