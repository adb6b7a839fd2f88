"""Kompas ASN budget service: owns allocations, reservations and the append-only ledger."""
