"""A webhook subscriber for the tests, run as its own process.

    python -m asn_testkit.webhook_receiver DIRECTORY

It checks each request as a subscribing agency would: the HMAC-SHA256 of
``<X-Kompas-Timestamp>.<body>`` under the secret in DIRECTORY/secret must equal
``X-Kompas-Signature`` (``sha256=<hex>``), and the timestamp must be recent. A bad signature
gets 401. DIRECTORY/fail holds ``always`` or a number N: fail (503) the first N requests.
While DIRECTORY/hold exists, a request is held unanswered (a slow receiver), marked by
DIRECTORY/held/<n>. Every request is recorded in DIRECTORY/requests/<n>.json, with the time
it arrived; the port is written to DIRECTORY/port.
"""

import hashlib
import hmac
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

MAX_AGE = 300  # seconds: an older timestamp is refused as a possible replay
MAX_HOLD = 120  # seconds a request is held at most

DIRECTORY = Path(sys.argv[1])
REQUESTS = DIRECTORY / "requests"
HELD = DIRECTORY / "held"
lock = threading.Lock()
count = 0


def verified(timestamp: str, body: bytes, signature: str) -> bool:
    secret = (DIRECTORY / "secret").read_text().strip()
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    fresh = timestamp.isdigit() and abs(time.time() - int(timestamp)) <= MAX_AGE
    return fresh and hmac.compare_digest(f"sha256={expected.hexdigest()}", signature)


def failing(number: int) -> bool:
    setting = (DIRECTORY / "fail").read_text().strip() if (DIRECTORY / "fail").exists() else "0"
    return setting == "always" or number <= int(setting or 0)


def hold(number: int) -> None:
    """Keep the request waiting while DIRECTORY/hold exists."""
    if not (DIRECTORY / "hold").exists():
        return
    (HELD / str(number)).touch()
    deadline = time.monotonic() + MAX_HOLD
    while (DIRECTORY / "hold").exists() and time.monotonic() < deadline:
        time.sleep(0.05)


class Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        global count
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        arrived = time.time()
        with lock:
            count += 1
            number = count
        hold(number)
        good = verified(
            self.headers.get("X-Kompas-Timestamp", ""),
            body,
            self.headers.get("X-Kompas-Signature", ""),
        )
        status = 401 if not good else 503 if failing(number) else 200
        record = {
            "number": number,
            "arrived": arrived,
            "path": self.path,
            "headers": dict(self.headers),
            "body": body.decode(),
            "signature_valid": good,
            "status": status,
        }
        partial = REQUESTS / f"{number:04d}.part"
        partial.write_text(json.dumps(record))
        partial.rename(REQUESTS / f"{number:04d}.json")
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


if __name__ == "__main__":
    REQUESTS.mkdir(parents=True, exist_ok=True)
    HELD.mkdir(exist_ok=True)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    (DIRECTORY / "port.part").write_text(str(server.server_address[1]))
    (DIRECTORY / "port.part").rename(DIRECTORY / "port")
    server.serve_forever()
