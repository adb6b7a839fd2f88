"""The Kubernetes overlays as kustomize builds them, and what the tests read from them."""

from __future__ import annotations

import functools
import importlib.util
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
K8S = REPO / "deploy" / "k8s"
OVERLAYS = sorted(path.name for path in (K8S / "overlays").iterdir() if path.is_dir())
SERVICES = ("competency", "training", "budget", "notification")
PORTAL = "portal"  # not scaled by KEDA: one replica, two in production (sessions in its database)
KEDA_KINDS = {"ScaledObject", "TriggerAuthentication"}
WORKLOADS = ("Deployment", "Job", "StatefulSet")


def kubectl() -> str:
    """The kubectl `make install` puts beside the interpreter, else one on PATH."""
    beside = Path(sys.executable).with_name("kubectl")
    found = str(beside) if beside.exists() else shutil.which("kubectl")
    if not found:
        raise RuntimeError("kubectl is missing: `make install` installs it into .venv/bin")
    return found


@functools.cache
def _build(overlay: str) -> str:
    return subprocess.run(
        [kubectl(), "kustomize", str(K8S / "overlays" / overlay)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def render(overlay: str) -> list[dict]:
    """The overlay's objects, each a fresh copy the caller may change."""
    return [doc for doc in yaml.safe_load_all(_build(overlay)) if doc]


def named(docs: list[dict], kind: str) -> dict[str, dict]:
    return {doc["metadata"]["name"]: doc for doc in docs if doc["kind"] == kind}


def pod_spec(workload: dict) -> dict:
    return workload["spec"]["template"]["spec"]


def workloads(docs: list[dict]) -> Iterator[tuple[dict, dict]]:
    """(workload, pod spec) for every Deployment, Job and StatefulSet."""
    for doc in docs:
        if doc["kind"] in WORKLOADS:
            yield doc, pod_spec(doc)


def containers(spec: dict) -> list[dict]:
    """Init containers first, in the order they run, then the containers."""
    return [*spec.get("initContainers", []), *spec["containers"]]


def config_maps(docs: list[dict]) -> dict[str, dict[str, str]]:
    return {name: doc.get("data", {}) for name, doc in named(docs, "ConfigMap").items()}


def environment(container: dict, docs: list[dict]) -> dict[str, str | dict]:
    """What the container's environment holds: ConfigMap values from envFrom, then each env
    entry (a value, or its valueFrom)."""
    maps = config_maps(docs)
    found: dict[str, str | dict] = {}
    for source in container.get("envFrom", []):
        found.update(maps[source["configMapRef"]["name"]])
    for entry in container.get("env", []):
        found[entry["name"]] = entry.get("value", entry.get("valueFrom"))
    return found


def service_of(workload: dict) -> str | None:
    return workload["metadata"].get("labels", {}).get("app.kubernetes.io/name")


@functools.cache
def sizing():
    """deploy/k8s/sizing.py, the figures the manifests are sized by."""
    spec = importlib.util.spec_from_file_location("kompas_sizing", K8S / "sizing.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module
