"""deploy/kubernetes: the manifests against Kubernetes' schemas (kubernetes-validate,
strict), the rendered kustomization, and what the pods rely on: two replicas, probes on
the configured health port, non-root and read-only, every reference resolving."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.files import DEPLOY, REPO, read_dockerfile, read_env_file, stages, tool
from watcher.config.settings import Settings, load_settings
from watcher.rules.load import load_rules

HERE = DEPLOY / "kubernetes"
Manifest = dict[str, Any]


def kustomization() -> Manifest:
    return yaml.safe_load((HERE / "kustomization.yaml").read_text())


def raw_manifests() -> list[Manifest]:
    return [yaml.safe_load((HERE / name).read_text()) for name in kustomization()["resources"]]


def deployment() -> Manifest:
    return next(m for m in raw_manifests() if m["kind"] == "Deployment")


def pod() -> Manifest:
    return deployment()["spec"]["template"]["spec"]


def containers() -> list[Manifest]:
    return pod()["initContainers"] + pod()["containers"]


def main_container() -> Manifest:
    return next(c for c in pod()["containers"] if c["name"] == "watcher")


def settings() -> Settings:
    secrets = read_env_file(HERE / "secrets.env.example")
    return load_settings(str(HERE / "watcher.yaml"), {}, secrets)


def generated(kind: str) -> dict[str, list[str]]:
    """Generator name -> the files (or env files) it reads."""
    key = "configMapGenerator" if kind == "ConfigMap" else "secretGenerator"
    return {g["name"]: g.get("files", []) + g.get("envs", []) for g in kustomization()[key]}


def test_kustomization_files_exist_and_secrets_stay_out_of_git() -> None:
    for name in kustomization()["resources"]:
        assert (HERE / name).is_file(), name
    for files in generated("ConfigMap").values():
        assert all((HERE / name).is_file() for name in files), files
    assert generated("Secret") == {"watcher-secrets": ["secrets.env"]}
    assert "secrets.env" in (HERE / ".gitignore").read_text().split()


def test_rules_configmap_carries_every_rule_file() -> None:
    listed = sorted(generated("ConfigMap")["watcher-rules"])
    on_disk = sorted(f"rules/{p.name}" for p in (HERE / "rules").glob("*.yaml"))
    assert listed == on_disk


def test_rules_configmap_is_the_shipped_starter_set() -> None:
    """A copy, because kustomize reads nothing outside this directory: keep it in step
    (cp rules/*.yaml deploy/kubernetes/rules/)."""
    shipped = {p.name: p.read_text() for p in (REPO / "rules").glob("*.yaml")}
    copied = {p.name: p.read_text() for p in (HERE / "rules").glob("*.yaml")}
    assert copied == shipped


def _configmap_volume(files: list[Path], directory: Path) -> None:
    """The layout the kubelet writes for a ConfigMap volume: the files in a hidden
    timestamped directory, `..data` pointing at it, and a symlink per key."""
    data = directory / "..2026_01_01_00_00_00.000000001"
    data.mkdir(parents=True)
    for file in files:
        (data / file.name).write_bytes(file.read_bytes())
    (directory / "..data").symlink_to(data.name)
    for file in files:
        (directory / file.name).symlink_to(f"..data/{file.name}")


def test_copy_rules_init_container_gives_watcher_a_loadable_rule_set(tmp_path: Path) -> None:
    """The init container's own command, run on a simulated ConfigMap volume: the copy
    must hold each rule once (the volume itself would give watcher every rule twice)."""
    init = next(c for c in pod()["initContainers"] if c["name"] == "copy-rules")
    mounts = {m["name"]: m["mountPath"] for m in init["volumeMounts"]}
    source, target = tmp_path / "configmap", tmp_path / "rules"
    target.mkdir()
    _configmap_volume(sorted((HERE / "rules").glob("*.yaml")), source)
    script = init["command"][2].replace(mounts["rules-configmap"], str(source))
    subprocess.run(["sh", "-c", script.replace(mounts["rules"], str(target))], check=True)
    copied = load_rules(target, channels=settings().channel_names)
    assert len(copied.rules) == len(load_rules(HERE / "rules").rules)


def test_two_replicas_that_stop_gracefully() -> None:
    assert deployment()["spec"]["replicas"] == 2
    assert pod()["terminationGracePeriodSeconds"] >= 60


def test_probes_restart_on_livez_and_route_on_healthz_on_the_configured_port() -> None:
    """A database outage makes workers unready, not restarted (a restart cannot fix it)."""
    container = main_container()
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    http = settings().http
    assert http is not None and http.host == "0.0.0.0"
    paths = {"startupProbe": "/livez", "readinessProbe": "/healthz", "livenessProbe": "/livez"}
    for probe, path in paths.items():
        get = container[probe]["httpGet"]
        assert get["path"] == path, probe
        assert ports.get(get["port"], get["port"]) == http.port, probe


def test_metrics_service_reaches_the_health_port() -> None:
    service = next(m for m in raw_manifests() if m["kind"] == "Service")
    names = {p["name"] for p in main_container()["ports"]}
    assert service["spec"]["ports"][0]["targetPort"] in names
    assert service["spec"]["selector"] == deployment()["spec"]["selector"]["matchLabels"]


def test_pods_run_as_the_image_user_locked_down() -> None:
    security = pod()["securityContext"]
    user = next(s for s in stages(read_dockerfile(DEPLOY / "docker/Dockerfile"))[-1]
                if s.keyword == "USER")
    assert security["runAsNonRoot"] is True
    assert f"{security['runAsUser']}:{security['runAsGroup']}" == user.arguments
    for container in containers():
        context = container["securityContext"]
        assert context["allowPrivilegeEscalation"] is False, container["name"]
        assert context["readOnlyRootFilesystem"] is True, container["name"]
        assert context["capabilities"]["drop"] == ["ALL"], container["name"]


def test_every_container_has_requests_and_a_memory_limit() -> None:
    for container in containers():
        resources = container["resources"]
        assert {"cpu", "memory"} <= set(resources["requests"]), container["name"]
        assert "memory" in resources["limits"], container["name"]


def test_migrates_before_running_with_the_mounted_config() -> None:
    migrate = next(c for c in pod()["initContainers"] if c["name"] == "migrate")
    assert migrate["args"][2:] == ["db", "upgrade"]
    assert main_container()["args"][2:] == ["run"]
    for container in (migrate, main_container()):
        assert container["args"][0] == "--config"
        mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
        assert mounts[container["args"][1]]["subPath"] == "watcher.yaml"
        assert mounts[settings().rules]["readOnly"] is True


def test_every_reference_resolves() -> None:
    volumes = {v["name"]: v for v in pod()["volumes"]}
    for container in containers():
        for mount in container["volumeMounts"]:
            assert mount["name"] in volumes, (container["name"], mount["name"])
        for source in container.get("envFrom", []):
            assert source["secretRef"]["name"] in generated("Secret")
    for volume in volumes.values():
        if "configMap" in volume:
            assert volume["configMap"]["name"] in generated("ConfigMap")
    config_files = [Path(f).name for f in generated("ConfigMap")["watcher-config"]]
    assert config_files == ["watcher.yaml"]


def _validate(manifest: Manifest) -> None:
    validator = pytest.importorskip("kubernetes_validate", reason="pip install kubernetes-validate")
    validator.validate(manifest, validator.latest_version(), strict=True)


@pytest.mark.parametrize("name", kustomization()["resources"])
def test_manifest_matches_the_kubernetes_schema(name: str) -> None:
    """Strict: an unknown or misspelt field (`httpGt`, `readonlyRootFilesystem`) fails."""
    _validate(yaml.safe_load((HERE / name).read_text()))


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> list[Manifest]:
    """`kubectl kustomize` of a copy with the example secrets in place."""
    kubectl = tool("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed (it carries kustomize)")
    copy = tmp_path_factory.mktemp("kustomize") / "kubernetes"
    shutil.copytree(HERE, copy)
    shutil.copy(copy / "secrets.env.example", copy / "secrets.env")
    result = subprocess.run([kubectl, "kustomize", str(copy)], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    return list(yaml.safe_load_all(result.stdout))


def test_rendered_manifests_match_the_kubernetes_schema(rendered: list[Manifest]) -> None:
    assert {m["kind"] for m in rendered} == {
        "Namespace", "ConfigMap", "Secret", "Service", "Deployment"}
    for manifest in rendered:
        _validate(manifest)


def test_rendered_deployment_refers_to_the_generated_objects(rendered: list[Manifest]) -> None:
    """kustomize adds a content hash to generated names; the Deployment must follow."""
    names = {(m["kind"], m["metadata"]["name"]) for m in rendered}
    deployment = next(m for m in rendered if m["kind"] == "Deployment")
    spec = deployment["spec"]["template"]["spec"]
    for volume in spec["volumes"]:
        if "configMap" in volume:
            assert ("ConfigMap", volume["configMap"]["name"]) in names
    for container in spec["initContainers"] + spec["containers"]:
        assert container["image"] == "watcher:0.1.0"
        for source in container.get("envFrom", []):
            assert ("Secret", source["secretRef"]["name"]) in names
    namespaced = [m for m in rendered if m["kind"] != "Namespace"]
    assert {m["metadata"]["namespace"] for m in namespaced} == {"watcher"}
