"""``python -m asn_shared.devidp [--port 9000]``: the development OpenID Connect provider.

It prints one line per token it issues; SIGTERM or SIGINT stop it cleanly (exit status 0).
"""

from __future__ import annotations

import argparse
import logging
import os
import signal

from werkzeug.serving import make_server

from ..auth import DEFAULT_AUDIENCE
from . import SHAPES, Provider
from .app import create_app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="asn-devidp", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--issuer", help="default: http://HOST:PORT")
    parser.add_argument("--audience", default=DEFAULT_AUDIENCE)
    parser.add_argument("--claims", choices=SHAPES, default="keycloak", help="token shape")
    args = parser.parse_args(argv)
    issuer = args.issuer or f"http://{args.host}:{args.port}"
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    try:
        server = make_server(
            args.host,
            args.port,
            create_app(Provider(issuer, args.audience, args.claims)),
            threaded=True,
        )
    except OSError as error:  # the port is taken or not ours to bind
        reason = os.strerror(error.errno) if error.errno else str(error)
        raise SystemExit(f"devidp: cannot listen on {args.host}:{args.port}: {reason}") from None
    # werkzeug's server ends its loop quietly on KeyboardInterrupt: so do SIGTERM and SIGINT,
    # even where SIGINT was ignored when the process started
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, signal.default_int_handler)
    print(f"development OpenID Connect provider: {issuer} (claims: {args.claims})", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
