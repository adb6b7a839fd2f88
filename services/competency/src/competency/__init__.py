"""Kompas ASN competency service."""
