"""How numbers and dates read to people: ``Rp 5.260.000``, ``26 November 2026``."""

from __future__ import annotations

from datetime import date, datetime

MONTHS = {
    "id": "Januari Februari Maret April Mei Juni Juli Agustus September Oktober November "
    "Desember".split(),
    "en": "January February March April May June July August September October November "
    "December".split(),
}


def number(value: int | float | None) -> str:
    """Thousands separated by dots, as Indonesian writes them."""
    if value is None:
        return "-"
    return f"{round(value):,}".replace(",", ".")


def rupiah(value: int | float | None) -> str:
    if value is None:
        return "-"
    sign = "-" if value < 0 else ""
    return f"{sign}Rp {number(abs(value))}"


def decimal(value: float | None, places: int = 1) -> str:
    if value is None:
        return "-"
    return f"{value:.{places}f}".replace(".", ",")


def percent(value: float | None) -> str:
    return "-" if value is None else f"{decimal(value * 100, 0)} %"


def tanggal(value: date | datetime | str | None, language: str = "id") -> str:
    if not value:
        return "-"
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    months = MONTHS.get(language, MONTHS["id"])
    return f"{value.day} {months[value.month - 1]} {value.year}"


def nip(value: str | None) -> str:
    """A NIP as written on paper: ``19860926 201505 2 001``."""
    if not value or len(value) != 18:
        return value or "-"
    return f"{value[:8]} {value[8:14]} {value[14]} {value[15:]}"
