"""Offline checks of the Kubernetes manifests under deploy/.

Two schema layers (docs: cloud.md section 5) plus the rules no schema knows:

1. ``kubernetes-validate --strict`` on every built-in resource and on every pod spec inside a
   custom resource, wrapped as a ``v1 Pod`` (custom resources themselves only warn there).
2. JSON Schema Draft 4 against the ``openAPIV3Schema`` of the dask-kubernetes CRDs shipped in
   the installed ``dask_kubernetes`` package (read as files; the package is never imported).
3. :func:`rule_violations`: GPU workers advertise ``GPU=1`` with one thread, GPU counts are
   quoted, the scheduler Service selects its own cluster, pods run as non-root, ``$(VAR)``
   references resolve.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from functools import cache
from itertools import pairwise
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
K8S_VERSION = "1.31"  # the oldest minor version deploy/README.md supports
DASK_API = "kubernetes.dask.org/v1"
GPU = "nvidia.com/gpu"
OPERATOR_ENV = {"DASK_SCHEDULER_ADDRESS", "DASK_WORKER_NAME"}  # injected by the dask operator
SECRET_NAME = "sgdsm-s3"  # created by the user, never in the manifests
TOKEN_SECRET = "sgdsm-earthdata"  # the Earthdata token of an update (optional), the same
_VAR_REF = re.compile(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)")
_FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


# ---- reading kustomizations ---------------------------------------------------------------------


def kustomization_dirs() -> list[Path]:
    return sorted(p.parent for p in DEPLOY.rglob("kustomization.yaml"))


def read_kustomization(directory: Path) -> dict[str, Any]:
    return yaml.safe_load((directory / "kustomization.yaml").read_text())


def listed_files(directory: Path) -> list[Path]:
    """Every manifest file a kustomization pulls in, following ``resources`` into directories."""
    files: list[Path] = []
    for entry in read_kustomization(directory).get("resources", []):
        path = (directory / entry).resolve()
        files += listed_files(path) if path.is_dir() else [path]
    return files


def patch_files(directory: Path) -> list[Path]:
    return [
        (directory / p["path"]).resolve()
        for p in read_kustomization(directory).get("patches", [])
        if "path" in p
    ]


def load_documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def find_kubectl() -> str | None:
    """kubectl (with its built-in kustomize) from the environment's bin directory or PATH."""
    return shutil.which(
        "kubectl",
        path=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
    )


