"""The Kubernetes overlays, built with kustomize: valid against Kubernetes' and KEDA's schemas,
hardened, and in agreement with the services' settings, Dockerfiles and docker-compose.yml."""

from __future__ import annotations

import copy
import re
import shlex
from importlib.metadata import entry_points

import pytest
import yaml
from cloudcoil.models.keda import v1alpha1 as keda
from k8s_manifests import (
    KEDA_KINDS,
    OVERLAYS,
    PORTAL,
    REPO,
    SERVICES,
    containers,
    environment,
    named,
    pod_spec,
    render,
    service_of,
    workloads,
)
from k8s_manifests import sizing as k8s_sizing
from kubernetes_validate import utils as kubernetes_validate

from asn_shared.settings import AdminSettings

KUBERNETES_VERSIONS = ("1.30", "1.37")  # the oldest and newest kubernetes-validate 1.37 knows
KEDA_MODELS = {
    "ScaledObject": keda.ScaledObject,
    "TriggerAuthentication": keda.TriggerAuthentication,
}
COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text())
# env entries the manifests compose AMQP_URI from ($(VAR) references); no service reads them
URI_PARTS = {"AMQP_HOST", "AMQP_VHOST", "RABBITMQ_ADMIN_USER", "RABBITMQ_ADMIN_PASSWORD"}
SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|_KEY$|DATABASE_URL")


def strict_keda_errors(doc: dict) -> list[str]:
    """What KEDA's CRD schema refuses in ``doc``: a type error, or a field it does not know (the
    models drop those silently, so the model's dump must give back every field)."""
    try:
        model = KEDA_MODELS[doc["kind"]].model_validate(doc)
    except ValueError as error:
        return [str(error)]
    return _dropped(doc, model.model_dump(by_alias=True, exclude_unset=True), doc["kind"])


def _dropped(given, kept, path: str) -> list[str]:
    if isinstance(given, dict):
        if not isinstance(kept, dict):
            return [f"{path}: not an object"]
        return [
            error
            for key, value in given.items()
            for error in (
                _dropped(value, kept[key], f"{path}.{key}")
                if key in kept
                else [f"{path}.{key}: unknown field"]
            )
        ]
    if isinstance(given, list):
        return [
            e
            for i, (g, k) in enumerate(zip(given, kept, strict=True))
            for e in _dropped(g, k, f"{path}[{i}]")
        ]
    return []


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_object_is_valid_against_kubernetes_and_keda_schemas(overlay, version) -> None:
    docs = render(overlay)
    assert docs, f"{overlay} builds nothing"
    for doc in docs:
        if doc["kind"] in KEDA_KINDS:
            assert strict_keda_errors(doc) == [], doc["metadata"]["name"]
        else:
            # strict: a property the schema does not know is an error, as the API server's
            # field validation would make it
            kubernetes_validate.validate(doc, version, strict=True)


