"""The Grafana dashboard and the Prometheus alert rules ask only for metrics and labels a
running service exposes; the services start with the settings the manifests give them."""

from __future__ import annotations

import json
import re
import subprocess
from datetime import UTC, datetime
from importlib import import_module
from pathlib import Path

import pytest
import sqlalchemy
import yaml
from k8s_manifests import REPO, SERVICES, environment, named, pod_spec, render
from prometheus_client.parser import text_string_to_metric_families
from promql_names import References, grafana_to_promql, references

from asn_shared.persistence import make_engine
from asn_testkit.auth import admin_http
from asn_testkit.metrics import events_handled, metric_sum, scrape
from asn_testkit.units import announce, unit_state
from asn_testkit.waiting import wait_for

MONITORING = REPO / "deploy" / "monitoring"
DASHBOARD = json.loads((MONITORING / "grafana" / "dashboards" / "kompas-asn.json").read_text())
ALERTS = yaml.safe_load((MONITORING / "prometheus" / "alerts.yml").read_text())
CLASSES = {
    "competency": "CompetencyService",
    "training": "TrainingService",
    "budget": "BudgetService",
    "notification": "NotificationService",
}
# what the alerts read from others than the services: Prometheus itself (up), the blackbox
# exporter (probe_success) and RabbitMQ's Prometheus plugin, /metrics/detailed
OTHER_EXPORTERS = {"up", "probe_success", "rabbitmq_detailed_queue_messages"}


def dashboard_queries() -> list[str]:
    return [target["expr"] for panel in DASHBOARD["panels"] for target in panel.get("targets", [])]


def alert_queries() -> list[str]:
    return [rule["expr"] for group in ALERTS["groups"] for rule in group["rules"]]


def variable_references() -> list[References]:
    """The dashboard's variables: label_values(metric, label)."""
    found = []
    for variable in DASHBOARD["templating"]["list"]:
        metric, label = re.fullmatch(
            r"label_values\((\w+),\s*(\w+)\)", variable["query"]["query"]
        ).groups()
        found.append(References({metric: set()}, {label}))
    return found


def all_references() -> list[References]:
    return [references(e) for e in dashboard_queries() + alert_queries()] + variable_references()


def exposed(exposition: str) -> dict[str, set[str]]:
    """Sample name -> the label names seen on it; a family without samples yet (a labelled
    counter nothing has counted) still names its samples by its type."""
    names: dict[str, set[str]] = {}
    suffixes = {"counter": ["_total"], "histogram": ["_bucket", "_count", "_sum"]}
    for family in text_string_to_metric_families(exposition):
        for suffix in suffixes.get(family.type, [""]):
            names.setdefault(family.name + suffix, set())
        for sample in family.samples:
            names.setdefault(sample.name, set()).update(sample.labels)
    return names


def manifest_settings(service: str) -> dict[str, str]:
    """The settings the production overlay gives the service's container, without secrets, the
    values composed from them and the identity provider's (the harness gives its own broker,
    database and provider)."""
    docs = render("production")
    (container,) = pod_spec(named(docs, "Deployment")[service])["containers"]
    return {
        name: value
        for name, value in environment(container, docs).items()
        if isinstance(value, str) and "$(" not in value and not name.startswith("AUTH_")
    }


def start(service: str, run_service, database, env: dict[str, str] | None = None):
    package = import_module(service)
    return run_service(
        service,
        f"{service}.service:{CLASSES[service]}",
        REPO / "services" / service / "config.yaml",
        database(migrations=Path(package.__file__).parent / "migrations"),
        env={**manifest_settings(service), **(env or {})},
    )


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_starts_with_its_manifest_settings_and_exposes_the_dashboards_metrics(
    service, run_service, database
) -> None:
    settings = manifest_settings(service)
    assert settings["QUEUE_TYPE"] == "quorum"  # production's, the broker's cluster setting
    process = start(service, run_service, database)  # waits for /health to answer 200
    names = exposed(scrape(process.url))
    wanted = {
        name
        for found in map(references, dashboard_queries())
        for name in found.metrics
        if name.startswith("asn_")
    }
    assert wanted - set(names) == set()


