"""Test harness: real RabbitMQ and PostgreSQL, isolated per test, and services as processes.

Load the fixtures with ``pytest_plugins = ["asn_shared.testing.plugin"]`` in a root
``conftest.py``.
"""
