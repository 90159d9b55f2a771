"""The Kubernetes manifests validate offline, and the validators catch the mistakes that matter."""

from __future__ import annotations

import copy
import importlib.metadata
import importlib.util
import re

import pytest

from .k8s_checks import (
    DEPLOY,
    REPO,
    crd_directory,
    crd_errors,
    find_kubectl,
    k8s_errors,
    kustomization_dirs,
    listed_files,
    load_documents,
    patch_files,
    pod_specs,
    read_kustomization,
    render,
    rule_violations,
)

pytest.importorskip(
    "kubernetes_validate", reason="kubernetes-validate is not installed: pip install -e '.[deploy]'"
)

MANIFESTS = sorted(
    p
    for p in DEPLOY.rglob("*.yaml")
    if p.name != "kustomization.yaml"
    and p not in {f for d in kustomization_dirs() for f in patch_files(d)}
)
KUBECTL = find_kubectl()
needs_kubectl = pytest.mark.skipif(
    KUBECTL is None, reason="kubectl (kustomize) not found: pip install -e '.[deploy]' (Linux only)"
)
needs_crds = pytest.mark.skipif(
    crd_directory() is None, reason="dask-kubernetes is not installed: pip install -e '.[deploy]'"
)


def _ids(paths):
    return [str(p.relative_to(DEPLOY)) for p in paths]


def fill_job() -> dict:
    return copy.deepcopy(load_documents(DEPLOY / "base" / "fill-daskjob.yaml")[0])


def worker_container(daskjob: dict) -> dict:
    return daskjob["spec"]["cluster"]["spec"]["worker"]["spec"]["containers"][0]


# ---- coverage of the kustomizations ---------------------------------------------------------------


def test_every_manifest_is_listed_by_a_kustomization():
    listed = {f for d in kustomization_dirs() for f in listed_files(d)}
    assert MANIFESTS, "no manifests found under deploy/"
    assert [str(p) for p in MANIFESTS if p not in listed] == []
    assert [str(p) for p in listed if not p.is_file()] == []


def test_the_pipeline_has_each_step_and_the_notebook_cluster():
    kinds = {(r["kind"], r["metadata"]["name"]) for p in MANIFESTS for r in load_documents(p)}
    assert {
        ("Job", "sgdsm-ingest"),
        ("Job", "sgdsm-train"),
        ("DaskJob", "sgdsm-fill"),
        ("Job", "sgdsm-publish"),
        ("CronJob", "sgdsm-update"),
        ("CronJob", "sgdsm-check"),
    } <= kinds
    assert {
        ("ConfigMap", "sgdsm-config"),
        ("DaskCluster", "sgdsm-notebook"),
        ("DaskWorkerGroup", "sgdsm-notebook-gpu"),
    } <= kinds


def test_every_resource_is_reachable_by_a_step_selector_of_the_readme():
    """deploy/README.md applies one step at a time with -l app.kubernetes.io/component=STEP."""
    readme_steps = set(
        re.findall(r"-l app\.kubernetes\.io/component=(\w+)", (DEPLOY / "README.md").read_text())
    )
    components = {
        r["metadata"].get("labels", {}).get("app.kubernetes.io/component")
        for p in MANIFESTS
        for r in load_documents(p)
    }
    assert (
        components
        == readme_steps
        == {"config", "ingest", "train", "fill", "publish", "update", "check", "notebook"}
    )


# ---- the two schema layers, file by file ----------------------------------------------------------


@pytest.mark.parametrize("path", MANIFESTS, ids=_ids(MANIFESTS))
def test_resources_and_pod_specs_validate_strictly(path):
    for resource in load_documents(path):
        assert k8s_errors(resource) == []


@needs_crds
@pytest.mark.parametrize("path", MANIFESTS, ids=_ids(MANIFESTS))
def test_custom_resources_validate_against_the_operator_crds(path):
    for resource in load_documents(path):
        if resource["apiVersion"].startswith("kubernetes.dask.org/"):
            assert crd_errors(resource) == []


def test_project_rules_hold_in_the_listed_files():
    for directory in kustomization_dirs():
        resources = [r for f in listed_files(directory) for r in load_documents(f)]
        if directory.name == "notebook":  # the notebook cluster reads the base's ConfigMap
            resources += load_documents(DEPLOY / "base" / "config.yaml")
        assert rule_violations(resources) == [], directory


# ---- rendered kustomizations (patches, images, namespace applied) ---------------------------------


@needs_kubectl
@needs_crds
@pytest.mark.parametrize("directory", kustomization_dirs(), ids=_ids(kustomization_dirs()))
def test_rendered_kustomization_validates(directory):
    resources = render(directory, KUBECTL)
    assert resources
    for resource in resources:
        assert k8s_errors(resource) == []
        if resource["apiVersion"].startswith("kubernetes.dask.org/"):
            assert crd_errors(resource) == []
    config = (
        []
        if any(r["kind"] == "ConfigMap" for r in resources)
        else load_documents(DEPLOY / "base" / "config.yaml")
    )
    assert rule_violations(resources + config) == []


@needs_kubectl
def test_overlays_replace_every_image_and_set_the_namespace():
    overlays = [d for d in kustomization_dirs() if "images" in read_kustomization(d)]
    assert overlays
    for directory in overlays:
        kustomization = read_kustomization(directory)
        expected = {f"{i['newName']}:{i['newTag']}" for i in kustomization["images"]}
        resources = render(directory, KUBECTL)
        containers = [
            c
            for r in resources
            for _, spec in pod_specs(r)
            for c in [*spec.get("initContainers", []), *spec["containers"]]
        ]
        images = {c["image"] for c in containers}
        assert images == expected, directory
        assert {r["metadata"].get("namespace") for r in resources} == {kustomization["namespace"]}