def test_the_schema_checks_refuse_a_misspelt_field() -> None:
    docs = render("production")
    deployment = copy.deepcopy(named(docs, "Deployment")["training"])
    deployment["spec"]["replica"] = 2
    with pytest.raises(kubernetes_validate.ValidationError, match="replica"):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSIONS[0], strict=True)

    scaled = copy.deepcopy(named(docs, "ScaledObject")["training"])
    scaled["spec"]["minReplicas"] = 2
    assert strict_keda_errors(scaled) == ["ScaledObject.spec.minReplicas: unknown field"]
    scaled["spec"] = {**scaled["spec"], "maxReplicaCount": "many"}
    assert strict_keda_errors(scaled) and "maxReplicaCount" in strict_keda_errors(scaled)[0]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_pods_run_as_non_root_on_a_read_only_root_without_a_token(overlay) -> None:
    for workload, spec in workloads(render(overlay)):
        name = workload["metadata"]["name"]
        assert spec["automountServiceAccountToken"] is False, name
        assert spec["enableServiceLinks"] is False, name  # no FOO_PORT=tcp://... variables
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        for container in containers(spec):
            where = f"{name}/{container['name']}"
            security = container["securityContext"]
            assert security["allowPrivilegeEscalation"] is False, where
            assert security["capabilities"]["drop"] == ["ALL"], where
            assert set(container["resources"]) == {"requests", "limits"}, where
            if service_of(workload) in SERVICES:
                assert security["readOnlyRootFilesystem"] is True, where


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_services_are_probed_on_health_and_sized_from_the_benchmark(overlay) -> None:
    sizing = k8s_sizing()
    deployments = named(render(overlay), "Deployment")
    assert sorted(deployments) == sorted((*SERVICES, PORTAL))
    for name, deployment in deployments.items():
        (container,) = pod_spec(deployment)["containers"]
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            assert container[probe]["httpGet"] == {"path": "/health", "port": "http"}, name
        if name == PORTAL:
            # sessions live in the portal's database: any replica serves anyone signed in
            assert deployment["spec"]["replicas"] == (2 if overlay == "production" else 1)
            assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
            continue
        requests, limits = container["resources"]["requests"], container["resources"]["limits"]
        assert requests["cpu"] == f"{sizing.cpu_request_millicores(name)}m", name
        # one Python process never uses more than a core
        assert limits["cpu"] == "1", name
        assert "replicas" not in deployment["spec"], f"{name}: KEDA sets the replicas"


def allowed_variables(service: str) -> set[str]:
    """The environment variables ``service`` reads: those its settings and asn-admin's (its
    setup job) declare, those its config.yaml hands nameko, and those the shared library reads
    from the process environment."""
    config = (REPO / "services" / service / "config.yaml").read_text()
    shared = "\n".join(
        path.read_text() for path in (REPO / "shared" / "src" / "asn_shared").glob("*.py")
    )
    read = re.findall(r"(?:environ\.get|_setting)\(\s*\"([A-Z][A-Z0-9_]+)\"", shared)
    (settings,) = [
        entry.load().settings_class for entry in entry_points(group="asn.services", name=service)
    ]
    marks = settings.marks(service=service)
    declared = {
        declaration.name(marks)
        for group in (settings, AdminSettings)
        for declaration in group.declarations().values()
    }
    return {*re.findall(r"\$\{([A-Z][A-Z0-9_]*)", config), *read, *declared}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_environment_holds_only_settings_the_services_read(overlay) -> None:
    docs = render(overlay)
    for workload, spec in workloads(docs):
        service = service_of(workload)
        if service not in SERVICES:
            continue
        for container in containers(spec):
            env = environment(container, docs)
            where = f"{workload['metadata']['name']}/{container['name']}"
            unknown = set(env) - allowed_variables(service) - URI_PARTS
            assert not unknown, f"{where}: {sorted(unknown)} is read by nothing"
            defined: set[str] = {
                key
                for source in container.get("envFrom", [])
                for key in environment({"envFrom": [source]}, docs)
            }
            for entry in container.get("env", []):
                # $(VAR) expands only variables defined before it
                for reference in re.findall(r"\$\(([A-Z0-9_]+)\)", entry.get("value", "")):
                    assert reference in defined, f"{where}: {entry['name']} uses $({reference})"
                defined.add(entry["name"])
                if SECRET_NAME.search(entry["name"]):
                    assert "secretKeyRef" in entry.get("valueFrom", {}), f"{where}: {entry}"


def readme_block(name: str) -> str:
    """The text README.md holds between <!-- name --> and <!-- /name -->."""
    readme = (REPO / "README.md").read_text()
    found = re.search(rf"<!-- {name} -->\n(.*?)<!-- /{name} -->", readme, re.S)
    assert found, f"README.md has no {name} block"
    return found.group(1)


