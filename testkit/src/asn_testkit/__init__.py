"""Test harness: real RabbitMQ and PostgreSQL, isolated per test, and services as processes.

Load the fixtures with ``pytest_plugins = ["asn_testkit.plugin"]`` in a root
``conftest.py``. The toolkit, one way to do each thing:

- ``waiting.wait_for``: poll a condition in another process until it holds.
- ``events``: ``publish`` / ``publish_many`` as a producer would; ``EventTap`` to see what
  services publish; ``drain_queue`` to read an existing queue (a dead-letter queue).
- ``metrics``: ``scrape`` a service's ``/metrics``; ``metric``, ``metric_sum``,
  ``events_handled``.
- ``peers``: a real SMTP server and webhook receivers; ``suite``: every service at once.
"""
