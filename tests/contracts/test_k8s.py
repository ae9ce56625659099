"""The Kubernetes manifests under deploy/k8s keep the platform's deployment invariants.

Each service: a Deployment and a Service on its port (8101-8104), probes on /readyz and
/healthz, requests and limits, non-root, a `migrate` init container with the same image, the
configuration from the sop-config ConfigMap and the secrets from sop-secrets. Parsed with PyYAML
only (no cluster); `kubectl kustomize` is run too when kubectl is on the machine.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from sop_shared.devstack import SERVICES

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
CONFIG = "sop-config"
SECRET = "sop-secrets"
TOPICS = "sop-kafka-topics"

Doc = dict[str, Any]


def _docs(path: Path) -> list[Doc]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d is not None]


@pytest.fixture(scope="module")
def kustomization() -> Doc:
    return yaml.safe_load((K8S / "kustomization.yaml").read_text())


@pytest.fixture(scope="module")
def docs(kustomization: Doc) -> list[Doc]:
    """Every object kustomize would apply (the files listed under `resources`)."""
    return [d for name in kustomization["resources"] for d in _docs(K8S / name)]


def _one(docs: list[Doc], kind: str, name: str) -> Doc:
    found = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind} {name}, found {len(found)}"
    return found[0]


def _pod(deployment: Doc) -> Doc:
    return deployment["spec"]["template"]["spec"]


def _containers(pod: Doc) -> Iterator[Doc]:
    yield from pod.get("initContainers", [])
    yield from pod["containers"]


def _main(deployment: Doc, svc: str) -> Doc:
    (container,) = [c for c in _pod(deployment)["containers"] if c["name"] == svc]
    return container


def _env(container: Doc) -> dict[str, Doc]:
    return {e["name"]: e for e in container.get("env", [])}


def _config_maps(container: Doc) -> set[str]:
    return {e["configMapRef"]["name"] for e in container.get("envFrom", []) if "configMapRef" in e}


def _secret_ref(container: Doc, name: str) -> tuple[str, str] | None:
    ref = _env(container).get(name, {}).get("valueFrom", {}).get("secretKeyRef")
    return (ref["name"], ref["key"]) if ref else None


_UNITS = {"": 1, "m": 1e-3, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "K": 1e3, "M": 1e6, "G": 1e9}


def _quantity(value: str | int | float) -> float:
    match = re.fullmatch(r"([0-9.]+)([A-Za-z]*)", str(value))
    assert match, f"not a Kubernetes quantity: {value!r}"
    assert match[2] in _UNITS, f"unknown unit in {value!r}"
    return float(match[1]) * _UNITS[match[2]]


def _image_name(image: str) -> str:
    """`registry:5000/team/sop-demand:1.2.3` -> `sop-demand`."""
    return image.rsplit("/", 1)[-1].split("@")[0].split(":")[0]


def test_services_listen_on_8101_to_8104() -> None:
    assert SERVICES == {"demand": 8101, "supply": 8102, "capacity": 8103, "cycle": 8104}


def test_every_manifest_parses_and_kustomization_lists_them(kustomization: Doc) -> None:
    assert kustomization["kind"] == "Kustomization"
    files = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    examples = {f for f in files if f.endswith(".example.yaml")}
    assert set(kustomization["resources"]) == files - examples, (
        "list every manifest in kustomization.yaml (only *.example.yaml stay out)"
    )
    for name in files:
        for doc in _docs(K8S / name):
            assert {"apiVersion", "kind", "metadata"} <= doc.keys(), name
            assert doc["metadata"].get("name"), name


@pytest.mark.parametrize(("svc", "port"), SERVICES.items())
def test_deployment_and_service(docs: list[Doc], svc: str, port: int) -> None:
    deployment = _one(docs, "Deployment", svc)
    pod = _pod(deployment)
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()

    main = _main(deployment, svc)
    assert _image_name(main["image"]) == f"sop-{svc}"
    (http,) = [p for p in main["ports"] if p["name"] == "http"]
    assert http["containerPort"] == port

    service = _one(docs, "Service", svc)
    assert service["spec"]["selector"].items() <= labels.items()
    (service_port,) = service["spec"]["ports"]
    assert service_port["port"] == port
    assert service_port["targetPort"] in ("http", port)
    assert pod.get("hostNetwork") is not True


@pytest.mark.parametrize(("svc", "port"), SERVICES.items())
def test_probes(docs: list[Doc], svc: str, port: int) -> None:
    main = _main(_one(docs, "Deployment", svc), svc)
    for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")):
        get = main[probe]["httpGet"]
        assert get["path"] == path, f"{svc} {probe}"
        assert get["port"] in ("http", port), f"{svc} {probe}"
    if "startupProbe" in main:
        assert main["startupProbe"]["httpGet"]["path"] == "/healthz"


@pytest.mark.parametrize("svc", SERVICES)
def test_resources_and_non_root(docs: list[Doc], svc: str) -> None:
    pod = _pod(_one(docs, "Deployment", svc))
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"].get("runAsUser", 10001) != 0
    for container in _containers(pod):
        name = f"{svc}/{container['name']}"
        security = container.get("securityContext", {})
        assert security.get("runAsNonRoot", True) is True, name
        assert security.get("runAsUser", 1) != 0, name
        assert security.get("privileged", False) is False, name
        assert security.get("allowPrivilegeEscalation") is False, name
        resources = container["resources"]
        for kind in ("cpu", "memory"):
            request = _quantity(resources["requests"][kind])
            limit = _quantity(resources["limits"][kind])
            assert 0 < request <= limit, f"{name} {kind}"


@pytest.mark.parametrize("svc", SERVICES)
def test_migrate_init_container(docs: list[Doc], svc: str) -> None:
    deployment = _one(docs, "Deployment", svc)
    main = _main(deployment, svc)
    migrate = [
        c for c in _pod(deployment).get("initContainers", []) if c.get("args") == ["migrate"]
    ]
    assert len(migrate) == 1, f"{svc}: one init container with args ['migrate']"
    (init,) = migrate
    assert init["image"] == main["image"]
    assert "command" not in init, "keep the image's entrypoint (deploy/entrypoint.sh migrate)"
    assert "migrate)" in (ROOT / "deploy" / "entrypoint.sh").read_text()
    # migrations read the service settings: production refuses to start without the secret
    assert CONFIG in _config_maps(init)
    up = svc.upper()
    assert _secret_ref(init, f"SOP_{up}_DATABASE_URL") == (SECRET, f"SOP_{up}_DATABASE_URL")
    assert _secret_ref(init, "SOP_AUTH_JWT_SECRET") == (SECRET, "SOP_AUTH_JWT_SECRET")
    # the API does not migrate again at start-up
    assert _env(main)[f"SOP_{up}_MIGRATE_ON_START"]["value"] == "false"


@pytest.mark.parametrize(("svc", "port"), SERVICES.items())
def test_env_wiring(docs: list[Doc], svc: str, port: int) -> None:
    main = _main(_one(docs, "Deployment", svc), svc)
    up = svc.upper()
    assert CONFIG in _config_maps(main)
    env = _env(main)
    assert env[f"SOP_{up}_PORT"]["value"] == str(port)
    assert env["PORT"]["value"] == str(port)  # the image's HEALTHCHECK reads it
    assert env[f"SOP_{up}_HOST"]["value"] == "0.0.0.0"
    assert _secret_ref(main, "SOP_AUTH_JWT_SECRET") == (SECRET, "SOP_AUTH_JWT_SECRET")
    assert _secret_ref(main, f"SOP_{up}_DATABASE_URL") == (SECRET, f"SOP_{up}_DATABASE_URL")
    # a service gets its own database URL only (ARCHITECTURE.md: no service reads another's tables)
    others = {f"SOP_{o.upper()}_DATABASE_URL" for o in SERVICES if o != svc}
    for container in _containers(_pod(_one(docs, "Deployment", svc))):
        assert not others & _env(container).keys(), f"{svc}/{container['name']}"


def test_config_map(docs: list[Doc]) -> None:
    data = _one(docs, "ConfigMap", CONFIG)["data"]
    assert data["SOP_ENV"] == "production"
    assert data["SOP_KAFKA_BOOTSTRAP_SERVERS"]
    for svc, port in SERVICES.items():
        assert data[f"SOP_{svc.upper()}_URL"] == f"http://{svc}:{port}"
        _one(docs, "Service", svc)  # the URL names a Service of these manifests
    assert all(isinstance(v, str) for v in data.values()), "ConfigMap values must be strings"
    leaked = [k for k in data if re.search(r"SECRET|PASSWORD|DATABASE_URL|TOKEN", k)]
    assert not leaked, f"secrets belong in {SECRET}, not the ConfigMap: {leaked}"


def test_referenced_config_maps_and_secret_keys_exist(docs: list[Doc]) -> None:
    config_maps = {d["metadata"]["name"] for d in docs if d["kind"] == "ConfigMap"}
    (example,) = _docs(K8S / "secret.example.yaml")
    assert example["kind"] == "Secret"
    assert example["metadata"]["name"] == SECRET
    secret_keys = set(example["stringData"])
    assert len(example["stringData"]["SOP_AUTH_JWT_SECRET"]) < 32, (
        "keep the placeholder too short for production, so it can never be deployed by mistake"
    )
    assert not any(d["kind"] == "Secret" for d in docs), "kustomize must not overwrite the secret"
    pods = [_pod(d) for d in docs if d["kind"] == "Deployment"]
    pods += [d["spec"]["template"]["spec"] for d in docs if d["kind"] == "Job"]
    for pod in pods:
        for volume in pod.get("volumes", []):
            if "configMap" in volume:
                assert volume["configMap"]["name"] in config_maps
        for container in _containers(pod):
            assert _config_maps(container) <= config_maps
            for entry in container.get("env", []):
                source = entry.get("valueFrom", {})
                if "configMapKeyRef" in source:
                    ref = source["configMapKeyRef"]
                    assert ref["key"] in _one(docs, "ConfigMap", ref["name"])["data"]
                if "secretKeyRef" in source:
                    assert source["secretKeyRef"]["name"] == SECRET
                    assert source["secretKeyRef"]["key"] in secret_keys


def test_same_settings_as_docker_compose(docs: list[Doc]) -> None:
    """Every variable docker-compose.yml gives a service is given on Kubernetes too."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    config = set(_one(docs, "ConfigMap", CONFIG)["data"])
    not_needed = {"OTEL_SDK_DISABLED"}  # no exporter is configured by default either way
    for svc in SERVICES:
        expected = set(compose[svc]["environment"]) - not_needed
        given = config | _env(_main(_one(docs, "Deployment", svc), svc)).keys()
        assert expected <= given, f"{svc}: missing {sorted(expected - given)}"


