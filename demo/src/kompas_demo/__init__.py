"""Kompas ASN demo: the Plaju reference deployment seeded through the services' HTTP APIs."""
