"""Who can sign in at the development provider: the Plaju demo's people and agency clients.

The NIP and unit codes are those of the demo data set (``kompas-demo``); the agency secrets
are development values, printed in the README.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Person:
    username: str
    name: str
    role: str
    unit: str | None = None
    nip: str | None = None
    agency: str | None = None

    def scope_claims(self) -> dict[str, str]:
        found = {"unit": self.unit, "nip": self.nip, "agency": self.agency}
        return {claim: value for claim, value in found.items() if value}


@dataclass(frozen=True)
class Client:
    client_id: str
    secret: str | None = None  # None: a public client (PKCE), e.g. the portal
    agency: str | None = None  # an agency's machine client: client credentials only
    grants: tuple[str, ...] = field(default=("authorization_code",))


PEOPLE = (
    Person("admin.bkpsdm", "Husin Permana", "admin"),
    Person("kepegawaian.kec.plaju", "Kartika Anjani", "operator", unit="PLG-KEC-PLAJU"),
    Person("taufik.wijaya", "Taufik Wijaya, S.E., M.M.", "employee", nip="197204051998051074"),
)

CLIENTS = (
    Client("kompas-portal"),
    Client("asn-admin"),
    Client("bps-sumsel", "bps-sumsel-dev-secret", "bps-sumsel", ("client_credentials",)),
)