def documented_secrets() -> set[tuple[str, str]]:
    """(Secret, key) pairs README's "Kubernetes" section tells the operator to create."""
    rows = re.findall(r"^\| `([a-z<>-]+)` \| `([a-z-]+)` \|", readme_block("secrets"), re.M)
    return {
        (name.replace("<service>", service), key)
        for name, key in rows
        for service in (SERVICES if "<service>" in name else ("",))
    }


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_secrets_are_referenced_by_name_and_documented(overlay) -> None:
    docs = render(overlay)
    assert not named(docs, "Secret"), "a Secret's value would be in the repository"
    text = yaml.safe_dump_all(docs)
    referenced = set(re.findall(r"secretKeyRef:\n\s+key: (\S+)\n\s+name: (\S+)", text))
    referenced |= set(re.findall(r"key: (\S+)\n\s+name: (\S+)\n\s+parameter:", text))
    assert {(name, key) for key, name in referenced} <= documented_secrets()
    assert documented_secrets() - {(name, key) for key, name in referenced} <= {
        ("postgres-admin", "password")  # the bundled PostgreSQL's, in single-node only
    }


def dockerfile(service: str) -> str:
    return (REPO / "services" / service / "Dockerfile").read_text()


@pytest.mark.parametrize("service", SERVICES)
def test_ports_and_commands_agree_with_the_dockerfile_and_compose(service) -> None:
    docs = render("production")
    text = dockerfile(service)
    (address,) = re.findall(rf"{service.upper()}_HTTP_ADDRESS=\S+:(\d+)", text)
    assert re.search(rf"^EXPOSE {address}$", text, re.M)
    assert re.search(rf"^HEALTHCHECK .*127\.0\.0\.1:{address}/health", text, re.M | re.S)
    assert COMPOSE["services"][service]["ports"][0].endswith(f":{address}")

    (container,) = pod_spec(named(docs, "Deployment")[service])["containers"]
    assert container["ports"] == [{"name": "http", "containerPort": int(address)}]
    assert "command" not in container and "args" not in container  # the image's CMD
    assert re.search(
        rf'^CMD \["nameko", "run", "--config", "/app/config.yaml", "{service}\.', text, re.M
    )
    assert container["image"].split(":")[0] == COMPOSE["services"][service]["image"]
    assert named(docs, "Service")[service]["spec"]["ports"][0]["targetPort"] == "http"

    # the setup job runs the compose setup's commands, one container each, in order
    job = pod_spec(named(docs, "Job")[f"{service}-setup"])
    compose_setup = COMPOSE["services"][f"{service}-setup"]["command"]
    assert compose_setup[:2] == ["sh", "-c"]
    steps = [shlex.split(step) for step in compose_setup[2].split("&&")]
    assert [c["command"] for c in containers(job)] == steps
    assert {c["image"] for c in containers(job)} == {container["image"]}

    # every variable compose gives the service and its setup job, the manifests give too
    assert set(COMPOSE["services"][service]["environment"]) <= set(environment(container, docs))
    job_env = set().union(*(environment(c, docs) for c in containers(job)))
    assert set(COMPOSE["services"][f"{service}-setup"]["environment"]) <= job_env


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_setup_jobs_and_their_needs_are_applied_before_the_services(overlay) -> None:
    """README: `kubectl apply -l 'kompas-asn/phase!=services'` first, wait for the jobs."""
    docs = render(overlay)
    late = {
        (doc["kind"], doc["metadata"]["name"])
        for doc in docs
        if doc["metadata"].get("labels", {}).get("kompas-asn/phase") == "services"
    }
    expected = {
        (kind, service)
        for kind in ("Deployment", "Service", "PodDisruptionBudget", "ScaledObject")
        for service in SERVICES
    } | {("TriggerAuthentication", "rabbitmq-management")}
    expected |= {(kind, PORTAL) for kind in ("Deployment", "Service", "PodDisruptionBudget")}
    assert late == expected
    assert {name for name in named(docs, "Job")} == {f"{s}-setup" for s in SERVICES}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_deployment_has_one_scaler_on_its_own_handler_queues(overlay) -> None:
    sizing = k8s_sizing()
    docs = render(overlay)
    assert not [doc for doc in docs if doc["kind"] == "HorizontalPodAutoscaler"]
    scaled = named(docs, "ScaledObject")
    assert sorted(s["spec"]["scaleTargetRef"]["name"] for s in scaled.values()) == sorted(SERVICES)
    for name, scaler in scaled.items():
        (trigger,) = scaler["spec"]["triggers"]
        assert trigger["type"] == "rabbitmq"
        assert trigger["authenticationRef"] == {"name": "rabbitmq-management"}
        assert trigger["metadata"]["value"] == str(sizing.backlog_target(name))
        spec = scaler["spec"]
        if overlay == "production":
            assert spec["minReplicaCount"] == sizing.PRODUCTION_MIN_REPLICAS
            assert spec["maxReplicaCount"] == sizing.production_max_replicas(name)
        assert 1 <= spec["minReplicaCount"] < spec["maxReplicaCount"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_network_policies_let_each_pod_reach_only_its_peers(overlay) -> None:
    docs = render(overlay)
    policies = named(docs, "NetworkPolicy")
    assert policies["default-deny"]["spec"] == {
        "podSelector": {},
        "policyTypes": ["Ingress", "Egress"],
    }
    for service in SERVICES:
        # the service: the broker and the identity provider; its setup job: the broker's
        # AMQP and management ports
        for name, extra in ((service, {5672, 8080, 8443}), (f"{service}-setup", {5672, 15672})):
            egress = policies[name]["spec"]["egress"]
            ports = {port["port"] for rule in egress for port in rule["ports"]}
            expected = {53, 5432} | extra
            if name == "notification":
                expected |= {25, 465, 587, 443}
            assert ports == expected, name
            databases = {
                label
                for rule in egress
                for peer in rule["to"]
                for label in peer.get("podSelector", {}).get("matchLabels", {})
                if label.startswith("kompas-asn/database-")
            }
            assert databases == {f"kompas-asn/database-{service}"}, name
    # the portal: the services' APIs, the identity provider and its own database, no broker
    egress = policies[PORTAL]["spec"]["egress"]
    assert {port["port"] for rule in egress for port in rule["ports"]} == {
        53,
        8000,
        8080,
        8443,
        5432,
    }
    assert {
        label
        for rule in egress
        for peer in rule["to"]
        for label in peer.get("podSelector", {}).get("matchLabels", {})
        if label.startswith("kompas-asn/database-")
    } == {"kompas-asn/database-portal"}
    # every pod is let through by a policy of its own, besides the default denial
    for workload, _spec in workloads(docs):
        labels = workload["spec"]["template"]["metadata"]["labels"]
        chosen = [
            name
            for name, policy in policies.items()
            if policy["spec"]["podSelector"]
            and policy["spec"]["podSelector"]["matchLabels"].items() <= labels.items()
        ]
        assert len(chosen) == 1, (workload["metadata"]["name"], chosen)


def test_readme_sizing_tables_are_what_the_sizing_script_prints() -> None:
    sizing = k8s_sizing()
    assert readme_block("sizing") == sizing.tables()


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_portal_is_given_only_settings_it_reads_and_its_issuer(overlay) -> None:
    docs = render(overlay)
    (container,) = pod_spec(named(docs, "Deployment")[PORTAL])["containers"]
    env = environment(container, docs)
    source = (REPO / "services/portal/src/portal/settings.py").read_text()
    read = set(re.findall(r'"([A-Z][A-Z0-9_]*)"', source)) | {
        f"{name.upper()}_URL" for name in SERVICES
    }
    assert set(env) - read == set(), "read by nothing in the portal"
    assert {"AUTH_OIDC_ISSUER", "PORTAL_PUBLIC_URL", "PORTAL_DATABASE_URL"} <= set(env)
    assert all(env[f"{name.upper()}_URL"] == f"http://{name}:8000" for name in SERVICES)
