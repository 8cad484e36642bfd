"""The deployment files hold together: they parse, name what exists, and stay hardened.

Pure YAML checks, no cluster and no Docker: Kubernetes manifests and kustomizations under
deploy/k8s, docker-compose.yml, the Dockerfile and .dockerignore.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from shared.bus import dlq_topic
from shared.events import EVENT_TYPES

ROOT = Path(__file__).resolve().parents[3]
K8S = ROOT / "deploy" / "k8s"
BASE = K8S / "base"
DEV = K8S / "overlays" / "dev"
PROD = K8S / "overlays" / "prod"
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"

SERVICE_PORTS = {
    "topology": 8001,
    "contacts": 8002,
    "dispatch": 8003,
    "receipts": 8004,
    "reconciliation": 8006,
}
SIMULATOR = "carrier-sim"
SIMULATOR_PORT = 8005
TOPICS = sorted(EVENT_TYPES)
# Events that carry a whole outage's accounts or recipients.
LARGE_TOPICS = {"outage.traced", "outage.retraced", "list.approved", "outage.reconciled"}
SIXTEEN_MIB = 16 * 1024 * 1024
DAY_MS = 24 * 3600 * 1000
APP_SECRET = "outage-notice-secrets"
PART_OF = {"app.kubernetes.io/part-of": "outage-notice"}
SECRET_LIKE = re.compile(r"SECRET|PASSWORD|PASSWD|TOKEN|API_KEY|DATABASE_URL", re.IGNORECASE)

Manifest = dict[str, Any]


def load_all(path: Path) -> list[Any]:
    with path.open(encoding="utf-8") as handle:
        return [doc for doc in yaml.safe_load_all(handle) if doc is not None]


def load_one(path: Path) -> Any:
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def kustomization(folder: Path) -> dict[str, Any]:
    content = load_one(folder / "kustomization.yaml")
    assert isinstance(content, dict), folder
    return content


def kustomization_folders() -> list[Path]:
    return sorted(path.parent for path in K8S.rglob("kustomization.yaml"))


def resources_of(folder: Path) -> list[Manifest]:
    """The manifests a kustomization assembles, before patches (folders followed down)."""
    docs: list[Manifest] = []
    for entry in kustomization(folder).get("resources", []):
        target = (folder / entry).resolve()
        if target.is_dir():
            docs.extend(resources_of(target))
        else:
            docs.extend(load_all(target))
    return docs


def find(docs: list[Manifest], kind: str, name: str) -> Manifest:
    matches = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(matches) == 1, f"expected one {kind} {name!r}, found {len(matches)}"
    return matches[0]


def the_container(deployment: Manifest) -> Manifest:
    containers = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1, deployment["metadata"]["name"]
    container: Manifest = containers[0]
    return container


def inline_patch_ops(folder: Path, kind: str) -> dict[str, Any]:
    """``{path: value}`` of the JSON 6902 operations an overlay applies to every ``kind``."""
    ops: dict[str, Any] = {}
    for patch in kustomization(folder).get("patches", []):
        if patch.get("target", {}).get("kind") == kind and "patch" in patch:
            for op in yaml.safe_load(patch["patch"]):
                assert op["op"] == "replace", op
                ops[op["path"]] = op["value"]
    return ops


def patch_documents(folder: Path) -> list[Manifest]:
    docs: list[Manifest] = []
    for patch in kustomization(folder).get("patches", []):
        if "path" in patch:
            docs.extend(load_all(folder / patch["path"]))
    return docs


def env_entries(doc: Manifest) -> Iterator[tuple[str, Manifest]]:
    """Every container env entry of a workload manifest, with the container's name."""
    spec = doc.get("spec", {}).get("template", {}).get("spec", {})
    for container in spec.get("containers", []) + spec.get("initContainers", []):
        for entry in container.get("env", []):
            yield container["name"], entry


def all_k8s_yaml_files() -> list[Path]:
    return sorted([*K8S.rglob("*.yaml"), *K8S.rglob("*.yml")])


# --- Kubernetes: files and kustomizations -----------------------------------------------------