def test_kafka_topics(docs: list[Doc]) -> None:
    listed = (ROOT / "deploy" / "kafka" / "topics.txt").read_text()
    assert _one(docs, "ConfigMap", TOPICS)["data"]["topics.txt"] == listed, (
        "deploy/k8s/kafka-topics.yaml must carry deploy/kafka/topics.txt verbatim"
    )
    topics = {line.split()[0] for line in listed.splitlines() if line and not line.startswith("#")}
    assert {f"sop.{svc}.v1" for svc in SERVICES} <= topics
    job = _pod(_one(docs, "Job", TOPICS))
    assert job["securityContext"]["runAsNonRoot"] is True
    assert any(v.get("configMap", {}).get("name") == TOPICS for v in job["volumes"])
    (create,) = job["containers"]
    assert "kafka-topics.sh" in create["args"][0]
    assert "--if-not-exists" in create["args"][0]
    # the services wait for the topics: one they found missing they would create with RF 1
    for svc in SERVICES:
        pod = _pod(_one(docs, "Deployment", svc))
        (wait,) = [c for c in pod["initContainers"] if c["name"] == "wait-for-topics"]
        compile(wait["args"][0], f"{svc}/wait-for-topics", "exec")
        assert "/etc/sop/kafka/topics.txt" in wait["args"][0]


def test_kubectl_kustomize_renders() -> None:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed: the manifests were checked with PyYAML only")
    result = subprocess.run(
        [kubectl, "kustomize", str(K8S)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    rendered = [d for d in yaml.safe_load_all(result.stdout) if d]
    deployments = [d for d in rendered if d["kind"] == "Deployment"]
    assert {d["metadata"]["name"] for d in deployments} == set(SERVICES)
    assert {d["metadata"].get("namespace") for d in rendered if d["kind"] != "Namespace"} == {"sop"}
