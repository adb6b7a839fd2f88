"""Where webhooks may go: public addresses over https unless the deployment opens more.

A webhook URL is given by another agency; without a check, notification would POST for it
into the city's own network (loopback, private ranges, cloud metadata). The check runs at
registration, on every address the name resolves to, and again at delivery on the address
the connection actually reached, so a name that resolves inside later is refused too.
``WEBHOOK_ALLOWED_NETWORKS`` (CIDR ranges, comma-separated) opens ranges for an intranet;
``WEBHOOK_ALLOW_HTTP`` permits plain http.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
import urllib3

from asn_shared.config import SettingError
from asn_shared.errors import CodedMessage

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], list[str]]

TRUE, FALSE = ("1", "true", "yes", "on"), ("", "0", "false", "no", "off")


class TargetRefused(ValueError):
    """A webhook URL notification will not call, with a stable code (``webhook.*``)."""

    def __init__(self, code: str, text: str) -> None:
        super().__init__(text)
        self.message = CodedMessage(code, text)


def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (the system resolver)."""
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in found))


@dataclass(frozen=True)
class TargetPolicy:
    allowed_networks: tuple[Network, ...] = ()
    allow_http: bool = False
    resolver: Resolver = resolve

    def permits(self, address: str) -> bool:
        """Public (globally routable) addresses, and those of the allowed networks."""
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        return ip.is_global or any(ip in network for network in self.allowed_networks)

    def check_url(self, url: str) -> None:
        """Refuse a URL whose scheme is not allowed or whose host resolves, even in part,
        to an address outside the policy."""
        parts = urlsplit(url)
        allowed = ("https", "http") if self.allow_http else ("https",)
        if parts.scheme not in allowed:
            raise TargetRefused(
                "webhook.scheme",
                f"Alamat webhook harus memakai {' atau '.join(allowed)}, bukan {parts.scheme}.",
            )
        if not parts.hostname:
            raise TargetRefused("webhook.host", "Alamat webhook tidak menyebut host.")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            addresses = self.resolver(parts.hostname, port)
        except (OSError, UnicodeError):
            addresses = []
        if not addresses:
            raise TargetRefused(
                "webhook.unresolved", f"Host {parts.hostname} tidak dapat ditemukan (DNS)."
            )
        for address in addresses:
            self.check_address(address, parts.hostname)

    def check_address(self, address: str, host: str) -> None:
        if not self.permits(address):
            raise TargetRefused(
                "webhook.address",
                f"Host {host} menunjuk ke alamat {address} di jaringan internal "
                "(loopback, privat, link-local atau metadata); alamat itu tidak diizinkan.",
            )


def parse_networks(value: object) -> tuple[Network, ...]:
    items: Iterable[str] = str(value or "").replace(";", ",").split(",")
    networks = []
    for item in (item.strip() for item in items):
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise SettingError(
                f"WEBHOOK_ALLOWED_NETWORKS takes CIDR ranges separated by commas "
                f"(e.g. 10.20.0.0/16); not {item!r}."
            ) from None
    return tuple(networks)


def parse_flag(name: str, value: object) -> bool:
    text = str(value if value is not None else "").strip().lower()
    if text in TRUE:
        return True
    if text in FALSE or text == "none":
        return False
    raise SettingError(f"{name} must be true or false; not {value!r}.")


def guarded_session(policy: TargetPolicy) -> requests.Session:
    """A requests session whose connections check the address they reached before a byte
    is sent: the delivery-time half of the policy, immune to a name that changed meanwhile."""

    class Checked:
        def _new_conn(self) -> socket.socket:
            sock = super()._new_conn()
            address = sock.getpeername()[0]
            if not policy.permits(address):
                sock.close()
                raise TargetRefused(
                    "webhook.address",
                    f"{self.host} reached {address}, an address webhooks may not go to",
                )
            return sock

    class CheckedHTTP(Checked, urllib3.connection.HTTPConnection):
        pass

    class CheckedHTTPS(Checked, urllib3.connection.HTTPSConnection):
        pass

    class HTTPPool(urllib3.HTTPConnectionPool):
        ConnectionCls = CheckedHTTP

    class HTTPSPool(urllib3.HTTPSConnectionPool):
        ConnectionCls = CheckedHTTPS

    class Adapter(requests.adapters.HTTPAdapter):
        def init_poolmanager(self, *args, **kwargs) -> None:
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = {"http": HTTPPool, "https": HTTPSPool}

    session = requests.Session()
    session.mount("http://", Adapter())
    session.mount("https://", Adapter())
    return session