@pytest.mark.parametrize("path", all_k8s_yaml_files(), ids=lambda p: str(p.relative_to(K8S)))
def test_every_yaml_file_under_deploy_k8s_parses_into_named_objects(path: Path) -> None:
    docs = load_all(path)
    assert docs, f"{path} is empty"
    for doc in docs:
        assert isinstance(doc, dict)
        assert doc.get("apiVersion"), path
        assert doc.get("kind"), path
        if doc["kind"] != "Kustomization":
            assert doc.get("metadata", {}).get("name"), f"an object in {path} has no name"


def test_there_is_a_base_and_a_dev_and_a_prod_overlay() -> None:
    assert kustomization_folders() == sorted([BASE, DEV, PROD])


@pytest.mark.parametrize("folder", kustomization_folders(), ids=lambda p: str(p.relative_to(K8S)))
def test_every_kustomization_names_only_files_that_exist(folder: Path) -> None:
    content = kustomization(folder)
    for entry in content.get("resources", []) + content.get("components", []):
        target = folder / entry
        assert target.exists(), f"{folder.name}: resource {entry} does not exist"
        if target.is_dir():
            assert (target / "kustomization.yaml").is_file(), f"{entry} is no kustomization"
    for patch in content.get("patches", []):
        assert "path" in patch or "patch" in patch, patch
        if "path" in patch:
            assert (folder / patch["path"]).is_file(), f"patch {patch['path']} does not exist"
    for generator in content.get("configMapGenerator", []) + content.get("secretGenerator", []):
        for listed in generator.get("files", []) + generator.get("envs", []):
            assert (folder / listed.split("=")[-1]).is_file(), f"{listed} does not exist"


@pytest.mark.parametrize("folder", kustomization_folders(), ids=lambda p: str(p.relative_to(K8S)))
def test_every_manifest_file_is_used_by_its_kustomization(folder: Path) -> None:
    content = kustomization(folder)
    used = set(content.get("resources", [])) | {
        p["path"] for p in content.get("patches", []) if "path" in p
    }
    files = {p.name for p in folder.glob("*.yaml")} - {"kustomization.yaml"}
    assert files <= used, f"not referenced by {folder}/kustomization.yaml: {files - used}"


@pytest.mark.parametrize("folder", [DEV, PROD], ids=["dev", "prod"])
def test_overlay_patches_target_resources_that_exist(folder: Path) -> None:
    docs = resources_of(folder)
    for patch in patch_documents(folder):
        find(docs, patch["kind"], patch["metadata"]["name"])
    for patch in kustomization(folder).get("patches", []):
        if "target" in patch:
            kind = patch["target"]["kind"]
            assert any(d["kind"] == kind for d in docs), f"no {kind} for {patch['target']}"


def test_kustomizations_that_add_manifests_put_them_in_the_namespace_and_label_the_suite() -> None:
    adding = []
    for folder in kustomization_folders():
        content = kustomization(folder)
        if all((folder / r).is_dir() for r in content.get("resources", [])):
            continue
        adding.append(folder)
        assert content.get("namespace") == "outage-notice", folder
        assert any(
            entry["pairs"] == PART_OF
            and entry.get("includeTemplates") is True
            and not entry.get("includeSelectors", False)
            for entry in content.get("labels", [])
        ), f"{folder}: part-of label missing, not on pod templates, or in immutable selectors"
    assert adding == [BASE, DEV]


@pytest.mark.parametrize("folder", [BASE, DEV, PROD], ids=["base", "dev", "prod"])
def test_every_object_carries_an_app_name_label(folder: Path) -> None:
    for doc in resources_of(folder):
        name = doc["metadata"]["name"]
        assert doc["metadata"].get("labels", {}).get("app.kubernetes.io/name"), name
        if doc["kind"] == "Deployment":
            pod_labels = doc["spec"]["template"]["metadata"]["labels"]
            assert pod_labels["app.kubernetes.io/name"], name
    generators = kustomization(folder).get("configMapGenerator", [])
    for generator in generators:
        if generator.get("behavior") != "merge":
            assert generator["options"]["labels"]["app.kubernetes.io/name"], generator["name"]