def render(directory: Path, kubectl: str) -> list[dict[str, Any]]:
    result = subprocess.run(
        [kubectl, "kustomize", str(directory)],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    if result.returncode != 0:
        raise AssertionError(f"kubectl kustomize {directory} failed: {result.stderr}")
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


# ---- pod specs inside resources -----------------------------------------------------------------


def pod_specs(resource: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(where, pod spec)`` for every pod a resource will create, built-in or dask."""
    kind, spec = resource["kind"], resource.get("spec", {})
    name = resource["metadata"]["name"]
    if kind == "Job":
        yield f"Job/{name}", spec["template"]["spec"]
    elif kind == "CronJob":
        yield f"CronJob/{name}", spec["jobTemplate"]["spec"]["template"]["spec"]
    elif kind == "DaskJob":
        yield f"DaskJob/{name}.job", spec["job"]["spec"]
        yield from _cluster_pod_specs(f"DaskJob/{name}.cluster", spec["cluster"]["spec"])
    elif kind == "DaskCluster":
        yield from _cluster_pod_specs(f"DaskCluster/{name}", spec)
    elif kind == "DaskWorkerGroup":
        yield f"DaskWorkerGroup/{name}.worker", spec["worker"]["spec"]


def _cluster_pod_specs(
    where: str, cluster_spec: dict[str, Any]
) -> Iterator[tuple[str, dict[str, Any]]]:
    yield f"{where}.scheduler", cluster_spec["scheduler"]["spec"]
    yield f"{where}.worker", cluster_spec["worker"]["spec"]


def as_pod(where: str, spec: dict[str, Any]) -> dict[str, Any]:
    name = re.sub(r"[^a-z0-9-]+", "-", where.lower()).strip("-")
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec}


# ---- layer 1: Kubernetes schemas ----------------------------------------------------------------


def k8s_errors(resource: dict[str, Any], version: str = K8S_VERSION) -> list[str]:
    """Strict Kubernetes schema errors of a built-in resource or of the pods of a custom one."""
    import kubernetes_validate

    targets = [(f"{resource['kind']}/{resource['metadata']['name']}", resource)]
    if resource["apiVersion"] == DASK_API:
        targets = [(where, as_pod(where, spec)) for where, spec in pod_specs(resource)]
    errors = []
    for where, target in targets:
        try:
            kubernetes_validate.validate(target, version, strict=True)
        except kubernetes_validate.ValidationError as err:
            path = ".".join(str(p) for p in err.path)
            errors.append(f"{where}: {path}: {err.message}")
    return errors


# ---- layer 2: dask-kubernetes CRD schemas -------------------------------------------------------


def crd_directory() -> Path | None:
    spec = importlib.util.find_spec("dask_kubernetes")
    if spec is None or not spec.submodule_search_locations:
        return None
    return (
        Path(spec.submodule_search_locations[0])
        / "operator/deployment/helm/dask-kubernetes-operator/crds"
    )


@cache
def crd_schemas() -> dict[str, dict[str, Any]]:
    """``kind -> openAPIV3Schema`` of the served version of each dask CRD."""
    directory = crd_directory()
    assert directory is not None and directory.is_dir(), "dask-kubernetes CRDs not found"
    schemas = {}
    for path in sorted(directory.glob("*.yaml")):
        crd = yaml.load(
            path.read_text(), Loader=_FAST_LOADER
        )  # 900 kB of YAML: libyaml when present
        version = next(v for v in crd["spec"]["versions"] if v.get("served", True))
        schemas[crd["spec"]["names"]["kind"]] = version["schema"]["openAPIV3Schema"]
    return schemas


def crd_errors(resource: dict[str, Any]) -> list[str]:
    import jsonschema

    schema = crd_schemas().get(resource["kind"])
    if schema is None:
        return [f"{resource['kind']}: no CRD of that kind in dask-kubernetes"]
    validator = jsonschema.Draft4Validator(schema)
    return [
        f"{resource['kind']}/{resource['metadata']['name']}: {'.'.join(str(p) for p in e.absolute_path)}: {e.message}"
        for e in validator.iter_errors(resource)
    ]


# ---- layer 3: rules no schema knows -------------------------------------------------------------


def rule_violations(resources: list[dict[str, Any]]) -> list[str]:
    config_maps = {
        r["metadata"]["name"]: r.get("data", {}) for r in resources if r["kind"] == "ConfigMap"
    }
    problems = [
        f"{r['kind']}/{r['metadata']['name']}: Secrets must not be in the manifests"
        for r in resources
        if r["kind"] == "Secret"
    ]
    for resource in resources:
        problems += _scheduler_service_problems(resource)
        for where, spec in pod_specs(resource):
            problems += _pod_problems(where, spec, config_maps)
    return problems


def _scheduler_service_problems(resource: dict[str, Any]) -> list[str]:
    if resource["kind"] not in ("DaskJob", "DaskCluster"):
        return []
    cluster = (
        resource["spec"]["cluster"]["spec"] if resource["kind"] == "DaskJob" else resource["spec"]
    )
    scheduler = cluster["scheduler"]
    where = f"{resource['kind']}/{resource['metadata']['name']}"
    selector = scheduler.get("service", {}).get("selector", {})
    problems = []
    if selector.get("dask.org/cluster-name") != resource["metadata"]["name"]:
        problems.append(
            f"{where}: scheduler service selects cluster {selector.get('dask.org/cluster-name')!r}, not its own"
        )
    if selector.get("dask.org/component") != "scheduler":
        problems.append(f"{where}: scheduler service must select dask.org/component=scheduler")
    if resource["kind"] == "DaskJob":  # an init container may wait for the scheduler by host name
        inits = resource["spec"]["job"]["spec"].get("initContainers", [])
        init_text = " ".join(
            str(t) for c in inits for t in [*c.get("command", []), *c.get("args", [])]
        )
        for host in set(re.findall(r"[\"']([a-z0-9-]+)-scheduler[\"']", init_text)) - {
            resource["metadata"]["name"]
        }:
            problems.append(
                f"{where}: the runner waits for scheduler {host}-scheduler, not its own"
            )
    port_names = {
        p.get("name") for c in scheduler["spec"]["containers"] for p in c.get("ports", [])
    }
    for port in scheduler.get("service", {}).get("ports", []):
        if isinstance(port.get("targetPort"), str) and port["targetPort"] not in port_names:
            problems.append(
                f"{where}: service targetPort {port['targetPort']!r} is no scheduler container port"
            )
    return problems


def _pod_problems(
    where: str, spec: dict[str, Any], config_maps: dict[str, dict[str, str]]
) -> list[str]:
    problems = []
    pod_security = spec.get("securityContext", {})
    if pod_security.get("runAsNonRoot") is not True or pod_security.get("runAsUser", 0) == 0:
        problems.append(
            f"{where}: pod securityContext must set runAsNonRoot: true and a non-zero runAsUser"
        )
    mounts_of_empty_dirs = {v["name"] for v in spec.get("volumes", []) if "emptyDir" in v}
    for container in [*spec.get("initContainers", []), *spec.get("containers", [])]:
        here = f"{where}/{container['name']}"
        security = container.get("securityContext", {})
        if security.get("allowPrivilegeEscalation") is not False:
            problems.append(f"{here}: allowPrivilegeEscalation must be false")
        problems += _gpu_problems(here, container)
        problems += _env_problems(here, container, config_maps)
        env = {e["name"]: e.get("value") for e in container.get("env", [])}
        if "DASK_TEMPORARY_DIRECTORY" in env:
            mounted = {
                m["mountPath"]
                for m in container.get("volumeMounts", [])
                if m["name"] in mounts_of_empty_dirs
            }
            if env["DASK_TEMPORARY_DIRECTORY"] not in mounted:
                problems.append(f"{here}: DASK_TEMPORARY_DIRECTORY is not an emptyDir mount")
        if _is_dask_worker(container) and "DASK_TEMPORARY_DIRECTORY" not in env:
            problems.append(
                f"{here}: dask workers need DASK_TEMPORARY_DIRECTORY on an emptyDir (spill, P2P)"
            )
    return problems


def _is_dask_worker(container: dict[str, Any]) -> bool:
    return [*container.get("command", []), *container.get("args", [])][:2] == ["dask", "worker"]


def _gpu_problems(here: str, container: dict[str, Any]) -> list[str]:
    resources = container.get("resources", {})
    limit = resources.get("limits", {}).get(GPU)
    problems = []
    if GPU in resources.get("requests", {}) and resources["requests"][GPU] != limit:
        problems.append(f"{here}: {GPU} requests must equal its limits")
    if limit is not None and not isinstance(limit, str):
        problems.append(f'{here}: {GPU} limit must be a quoted string such as "1", got {limit!r}')
    if not _is_dask_worker(container):
        return problems
    args = container.get("args", [])
    advertises_gpu = any(a == "--resources" and "GPU=" in b for a, b in pairwise(args))
    if (limit is not None) != advertises_gpu:
        problems.append(
            f"{here}: a worker with a {GPU} limit must run with --resources GPU=1 and vice versa"
        )
    if advertises_gpu and not any(a == "--nthreads" and b == "1" for a, b in pairwise(args)):
        problems.append(f"{here}: GPU workers run one task at a time: --nthreads 1")
    return problems


def _env_problems(
    here: str, container: dict[str, Any], config_maps: dict[str, dict[str, str]]
) -> list[str]:
    known = set(OPERATOR_ENV) | {e["name"] for e in container.get("env", [])}
    problems = []
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            name = source["configMapRef"]["name"]
            if name not in config_maps:
                problems.append(f"{here}: envFrom ConfigMap {name!r} is not in the manifests")
            known |= set(config_maps.get(name, {}))
        optional_token = source.get("secretRef", {}) == {"name": TOKEN_SECRET, "optional": True}
        if (
            "secretRef" in source
            and source["secretRef"]["name"] != SECRET_NAME
            and not optional_token
        ):
            problems.append(
                f"{here}: the S3 Secret is called {SECRET_NAME!r}, not {source['secretRef']['name']!r}"
            )
    for env in container.get("env", []):
        if re.search(r"(SECRET|TOKEN|PASSWORD|ACCESS_KEY)", env["name"]) and "value" in env:
            problems.append(f"{here}: {env['name']} has a literal value; use a secretKeyRef")
    for text in [*container.get("command", []), *container.get("args", [])]:
        for var in _VAR_REF.findall(str(text)):
            if var not in known:
                problems.append(f"{here}: $({var}) is not defined in the container's environment")
    return problems
