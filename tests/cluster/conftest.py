"""The tests of this folder run on the three-node cluster of ``deploy/rabbitmq/cluster.sh``
(ports 5681-5683 by default), never on the node on 5672: the ``broker`` fixture is the
cluster, so ``vhost``, ``amqp_uri``, ``suite`` and the rest use it, each test in a virtual
host of its own. The cluster is started once for the session when it is not running, and
stopped and removed afterwards unless ``KOMPAS_CLUSTER_KEEP=1``."""

import os
from collections.abc import Iterator

import pytest

from asn_testkit.cluster import Cluster, ClusterBroker, running_cluster


@pytest.fixture(scope="session")
def cluster() -> Iterator[Cluster]:
    with running_cluster(keep=os.environ.get("KOMPAS_CLUSTER_KEEP") == "1") as running:
        yield running


@pytest.fixture(scope="session")
def broker(cluster: Cluster) -> ClusterBroker:
    return cluster.broker()