# --- Kubernetes: the services ----------------------------------------------------------------


@pytest.mark.parametrize("service", SERVICE_PORTS)
def test_each_service_has_a_deployment_service_autoscaler_and_disruption_budget(
    service: str,
) -> None:
    docs = resources_of(BASE)
    deployment = find(docs, "Deployment", service)
    selector = deployment["spec"]["selector"]["matchLabels"]
    assert selector == {"app.kubernetes.io/name": service}
    assert selector.items() <= deployment["spec"]["template"]["metadata"]["labels"].items()

    svc = find(docs, "Service", service)
    assert svc["spec"]["selector"] == selector
    assert svc["spec"]["ports"] == [
        {"name": "http", "port": SERVICE_PORTS[service], "targetPort": "http"}
    ]

    hpa = find(docs, "HorizontalPodAutoscaler", service)
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": service,
    }
    assert 1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
    # The autoscaler owns the count; a fixed one would be reset on every apply.
    assert "replicas" not in deployment["spec"]

    pdb = find(docs, "PodDisruptionBudget", service)
    assert pdb["apiVersion"] == "policy/v1"
    assert pdb["spec"]["selector"]["matchLabels"] == selector


@pytest.mark.parametrize("service", SERVICE_PORTS)
def test_each_service_serves_its_own_module_on_its_port_on_all_interfaces(service: str) -> None:
    container = the_container(find(resources_of(BASE), "Deployment", service))
    port = SERVICE_PORTS[service]
    assert container["command"] == [
        "python",
        "-m",
        f"services.{service}",
        "serve",
        "--host",
        "0.0.0.0",
        "--port",
        str(port),
    ]
    assert container["ports"] == [{"name": "http", "containerPort": port}]
    assert container["image"] == "outage-notice"


@pytest.mark.parametrize("service", SERVICE_PORTS)
def test_each_service_is_live_on_healthz_and_ready_on_readyz(service: str) -> None:
    container = the_container(find(resources_of(BASE), "Deployment", service))
    probes = {
        kind: (container[kind]["httpGet"]["path"], container[kind]["httpGet"]["port"])
        for kind in ("startupProbe", "livenessProbe", "readinessProbe")
    }
    assert probes == {
        "startupProbe": ("/healthz", "http"),
        "livenessProbe": ("/healthz", "http"),
        "readinessProbe": ("/readyz", "http"),
    }


