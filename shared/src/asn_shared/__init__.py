"""Kompas ASN common library.

Only what is truly cross-cutting lives here: the event contract (envelope, registry,
schemas), the transactional outbox and idempotent inbox, the nameko dependencies and
entrypoints that use them, HTTP problem responses, health, metrics and logging.
Nothing here knows a domain rule.
"""