def test_dashboard_and_alerts_use_only_metrics_and_labels_running_services_expose(
    run_service, database, publish_event
) -> None:
    # budget, with quick retries: one event handled, one failing until it is dead-lettered,
    # through quorum queues as in production
    budget = start(
        "budget", run_service, database, {"EVENT_MAX_ATTEMPTS": "2", "EVENT_RETRY_DELAY": "0.1"}
    )
    announce(
        publish_event, budget.url, "unit.registered", [unit_state("U1", None, datetime.now(UTC))]
    )
    engine = make_engine(budget.env["BUDGET_DATABASE_URL"])
    with engine.begin() as connection:
        connection.execute(sqlalchemy.text("ALTER TABLE unit_tree RENAME TO unit_tree_gone"))
    engine.dispose()
    publish_event("unit.registered", unit_state("U2", None, datetime.now(UTC)))
    wait_for(
        lambda: events_handled(budget.url, "on_unit_registered", "dead_lettered") == 1,
        what="the failing event dead-lettered",
    )
    assert admin_http.get(f"{budget.url}/no-such-route", timeout=5).status_code == 404
    # competency, publishing through its outbox
    competency = start("competency", run_service, database)
    created = admin_http.post(f"{competency.url}/units", json={"code": "U1", "name": "Unit"})
    assert created.status_code == 201, created.text
    wait_for(
        lambda: metric_sum(scrape(competency.url), "asn_outbox_published_total") >= 1,
        what="unit.registered published",
    )

    samples = exposed(scrape(budget.url))
    for name, labels in exposed(scrape(competency.url)).items():
        samples.setdefault(name, set()).update(labels)
    outside = set()
    for found in all_references():
        for metric, labels in found.metrics.items():
            if not metric.startswith("asn_"):
                outside.add(metric)
                continue
            assert samples.get(metric), f"{metric}: no sample"
            assert labels <= samples[metric], f"{metric}: {labels - samples[metric]}"
        asn_labels = set().union(*(samples.get(m, set()) for m in found.metrics))
        if any(m.startswith("asn_") for m in found.metrics):
            assert found.grouping <= asn_labels, found
    assert outside == OTHER_EXPORTERS


def test_dashboard_queries_are_valid_promql(tmp_path) -> None:
    rules = {
        "groups": [
            {
                "name": "dashboard",
                "rules": [
                    {"record": f"dashboard:query_{i}", "expr": grafana_to_promql(expr)}
                    for i, expr in enumerate(dashboard_queries())
                ],
            }
        ]
    }
    path = tmp_path / "dashboard-rules.yml"
    path.write_text(yaml.safe_dump(rules))
    checked = subprocess.run(
        ["promtool", "check", "rules", str(path)], capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"SUCCESS: {len(dashboard_queries())} rules found" in checked.stdout


def test_dashboard_reads_the_provisioned_data_source_and_its_panels_are_distinct() -> None:
    provisioned = yaml.safe_load(
        (MONITORING / "grafana" / "provisioning" / "datasources" / "prometheus.yml").read_text()
    )
    (source,) = provisioned["datasources"]
    uids = {
        (target.get("datasource") or panel["datasource"])["uid"]
        for panel in DASHBOARD["panels"]
        for target in panel.get("targets", [])
    }
    assert uids == {source["uid"]}
    ids = [panel["id"] for panel in DASHBOARD["panels"]]
    assert len(ids) == len(set(ids))


def test_compose_prometheus_scrapes_every_service_where_it_listens() -> None:
    config = yaml.safe_load((MONITORING / "prometheus" / "prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())["services"]
    ports = {s: compose[s]["ports"][0].rsplit(":", 1)[1] for s in SERVICES}
    (metrics,) = jobs["kompas-asn"]["static_configs"]
    assert metrics["targets"] == [f"{s}:{ports[s]}" for s in SERVICES]
    (health,) = jobs["kompas-asn-health"]["static_configs"]
    assert health["targets"] == [f"http://{s}:{ports[s]}/health" for s in SERVICES]
    monitoring = {name for name, s in compose.items() if "monitoring" in s.get("profiles", [])}
    assert monitoring == {"prometheus", "blackbox", "grafana"}
    assert all(re.search(r":v?\d+\.\d+\.\d+$", compose[name]["image"]) for name in monitoring)