@pytest.mark.parametrize(
    ("folder", "name"),
    [(BASE, s) for s in SERVICE_PORTS] + [(DEV, SIMULATOR)],
    ids=[*SERVICE_PORTS, SIMULATOR],
)
def test_each_workload_runs_unprivileged_as_non_root_on_a_read_only_root(
    folder: Path, name: str
) -> None:
    deployment = find(resources_of(folder), "Deployment", name)
    pod = deployment["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 10001
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["automountServiceAccountToken"] is False
    assert pod["enableServiceLinks"] is False

    container = the_container(deployment)
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert "emptyDir" in volumes[mounts["/tmp"]]


@pytest.mark.parametrize(
    ("folder", "name"),
    [(BASE, s) for s in SERVICE_PORTS] + [(DEV, SIMULATOR)],
    ids=[*SERVICE_PORTS, SIMULATOR],
)
def test_each_workload_requests_and_limits_cpu_and_memory(folder: Path, name: str) -> None:
    resources = the_container(find(resources_of(folder), "Deployment", name))["resources"]
    assert set(resources["requests"]) == {"cpu", "memory"}
    assert set(resources["limits"]) == {"cpu", "memory"}


def test_dev_resizes_every_service_and_keeps_requests_and_limits() -> None:
    patched = {d["metadata"]["name"]: d for d in patch_documents(DEV) if d["kind"] == "Deployment"}
    assert set(patched) == set(SERVICE_PORTS)
    for name, deployment in patched.items():
        resources = the_container(deployment)["resources"]
        assert set(resources["requests"]) == {"cpu", "memory"}, name
        assert set(resources["limits"]) == {"cpu", "memory"}, name


@pytest.mark.parametrize("service", SERVICE_PORTS)
def test_each_service_reads_settings_from_the_config_map_and_secrets_from_the_secret(
    service: str,
) -> None:
    container = the_container(find(resources_of(BASE), "Deployment", service))
    assert container["envFrom"] == [{"configMapRef": {"name": "outage-notice-config"}}]
    from_secret = {
        e["name"]: e["valueFrom"]["secretKeyRef"]
        for e in container["env"]
        if "secretKeyRef" in e.get("valueFrom", {})
    }
    expected = {"DATABASE_URL", "JWT_SECRET"}
    if service == "receipts":
        expected.add("RECEIPTS_WEBHOOK_SECRETS")
    assert set(from_secret) == expected
    assert all(ref == {"name": APP_SECRET, "key": key} for key, ref in from_secret.items())


def test_the_config_map_points_the_services_at_the_declared_kafka_cluster() -> None:
    (generator,) = kustomization(BASE)["configMapGenerator"]
    settings = dict(literal.split("=", 1) for literal in generator["literals"])
    kafka = find(resources_of(BASE), "Kafka", "outage-notice")
    assert settings["KAFKA_BOOTSTRAP"] == f"{kafka['metadata']['name']}-kafka-bootstrap:9092"
    assert settings["KAFKA_IDEMPOTENCE"] == "true"
    assert settings["TIMEZONE"] == "Asia/Shanghai"
    assert not any(SECRET_LIKE.search(key) for key in settings)


@pytest.mark.parametrize("folder", [BASE, DEV, PROD], ids=["base", "dev", "prod"])
def test_no_secret_value_is_written_in_the_manifests(folder: Path) -> None:
    docs = resources_of(folder) + patch_documents(folder)
    assert not [d for d in docs if d["kind"] == "Secret"], "Secrets are created by hand"
    assert not kustomization(folder).get("secretGenerator")
    for doc in docs:
        for container, entry in env_entries(doc):
            if SECRET_LIKE.search(entry["name"]):
                assert "value" not in entry, f"{container}: {entry['name']} has a literal value"
                assert "secretKeyRef" in entry["valueFrom"], f"{container}: {entry['name']}"
    for generator in kustomization(folder).get("configMapGenerator", []):
        for literal in generator.get("literals", []):
            assert not SECRET_LIKE.search(literal.split("=", 1)[0]), literal


def test_the_postgres_credentials_are_referenced_not_written() -> None:
    cluster = find(resources_of(BASE), "Cluster", "outage-notice-db")
    initdb = cluster["spec"]["bootstrap"]["initdb"]
    assert initdb["secret"] == {"name": "outage-notice-db-credentials"}
    assert not SECRET_LIKE.search(yaml.safe_dump(initdb).replace("secret:", ""))


# --- Kubernetes: Kafka and PostgreSQL ----------------------------------------------------------


def test_the_topic_list_covers_every_event_of_the_catalogue() -> None:
    assert set(EVENT_TYPES) <= set(TOPICS)


@pytest.mark.parametrize("topic", TOPICS)
def test_each_event_topic_and_its_dead_letter_topic_is_declared(topic: str) -> None:
    topics = {
        d["spec"].get("topicName", d["metadata"]["name"]): d
        for d in resources_of(BASE)
        if d["kind"] == "KafkaTopic"
    }
    events, dead_letters = topics[topic], topics[dlq_topic(topic)]
    for declared in (events, dead_letters):
        assert declared["apiVersion"] == "kafka.strimzi.io/v1beta2"
        assert declared["metadata"]["name"] == declared["spec"]["topicName"]
        assert declared["metadata"]["labels"]["strimzi.io/cluster"] == "outage-notice"
        assert declared["spec"]["replicas"] == 3
        assert declared["spec"]["config"]["min.insync.replicas"] == 2
        size_limit = declared["spec"]["config"].get("max.message.bytes")
        assert size_limit == (SIXTEEN_MIB if topic in LARGE_TOPICS else None)
    assert events["spec"]["config"]["retention.ms"] == 7 * DAY_MS
    assert dead_letters["spec"]["config"]["retention.ms"] == 30 * DAY_MS
    assert events["spec"]["partitions"] >= 1
    assert dead_letters["spec"]["partitions"] >= 1


def test_no_topic_is_declared_that_the_suite_does_not_use() -> None:
    declared = {
        d["spec"].get("topicName", d["metadata"]["name"])
        for d in resources_of(BASE)
        if d["kind"] == "KafkaTopic"
    }
    assert declared == set(TOPICS) | {dlq_topic(t) for t in TOPICS}


def test_kafka_replicates_every_write_to_two_of_three_nodes_in_production() -> None:
    docs = resources_of(BASE)
    kafka = find(docs, "Kafka", "outage-notice")
    config = kafka["spec"]["kafka"]["config"]
    assert config["default.replication.factor"] == 3
    assert config["min.insync.replicas"] == 2
    assert config["auto.create.topics.enable"] is False
    assert "topicOperator" in kafka["spec"]["entityOperator"]
    pool = find(docs, "KafkaNodePool", "dual-role")
    assert pool["metadata"]["labels"]["strimzi.io/cluster"] == "outage-notice"
    assert pool["spec"]["replicas"] == 3
    assert sorted(pool["spec"]["roles"]) == ["broker", "controller"]


def test_dev_runs_a_single_kafka_node_with_single_copies() -> None:
    patches = {(d["kind"], d["metadata"]["name"]): d for d in patch_documents(DEV)}
    assert patches["KafkaNodePool", "dual-role"]["spec"]["replicas"] == 1
    config = patches["Kafka", "outage-notice"]["spec"]["kafka"]["config"]
    assert config["default.replication.factor"] == 1
    assert config["min.insync.replicas"] == 1
    assert inline_patch_ops(DEV, "KafkaTopic") == {
        "/spec/replicas": 1,
        "/spec/config/min.insync.replicas": 1,
    }


def test_postgres_runs_three_instances_in_production_and_one_in_development() -> None:
    cluster = find(resources_of(BASE), "Cluster", "outage-notice-db")
    assert cluster["apiVersion"] == "postgresql.cnpg.io/v1"
    assert cluster["spec"]["instances"] == 3
    assert cluster["spec"]["bootstrap"]["initdb"]["database"] == "notice"
    dev = {(d["kind"], d["metadata"]["name"]): d for d in patch_documents(DEV)}
    assert dev["Cluster", "outage-notice-db"]["spec"]["instances"] == 1
    prod = {(d["kind"], d["metadata"]["name"]) for d in patch_documents(PROD)}
    assert ("Cluster", "outage-notice-db") not in prod


# --- Kubernetes: overlays ----------------------------------------------------------------------


def test_dev_runs_one_pod_per_service_and_prod_at_least_three_with_more_headroom() -> None:
    base_max = {
        d["spec"]["maxReplicas"]
        for d in resources_of(BASE)
        if d["kind"] == "HorizontalPodAutoscaler"
    }
    dev = inline_patch_ops(DEV, "HorizontalPodAutoscaler")
    prod = inline_patch_ops(PROD, "HorizontalPodAutoscaler")
    assert dev == {"/spec/minReplicas": 1, "/spec/maxReplicas": 1}
    assert prod["/spec/minReplicas"] == 3
    assert prod["/spec/maxReplicas"] > max(base_max)


def test_production_scales_no_further_than_the_topic_partitions() -> None:
    partitions = {
        d["spec"]["partitions"]
        for d in resources_of(BASE)
        if d["kind"] == "KafkaTopic" and d["spec"]["topicName"] in TOPICS
    }
    assert inline_patch_ops(PROD, "HorizontalPodAutoscaler")["/spec/maxReplicas"] <= min(partitions)


def test_production_pins_the_image_tag() -> None:
    (image,) = kustomization(PROD)["images"]
    assert image["name"] == "outage-notice"
    pinned = image.get("digest") or image.get("newTag")
    assert pinned, "no tag or digest"
    assert pinned != "latest"


def test_the_carrier_simulator_runs_in_development_only() -> None:
    dev = resources_of(DEV)
    deployment = find(dev, "Deployment", SIMULATOR)
    container = the_container(deployment)
    assert container["command"] == [
        "python",
        "-m",
        "tools.carrier_sim",
        "--host",
        "0.0.0.0",
        "--port",
        str(SIMULATOR_PORT),
    ]
    assert deployment["spec"]["replicas"] == 1
    assert find(dev, "Service", SIMULATOR)["spec"]["ports"][0]["port"] == SIMULATOR_PORT
    env = {e["name"]: e for e in container["env"]}
    assert env["CARRIER_SIM_REPORT_URL"]["value"] == (
        f"http://receipts:{SERVICE_PORTS['receipts']}/v1/webhooks/sms-status"
    )
    assert env["CARRIER_SIM_REPORT_SECRET"]["valueFrom"]["secretKeyRef"]["name"] == APP_SECRET
    for folder in (BASE, PROD):
        assert SIMULATOR not in {d["metadata"]["name"] for d in resources_of(folder)}


def test_dispatch_sends_to_the_simulator_in_dev_and_to_a_secret_gateway_in_prod() -> None:
    (dev_config,) = kustomization(DEV)["configMapGenerator"]
    assert dev_config["behavior"] == "merge"
    assert (
        f"DISPATCH_SMS_PROVIDER_URL=http://{SIMULATOR}:{SIMULATOR_PORT}" in dev_config["literals"]
    )

    dispatch = find(patch_documents(PROD), "Deployment", "dispatch")
    (entry,) = the_container(dispatch)["env"]
    assert entry["name"] == "DISPATCH_SMS_PROVIDER_URL"
    assert entry["valueFrom"]["secretKeyRef"] == {
        "name": APP_SECRET,
        "key": "DISPATCH_SMS_PROVIDER_URL",
    }


# --- docker-compose.yml -------------------------------------------------------------------------


def compose_services() -> dict[str, Manifest]:
    services: dict[str, Manifest] = load_one(COMPOSE)["services"]
    return services


def test_compose_runs_the_suite_with_kafka_postgres_and_the_simulator() -> None:
    services = compose_services()
    assert set(services) == {*SERVICE_PORTS, SIMULATOR, "kafka", "postgres"}
    assert services["kafka"]["image"].startswith("apache/kafka:")
    assert services["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert services["kafka"]["environment"]["KAFKA_MESSAGE_MAX_BYTES"] == SIXTEEN_MIB
    assert services["postgres"]["image"].startswith("postgres:16")


@pytest.mark.parametrize("service", SERVICE_PORTS)
def test_compose_runs_each_service_on_its_port_and_checks_its_readiness(service: str) -> None:
    definition = compose_services()[service]
    port = SERVICE_PORTS[service]
    assert definition["command"] == [
        "python",
        "-m",
        f"services.{service}",
        "serve",
        "--host",
        "0.0.0.0",
        "--port",
        str(port),
    ]
    check = " ".join(definition["healthcheck"]["test"])
    assert f"http://127.0.0.1:{port}/readyz" in check
    assert definition["environment"]["KAFKA_BOOTSTRAP"] == "kafka:9092"
    assert definition["read_only"] is True


def test_every_compose_dependency_exists_and_waits_until_it_is_healthy() -> None:
    services = compose_services()
    for name, definition in services.items():
        assert "healthcheck" in definition, f"{name} has no healthcheck"
        depends_on = definition.get("depends_on", {})
        assert isinstance(depends_on, dict), f"{name}: depends_on must name conditions"
        for target, condition in depends_on.items():
            assert target in services, f"{name} depends on unknown {target}"
            assert condition == {"condition": "service_healthy"}, f"{name} -> {target}"
            assert "healthcheck" in services[target], f"{target} has no healthcheck"
    for service in SERVICE_PORTS:
        assert {"kafka", "postgres"} <= set(services[service]["depends_on"])


def test_compose_holds_no_secret_value_and_requires_each_one() -> None:
    required = re.compile(r"\$\{[A-Z_]+:\?[^}]+\}")
    for name, definition in compose_services().items():
        for key, value in definition.get("environment", {}).items():
            if SECRET_LIKE.search(key):
                assert required.search(str(value)), f"{name}: {key} is not a required variable"
    url = compose_services()["topology"]["environment"]["DATABASE_URL"]
    password = url.split("://", 1)[1].split("@", 1)[0].split(":", 1)[1]
    assert required.fullmatch(password), "the database password must come from the environment"


# --- Dockerfile and .dockerignore --------------------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = DOCKERFILE.read_text(encoding="utf-8").replace("\\\n", " ")
    instructions = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            keyword, _, rest = stripped.partition(" ")
            instructions.append((keyword.upper(), rest.strip()))
    return instructions


def test_the_image_runs_as_an_unprivileged_user() -> None:
    users = [rest for keyword, rest in dockerfile_instructions() if keyword == "USER"]
    assert users, "no USER: the container would run as root"
    user = users[-1].split(":")[0]
    assert user not in {"root", "0"}
    assert user == "10001"


def test_the_image_is_python_3_11_slim_and_multi_stage() -> None:
    instructions = dockerfile_instructions()
    stages = [rest for keyword, rest in instructions if keyword == "FROM"]
    assert len(stages) >= 2
    (base,) = [rest for keyword, rest in instructions if keyword == "ARG" and "IMAGE" in rest]
    assert base.split("=", 1)[1].startswith("python:3.11-slim")
    envs = " ".join(rest for keyword, rest in instructions if keyword == "ENV")
    assert "PYTHONUNBUFFERED=1" in envs


def test_the_image_bakes_in_no_secret() -> None:
    for keyword, rest in dockerfile_instructions():
        if keyword in {"ENV", "ARG"}:
            for assignment in shlex.split(rest):
                name = assignment.split("=", 1)[0]
                assert not SECRET_LIKE.search(name), f"{keyword} {name} in the Dockerfile"


def dockerignore_pattern(pattern: str) -> re.Pattern[str]:
    """Docker's pattern syntax: ``**`` spans folders, ``*`` and ``?`` stay within one."""
    regex, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            regex, i = regex + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            regex, i = regex + ".*", i + 2
        elif pattern[i] == "*":
            regex, i = regex + "[^/]*", i + 1
        elif pattern[i] == "?":
            regex, i = regex + "[^/]", i + 1
        elif pattern[i] == "[":
            close = pattern.index("]", i)
            regex, i = regex + pattern[i : close + 1], close + 1
        else:
            regex, i = regex + re.escape(pattern[i]), i + 1
    return re.compile(regex)


def dockerignore_allows(path: str) -> bool:
    """Whether ``path`` is sent to the build: the last pattern matching it or a parent wins."""
    parts = path.split("/")
    candidates = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
    allowed = True
    for raw in DOCKERIGNORE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        pattern = dockerignore_pattern(line.removeprefix("!").strip("/"))
        if any(pattern.fullmatch(candidate) for candidate in candidates):
            allowed = negated
    return allowed


@pytest.mark.parametrize(
    "path",
    [
        ".git/config",
        ".venv/bin/python",
        "var/topology.db",
        ".env",
        "tests/conftest.py",
        ".pytest_cache/v/cache/nodeids",
        ".mypy_cache/3.11/shared/db.meta.json",
        "outage_notice.egg-info/PKG-INFO",
        "shared/__pycache__/db.cpython-311.pyc",
        "services/topology/.env",
    ],
)
def test_the_build_context_leaves_out_local_state(path: str) -> None:
    assert not dockerignore_allows(path)


def test_the_build_context_has_everything_the_dockerfile_copies() -> None:
    copied = []
    for keyword, rest in dockerfile_instructions():
        if keyword == "COPY" and "--from=" not in rest:
            *sources, _destination = rest.split()
            copied.extend(sources)
    assert {"requirements.txt", "pyproject.toml", "shared", "services", "tools"} <= set(copied)
    for source in copied:
        assert dockerignore_allows(source), f"{source} is not sent to the build"
    assert dockerignore_allows("services/topology/app.py")
    assert dockerignore_allows("shared/events/catalog.py")