# ---- the validators catch the classic mistakes ----------------------------------------------------


@needs_crds
def test_unquoted_gpu_count_is_caught():
    job = fill_job()
    worker_container(job)["resources"]["limits"]["nvidia.com/gpu"] = 1
    assert any("nvidia.com/gpu" in e and "string" in e for e in crd_errors(job))
    assert any(
        "quoted" in p
        for p in rule_violations([job, *load_documents(DEPLOY / "base" / "config.yaml")])
    )


def test_resources_typo_is_caught():
    job = fill_job()
    container = worker_container(job)
    container["resoruces"] = container.pop("resources")
    assert any("resoruces" in e for e in k8s_errors(job))


def test_limit_typo_that_drops_the_gpu_silently_is_caught():
    job = fill_job()
    resources = worker_container(job)["resources"]
    resources["limit"] = resources.pop("limits")
    assert any("limit" in e for e in k8s_errors(job))


@needs_crds
def test_missing_scheduler_service_is_caught():
    job = fill_job()
    del job["spec"]["cluster"]["spec"]["scheduler"]["service"]
    assert any("'service' is a required property" in e for e in crd_errors(job))


@needs_crds
def test_string_replicas_are_caught():
    job = fill_job()
    job["spec"]["cluster"]["spec"]["worker"]["replicas"] = "4"
    assert any("replicas" in e for e in crd_errors(job))


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda j: worker_container(j)["args"].remove("--resources"), "--resources GPU=1"),
        (lambda j: worker_container(j)["args"].__setitem__(5, "4"), "--nthreads 1"),
        (
            lambda j: worker_container(j)["args"].__setitem__(1, "$(DASK_SCHEDULER_ADRESS)"),
            "DASK_SCHEDULER_ADRESS",
        ),
        (
            lambda j: j["spec"]["job"]["spec"]["containers"][0]["args"].__setitem__(
                2, "$(SGDSM_RAW_STOR)"
            ),
            "SGDSM_RAW_STOR",
        ),
        (lambda j: worker_container(j)["env"].clear(), "DASK_TEMPORARY_DIRECTORY"),
        (
            lambda j: j["spec"]["cluster"]["spec"]["scheduler"]["service"]["selector"].update(
                {"dask.org/cluster-name": "other"}
            ),
            "selects cluster",
        ),
        (
            lambda j: j["spec"]["job"]["spec"]["securityContext"].update(runAsUser=0),
            "non-zero runAsUser",
        ),
        (
            lambda j: j["spec"]["job"]["spec"]["initContainers"][0]["securityContext"].pop(
                "allowPrivilegeEscalation"
            ),
            "allowPrivilegeEscalation",
        ),
        (
            lambda j: (
                j.update(metadata={"name": "sgdsm-fill2"})
                or j["spec"]["cluster"]["spec"]["scheduler"]["service"]["selector"].update(
                    {"dask.org/cluster-name": "sgdsm-fill2"}
                )
            ),
            "waits for scheduler",
        ),
        (lambda j: worker_container(j)["envFrom"][1]["secretRef"].update(name="aws"), "sgdsm-s3"),
        (
            lambda j: worker_container(j)["env"].append(
                {"name": "AWS_SECRET_ACCESS_KEY", "value": "x"}
            ),
            "secretKeyRef",
        ),
    ],
    ids=[
        "gpu-not-advertised",
        "threads",
        "operator-var-typo",
        "config-var-typo",
        "no-scratch",
        "selector",
        "root",
        "init-escalation",
        "renamed-job",
        "secret-name",
        "literal-secret",
    ],
)
def test_project_rules_catch(mutate, expected):
    job = fill_job()
    config = load_documents(DEPLOY / "base" / "config.yaml")
    assert rule_violations([job, *config]) == []
    mutate(job)
    assert any(expected in p for p in rule_violations([job, *config]))


# ---- the manifests match the CLI and the docs ----------------------------------------------------


def _sgdsm_invocations():
    """``(where, args)`` of every container that runs the image's ``sgdsm`` entrypoint."""
    for path in MANIFESTS:
        for resource in load_documents(path):
            for where, spec in pod_specs(resource):
                for container in spec["containers"]:
                    if "command" not in container:
                        yield where, container["args"]


def test_sgdsm_arguments_parse_with_the_cli():
    from sgdsm_cloud import cli

    parser = cli.build_parser()
    checked = 0
    for where, args in _sgdsm_invocations():
        assert args[0] in cli.SUBCOMMANDS, f"{where}: sgdsm has no command {args[0]!r}"
        concrete = [re.sub(r"\$\((\w+)\)", lambda m: _sample_value(m.group(1)), a) for a in args]
        try:
            parser.parse_args(concrete)
        except SystemExit as exc:
            pytest.fail(f"{where}: `sgdsm {' '.join(args)}` does not parse (exit {exc.code})")
        checked += 1
    if checked == 0:
        pytest.skip("none of ingest/train/fill/publish is registered in sgdsm_cloud.cli yet")


def _sample_value(var: str) -> str:
    config = load_documents(DEPLOY / "base" / "config.yaml")[0]["data"]
    return config.get(var, "tcp://scheduler:8786" if var == "DASK_SCHEDULER_ADDRESS" else "x")


@needs_crds
def test_readme_installs_the_operator_whose_crds_are_checked():
    version = importlib.metadata.version("dask-kubernetes")
    assert f"--version {version}" in (DEPLOY / "README.md").read_text()


def test_readme_paths_exist():
    text = (DEPLOY / "README.md").read_text()
    paths = set(re.findall(r"(deploy/[\w./-]+)", text))
    assert paths
    assert sorted(p for p in paths if not (REPO / p.rstrip(".")).exists()) == []
