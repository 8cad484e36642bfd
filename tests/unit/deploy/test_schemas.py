"""The manifests against the real Kubernetes and Compose schemas, offline.

Kustomize renders each overlay (kubectl ships in the machine image); every core object is then
checked strictly by kubernetes-validate, which carries the Kubernetes JSON schemas. Operator
resources (Strimzi, CloudNativePG) have no schema there and are checked by test_manifests.py.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from importlib import resources
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
KUBERNETES_VERSION = "1.31.0"
OPERATOR_GROUPS = ("kafka.strimzi.io/", "postgresql.cnpg.io/")


def render(overlay: str) -> list[dict]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        if os.environ.get("CI"):
            pytest.fail("kubectl is needed to render the kustomize overlays")
        pytest.skip("kubectl not installed")
    out = subprocess.run(
        [kubectl, "kustomize", str(ROOT / "deploy/k8s/overlays" / overlay)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [d for d in yaml.safe_load_all(out) if d]


@pytest.mark.parametrize("overlay", ["dev", "prod"])
def test_every_core_object_of_the_overlay_is_valid_for_kubernetes(overlay):
    documents = render(overlay)
    core = [d for d in documents if not d["apiVersion"].startswith(OPERATOR_GROUPS)]
    assert {d["kind"] for d in core} >= {
        "Deployment",
        "Service",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "ConfigMap",
    }
    for document in core:
        kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)


def test_the_validator_rejects_a_broken_deployment():
    deployment = next(d for d in render("prod") if d["kind"] == "Deployment")
    broken = json.loads(json.dumps(deployment))
    broken["spec"]["replicas"] = "two"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)
    misspelt = json.loads(json.dumps(deployment))
    misspelt["spec"]["template"]["spec"]["containers"][0]["portz"] = []
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(misspelt, KUBERNETES_VERSION, strict=True)


def compose_schema() -> dict:
    vendor = resources.files("check_jsonschema") / "builtin_schemas" / "vendor"
    return json.loads((vendor / "compose-spec.json").read_text(encoding="utf-8"))


def test_the_compose_file_matches_the_compose_specification():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    jsonschema.validate(compose, compose_schema())
    broken = json.loads(json.dumps(compose))
    service = next(iter(broken["services"].values()))
    service["depends_on"] = {"postgres": {"condition": "when_it_feels_like_it"}}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, compose_schema())
