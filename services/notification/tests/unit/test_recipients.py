"""Employees as notification learns them from competency's events, without broker or
database: the highest version kept whatever the order, and the API's lookup."""

import pytest

from asn_shared.errors import NotFound
from asn_testkit.fakes import incoming
from notification.use_cases import recipients

NIP = "198609262015051001"


def announced(version, name="Rina Marlina", language="en"):
    return incoming(
        "employee.updated",
        {
            "nip": NIP,
            "name": name,
            "sex": "P",
            "golongan": "III/c",
            "unit": {"code": "KEC-PLAJU", "name": "Kecamatan Plaju", "parent_code": None},
            "jabatan": None,
            "email": "rina@example.go.id",
            "phone": None,
            "supervisor_nip": None,
            "language": language,
            "version": version,
        },
    )


def test_the_highest_version_is_kept_whatever_the_order(uow, repo):
    uow.handle(recipients.record_employee, announced(3, "Rina M."))
    uow.handle(recipients.record_employee, announced(2, "Rina (lama)"))

    employee = recipients.get_employee(uow, NIP)
    assert (employee.name, employee.version, employee.language) == ("Rina M.", 3, "en")


def test_an_employee_not_announced_yet_is_not_found(uow):
    with pytest.raises(NotFound) as refused:
        recipients.get_employee(uow, NIP)
    assert refused.value.code == "not_found"
