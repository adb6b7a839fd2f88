"""Kompas ASN notification service: owns recipients, templates, subscriptions, delivery log."""
