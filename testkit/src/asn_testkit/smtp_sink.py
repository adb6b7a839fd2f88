"""A real SMTP server for the tests (aiosmtpd), run as its own process: the test process is
eventlet-patched, where asyncio is unreliable.

    python -m asn_testkit.smtp_sink DIRECTORY

Writes its port to DIRECTORY/port, then each message received to DIRECTORY/messages/ as
``<n>.eml`` (the bytes as received) beside ``<n>.json`` (the envelope: MAIL FROM, RCPT TO).
"""

import asyncio
import sys
from pathlib import Path

from aiosmtpd.smtp import SMTP

from asn_shared.devmail import Recorder


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
