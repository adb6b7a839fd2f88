"""Replicas, CPU requests and KEDA targets for an assessment round, from the chain benchmark.

    python deploy/k8s/sizing.py          # the tables README's "Sizing" section shows

The figures are the latest `bench/chain.py` run (bench/README.md, "Latest run"): the CPU the
service processes spent per settled assessment with two replicas each, the larger of the two
runs, so what replicas cost in coordination (locks skipped, redeliveries) is counted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# CPU milliseconds per settled assessment (bench/chain.py, 10,000 assessments, 2 replicas).
CPU_MS = {"competency": 2.2, "training": 33.2, "budget": 11.1, "notification": 30.0}
POSTGRES_CPU_MS = 22.0
# Handler messages each service takes off its queues per approved assessment (bench/README.md:
# 7 in all); competency handles only completions, which come later than the round.
MESSAGES = {"competency": 0, "training": 2, "budget": 1, "notification": 4}

# One replica is one Python process: it never uses more than one core. Plan 70 % of it, the
# rest for the HTTP API, bursts and garbage collection.
USABLE_CORES = 0.7
# The rate one training replica, the costliest, carries in half a core (15/s x 33.2 ms). CPU
# requests are what each service spends at that rate; KEDA adds a replica per 10 seconds of
# that rate's messages waiting.
REFERENCE_RATE = 15
BACKLOG_SECONDS = 10
MIN_REQUEST_MILLICORES = 100
MIN_BACKLOG_TARGET = 100
# production keeps two replicas (a node drain never stops a service) and may grow to what a
# province's round in 15 minutes needs
PRODUCTION_MIN_REPLICAS = 2
PRODUCTION_ROUND = ("province", 100_000, 0.25)

ROUNDS = [
    ("city", 15_000, 8.0),
    ("city", 15_000, 1.0),
    ("city", 15_000, 0.25),
    ("province", 100_000, 8.0),
    ("province", 100_000, 1.0),
    ("province", 100_000, 0.25),
]


@dataclass(frozen=True)
class Round:
    who: str
    assessments: int
    hours: float

    @property
    def rate(self) -> float:
        """Assessments settled per second."""
        return self.assessments / (self.hours * 3600)

    def cores(self, service: str) -> float:
        return self.rate * CPU_MS[service] / 1000

    def replicas(self, service: str) -> int:
        return max(1, math.ceil(self.cores(service) / USABLE_CORES))

    def postgres_cores(self) -> float:
        return self.rate * POSTGRES_CPU_MS / 1000


def cpu_request_millicores(service: str) -> int:
    needed = math.ceil(REFERENCE_RATE * CPU_MS[service] / 10) * 10
    return max(MIN_REQUEST_MILLICORES, needed)


def backlog_target(service: str) -> int:
    return max(MIN_BACKLOG_TARGET, REFERENCE_RATE * MESSAGES[service] * BACKLOG_SECONDS)


def production_max_replicas(service: str) -> int:
    return max(PRODUCTION_MIN_REPLICAS + 1, Round(*PRODUCTION_ROUND).replicas(service))


def _duration(hours: float) -> str:
    return f"{hours:g} h" if hours >= 1 else f"{hours * 60:g} min"


def per_service_table() -> str:
    lines = [
        "| service | CPU ms per assessment | handler messages per assessment | CPU request "
        "| KEDA backlog per replica | production replicas |",
        "|---|---|---|---|---|---|",
    ]
    for service, cpu in CPU_MS.items():
        lines.append(
            f"| {service} | {cpu:g} | {MESSAGES[service]} | {cpu_request_millicores(service)}m "
            f"| {backlog_target(service)} | {PRODUCTION_MIN_REPLICAS} to "
            f"{production_max_replicas(service)} |"
        )
    return "\n".join(lines)


def rounds_table() -> str:
    services = list(CPU_MS)
    lines = [
        "| round | assessments/s | " + " | ".join(services) + " | PostgreSQL cores |",
        "|---|---|" + "---|" * len(services) + "---|",
    ]
    for who, assessments, hours in ROUNDS:
        plan = Round(who, assessments, hours)
        cells = [f"{plan.replicas(s)} ({plan.cores(s):.2f})" for s in services]
        lines.append(
            f"| {who}, {assessments:,} in {_duration(hours)} | {plan.rate:.1f} | "
            + " | ".join(cells)
            + f" | {plan.postgres_cores():.2f} |"
        )
    return "\n".join(lines)


def tables() -> str:
    return per_service_table() + "\n\n" + rounds_table() + "\n"


if __name__ == "__main__":
    print(tables(), end="")
