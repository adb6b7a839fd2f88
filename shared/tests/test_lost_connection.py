"""A broker restart resets the consumers' sockets; a handler that finishes before the consumer
thread has noticed acks on a dead socket. That must not stop the service: the broker
redelivers the message on the next connection and the inbox drops the copy."""

import socket

import pytest
from kombu import Connection
from nameko.messaging import QueueConsumer

from asn_shared.entrypoints import RawQueueConsumer


def taken_then_reset(amqp_uri: str, queue: str):
    """A message taken off ``queue`` (unacked), its connection's socket then reset under it."""
    connection = Connection(amqp_uri)
    simple = connection.SimpleQueue(queue)
    simple.put({"seq": 1})
    message = simple.get(timeout=10)
    connection.connection.sock.shutdown(socket.SHUT_RDWR)  # what stop_app does to it
    return connection, message


def test_acking_on_a_reset_connection_leaves_the_message_to_be_redelivered(amqp_uri):
    queue = "lost-connection"

    connection, message = taken_then_reset(amqp_uri, queue)
    with pytest.raises(OSError):
        QueueConsumer().ack_message(message)  # nameko's own: the error escapes the worker
    RawQueueConsumer().ack_message(message)  # ours: logged, the service lives on
    RawQueueConsumer().requeue_message(message)
    connection.collect()

    with Connection(amqp_uri) as fresh:
        again = fresh.SimpleQueue(queue).get(timeout=10)
        assert again.delivery_info["redelivered"] and again.payload == {"seq": 1}
        again.ack()
