"""``python -m asn_shared.devidp [--port 9000]``: the development OpenID Connect provider."""

from __future__ import annotations

import argparse

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
    app = create_app(Provider(issuer, args.audience, args.claims))
    print(f"development OpenID Connect provider: {issuer}", flush=True)
    app.run(args.host, args.port, threaded=True)


if __name__ == "__main__":
    main()
