"""deploy/k8s checked without a cluster: every manifest against Kubernetes' own OpenAPI
schemas (strict: unknown fields fail), then what schemas cannot see: selectors that select,
ports and probes that point at real container ports, references that resolve, settings that
exist, container arguments the CLI accepts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest

from tests.deploy.manifests import DEPLOY, SETTING_NAMES, parse_command_line, yaml_documents

K8S = DEPLOY / "k8s"
# The oldest Kubernetes release still maintained upstream when this was written, and the
# newest one the installed kubernetes-validate ships schemas for.
VERSIONS = ("1.32.0", kubernetes_validate.latest_version())
KUSTOMIZATION = yaml_documents(K8S / "kustomization.yaml")[0]


def manifests() -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{path.name}:{doc['kind']}", doc)
        for path in sorted(K8S.glob("*.yaml"))
        if path.name != "kustomization.yaml"
        for doc in yaml_documents(path)
    ]


def by_kind(kind: str) -> list[dict[str, Any]]:
    return [doc for _, doc in manifests() if doc["kind"] == kind]


def pod_templates() -> list[tuple[str, dict[str, Any]]]:
    kinds = ("Deployment", "StatefulSet", "Job")
    return [
        (d["metadata"]["name"], d["spec"]["template"]) for _, d in manifests() if d["kind"] in kinds
    ]


def containers() -> list[tuple[str, dict[str, Any]]]:
    return [(name, c) for name, t in pod_templates() for c in t["spec"]["containers"]]


def workload(kind: str, name: str) -> dict[str, Any]:
    [found] = [d for d in by_kind(kind) if d["metadata"]["name"] == name]
    return found


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize(("where", "doc"), manifests(), ids=[w for w, _ in manifests()])
def test_manifest_is_valid_for_kubernetes(where: str, doc: dict[str, Any], version: str) -> None:
    try:
        kubernetes_validate.validate(doc, version, strict=True)
    except kubernetes_validate.ValidationError as exc:
        path = ".".join(str(p) for p in exc.path)
        pytest.fail(f"{where}: {path}: {exc.message}")


def test_the_validator_rejects_what_kubernetes_would() -> None:
    """The check above can fail: a misspelt field and a wrong type are refused."""
    deployment = workload("Deployment", "alertpipe-ingress")
    misspelt = {**deployment, "spec": {**deployment["spec"], "replica": 2}}
    wrong_type = {**deployment, "spec": {**deployment["spec"], "replicas": "two"}}
    for bad in (misspelt, wrong_type):
        with pytest.raises(kubernetes_validate.ValidationError):
            kubernetes_validate.validate(bad, VERSIONS[-1], strict=True)


def test_kustomization_lists_exactly_the_manifests() -> None:
    listed = set(KUSTOMIZATION["resources"])
    present = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert listed == present
    assert KUSTOMIZATION["namespace"] == by_kind("Namespace")[0]["metadata"]["name"]
    image_names = {image["name"] for image in KUSTOMIZATION["images"]}
    assert {c["image"] for _, c in containers()} == image_names


def test_selectors_select_their_pods() -> None:
    labels = {name: t["metadata"]["labels"] for name, t in pod_templates()}
    for kind in ("Deployment", "StatefulSet"):
        for doc in by_kind(kind):
            wanted = doc["spec"]["selector"]["matchLabels"]
            assert wanted.items() <= labels[doc["metadata"]["name"]].items()
    for doc in [*by_kind("Service"), *by_kind("PodDisruptionBudget")]:
        spec = doc["spec"]
        wanted = spec["selector"].get("matchLabels", spec["selector"])
        assert any(wanted.items() <= pod.items() for pod in labels.values()), doc["metadata"]


def test_services_and_probes_point_at_named_container_ports() -> None:
    ports = {
        name: {
            p["name"]: p["containerPort"]
            for c in t["spec"]["containers"]
            for p in c.get("ports", [])
        }
        for name, t in pod_templates()
    }
    for service in by_kind("Service"):
        name = service["metadata"]["name"]
        for port in service["spec"]["ports"]:
            assert port["targetPort"] in ports[name], (name, port)
    for name, container in containers():
        probes = {
            k: container[k]
            for k in ("readinessProbe", "livenessProbe", "startupProbe")
            if k in container
        }
        if container["args"][0] in ("ingress", "worker"):
            assert {"readinessProbe", "livenessProbe"} <= probes.keys(), name
            assert probes["readinessProbe"]["httpGet"]["path"] == "/readyz"
            assert probes["livenessProbe"]["httpGet"]["path"] == "/healthz"
        for probe in probes.values():
            assert probe["httpGet"]["port"] in ports[name], (name, probe)


def test_the_worker_keeps_state_on_a_volume_and_its_pod_name_as_instance_id() -> None:
    worker = workload("StatefulSet", "alertpipe-worker")
    [claim] = worker["spec"]["volumeClaimTemplates"]
    [container] = worker["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e for e in container.get("env", [])}
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    assert mounts[claim["metadata"]["name"]] == env["ALERTPIPE_WORKER_DATA_DIR"]["value"]
    # Static membership and a fixed transactional id: stable per pod, unique among pods.
    instance = env["ALERTPIPE_WORKER_INSTANCE_ID"]["valueFrom"]["fieldRef"]
    assert instance["fieldPath"] == "metadata.name"
    config = by_kind("ConfigMap")[0]["data"]
    assert config.get("ALERTPIPE_PROCESSING_GUARANTEE", "exactly-once") == "exactly-once"
    assert config["ALERTPIPE_WORKER_METRICS_HOST"] == "0.0.0.0"
    assert int(config["ALERTPIPE_WORKER_METRICS_PORT"]) == container["ports"][0]["containerPort"]


def test_the_topics_job_creates_the_internal_topics_of_the_workers_group() -> None:
    """The Job and the workers read ALERTPIPE_WORKER_GROUP from the same ConfigMap (it names
    the internal topics the Job creates), and neither overrides it."""
    config = by_kind("ConfigMap")[0]["data"]
    assert config["ALERTPIPE_WORKER_GROUP"]
    job = workload("Job", "alertpipe-topics")
    worker = workload("StatefulSet", "alertpipe-worker")
    for template in (job["spec"]["template"], worker["spec"]["template"]):
        [container] = template["spec"]["containers"]
        assert {"configMapRef": {"name": "alertpipe-config"}} in container["envFrom"]
        assert "ALERTPIPE_WORKER_GROUP" not in {e["name"] for e in container.get("env", [])}


def test_autoscaler_and_budgets_target_real_workloads() -> None:
    [hpa] = by_kind("HorizontalPodAutoscaler")
    target = hpa["spec"]["scaleTargetRef"]
    assert workload(target["kind"], target["name"])
    assert hpa["spec"]["minReplicas"] >= 2  # one replica dropping must not stop intake
    assert {d["metadata"]["name"] for d in by_kind("PodDisruptionBudget")} == {
        "alertpipe-ingress",
        "alertpipe-worker",
    }


def test_every_container_has_requests_runs_as_non_root_and_loads_existing_config() -> None:
    configmaps = {d["metadata"]["name"] for d in by_kind("ConfigMap")}
    secrets = {d["metadata"]["name"] for d in by_kind("Secret")}
    for name, template in pod_templates():
        assert template["spec"]["securityContext"]["runAsNonRoot"] is True, name
    for name, container in containers():
        assert {"cpu", "memory"} <= container["resources"]["requests"].keys(), name
        assert container["securityContext"]["allowPrivilegeEscalation"] is False
        for source in container["envFrom"]:
            if "configMapRef" in source:
                assert source["configMapRef"]["name"] in configmaps
            else:
                assert source["secretRef"]["name"] in secrets


def test_settings_in_the_manifests_are_real_settings() -> None:
    names = set(by_kind("ConfigMap")[0]["data"])
    names |= {e["name"] for _, c in containers() for e in c.get("env", [])}
    names |= set(by_kind("Secret")[0].get("stringData") or {})
    assert names <= SETTING_NAMES, names - SETTING_NAMES


@pytest.mark.parametrize(("name", "container"), containers(), ids=[n for n, _ in containers()])
def test_container_arguments_are_alertpipe_commands(name: str, container: dict[str, Any]) -> None:
    assert "command" not in container  # the image's ENTRYPOINT is `alertpipe`
    parse_command_line(container["args"])


def test_every_file_here_is_yaml() -> None:
    assert {p.suffix for p in Path(K8S).iterdir()} == {".yaml"}
