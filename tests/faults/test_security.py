"""No one gets in: pickles never load, keys never escape their store, credentials never leak.

Covered elsewhere and not repeated here: the container image runs as a numeric non-root user
(tests/deploy/test_dockerfile.py::test_runs_as_a_numeric_non_root_user_with_the_sgdsm_entrypoint);
anonymous readers of a public bucket open the cube without credentials and cannot overwrite it
(tests/publish/test_public_read.py, tests/fill/test_executor.py::
test_public_bucket_reads_anonymously_with_cf_metadata).
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import logging.handlers
import pickle
import posixpath
import zipfile
from pathlib import Path

import pytest
from data.badfiles import name
from hypothesis import given
from hypothesis import strategies as st
from ingest.helpers import config, write_days

from sgdsm_cloud.cli import main
from sgdsm_cloud.errors import CheckpointError
from sgdsm_cloud.ingest import ingest
from sgdsm_cloud.model.checkpoint import CONFIG_FILE, WEIGHTS_FILE, load_checkpoint
from sgdsm_cloud.model.resume import RESUME_DIR, STATE_FILE, load_state
from sgdsm_cloud.storage import Location, UnsafeKeyError, safe_join, unsafe_key_reason
from sgdsm_cloud.versioned.repository import Repository

from .conftest import sgdsm, upload, upload_store

CANARY_ENV = "canary-env-5f1c9e"  # AWS_SECRET_ACCESS_KEY of the processes
CANARY_OPTION = "canary-opt-7a2d4b"  # "secret" in --storage-options


class _Bomb:
    """Unpickling this creates ``marker``: proof that code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def bomb(marker: Path, protocol: int) -> bytes:
    return pickle.dumps(_Bomb(marker), protocol=protocol)


def torch_zip(payload: bytes) -> bytes:
    """The layout of ``torch.save``: a zip archive holding ``archive/data.pkl``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("archive/data.pkl", payload)
    return buffer.getvalue()


def test_the_bomb_runs_code_when_unpickled(tmp_path):
    marker = tmp_path / "ran"
    pickle.loads(bomb(marker, 2))
    assert marker.exists()  # so its absence below means nothing unpickled it


@pytest.mark.parametrize(
    "planted", ["model.pt only", "pickle as safetensors", "protocol 0", "torch zip"]
)
def test_pickled_weights_are_refused_and_never_unpickled(tmp_path, model_dir, planted):
    marker = tmp_path / "ran"
    target = tmp_path / "model"
    target.mkdir()
    if planted == "model.pt only":
        (target / "model.pt").write_bytes(bomb(marker, 4))
        expected = "holds pickled weights"
    else:
        payload = {
            "pickle as safetensors": bomb(marker, 4),
            "protocol 0": bomb(marker, 0),  # text protocol: no \x80 magic byte
            "torch zip": torch_zip(bomb(marker, 2)),
        }[planted]
        document = json.loads((model_dir / CONFIG_FILE).read_text())
        document["weights"]["sha256"] = hashlib.sha256(payload).hexdigest()  # a consistent forgery
        (target / CONFIG_FILE).write_text(json.dumps(document))
        (target / WEIGHTS_FILE).write_bytes(payload)
        expected = "pickled file" if planted != "protocol 0" else "not a valid safetensors file"
    with pytest.raises(CheckpointError, match=expected):
        load_checkpoint(target)
    assert not marker.exists()


def test_sgdsm_fill_refuses_a_pickled_model_without_running_it(
    tmp_path, raw_store, cluster, capsys
):
    marker = tmp_path / "ran"
    model = tmp_path / "model"
    model.mkdir()
    (model / "model.pth").write_bytes(bomb(marker, 4))
    argv = ["-q", "fill", "--store", str(raw_store), "--model", str(model)]
    argv += ["--out", str(tmp_path / "out.zarr"), "--scheduler", cluster.scheduler_address]
    assert main(argv) == 1
    assert "pickles are never loaded" in capsys.readouterr().err
    assert not marker.exists()


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("../escape.json", "'..' path segment"),
        ("done/../../escape.json", "'..' path segment"),
        ("%2e%2e/escape.json", "'..' path segment"),
        ("/etc/passwd", "absolute path"),
        ("~/x", "absolute path"),
        ("s3://other-bucket/x", "URL scheme"),
        ("C:x", "drive letter"),
        ("a\\..\\b", "backslash"),
        ("a\x00.json", "control character"),
        ("a//b", "'//' path segment"),
        ("", "empty key"),
    ],
)
def test_keys_that_escape_their_base_are_refused(key, reason):
    assert reason in unsafe_key_reason(key)
    with pytest.raises(UnsafeKeyError, match="refusing key"):
        safe_join("s3://bucket/seamless/runs/fill-1/done", key)
    with pytest.raises(UnsafeKeyError):
        Location("s3://bucket/models/m").child(key)


@given(st.lists(st.text(st.characters(codec="utf-8"), min_size=1), min_size=1, max_size=4))
def test_an_accepted_key_always_stays_under_its_base(segments):
    key = "/".join(segments)
    base = "/data/store"
    if unsafe_key_reason(key) is None:
        joined = safe_join(base, key)
        assert posixpath.normpath(joined).startswith(base + "/")
        assert joined == f"{base}/{key}"


def test_a_crafted_resume_state_cannot_point_outside_the_model_dir(tmp_path):
    victim = tmp_path / "victim.safetensors"
    victim.write_bytes(b"not yours")
    folder = tmp_path / "models" / "m" / RESUME_DIR
    folder.mkdir(parents=True)
    state = {
        "epochs_done": 1,
        "finished": False,
        "file": "../../../victim.safetensors",
        "sha256": hashlib.sha256(b"not yours").hexdigest(),
        "history": [],
        "model": {},
        "train": {},
        "optimizer_param_groups": [],
    }
    (folder / STATE_FILE).write_text(json.dumps(state))
    with pytest.raises(UnsafeKeyError, match="victim"):
        load_state(Location(str(tmp_path / "models" / "m")))
    assert victim.read_bytes() == b"not yours"


def test_a_crafted_tile_id_cannot_write_outside_the_output(tmp_path):
    run = Repository(Location(str(tmp_path / "run" / "filled"))).run("fill-1")
    with pytest.raises(UnsafeKeyError):
        run.mark_done("../../../escaped", {"kind": "filled"})
    assert not (tmp_path / "escaped.json").exists()


def test_reprs_of_locations_and_task_arguments_mask_secrets():
    """dask and logging print reprs of task arguments; options there must show as ***."""
    from sgdsm_cloud.fill.block import FillJob

    secret = {"key": "AKID", "secret": CANARY_OPTION, "client_kwargs": {"token": CANARY_ENV}}
    where = Location("s3://bucket/cube.zarr", secret)
    run = Repository(Location("s3://bucket/seamless", secret)).run("fill-1")
    shown = repr(FillJob(where, run, (), 32, base=where))
    assert CANARY_OPTION not in shown and CANARY_ENV not in shown
    assert "'secret': '***'" in shown and "s3://bucket/cube.zarr" in shown


def all_text_under(fs, root: str) -> dict[str, str]:
    """Every metadata-like object (JSON, zarr.json) under ``root`` of ``fs``, decoded."""
    return {
        path: fs.cat_file(path).decode("utf-8", "replace")
        for path in fs.find(root)
        if path.endswith(".json")
    }


def start_capture(dask_worker) -> None:
    """On a worker: record every log line (DEBUG and up) of every logger."""
    handler = logging.handlers.BufferingHandler(capacity=10**7)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    loggers = [logging.getLogger(), logging.getLogger("distributed")]  # the latter won't propagate
    dask_worker.sgdsm_capture = (handler, [(lg, lg.level) for lg in loggers])
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)


def stop_capture(dask_worker) -> str:
    handler, levels = dask_worker.sgdsm_capture
    for logger, level in levels:
        logger.removeHandler(handler)
        logger.setLevel(level)
    return "\n".join(handler.format(record) for record in handler.buffer)


def test_no_credential_reaches_logs_attributes_stac_or_errors(
    s3, tmp_path, raw_store, model_dir, cluster, client, monkeypatch
):
    """ingest, fill and publish at DEBUG, each also failing, with a canary secret in the
    environment and another in --storage-options: neither appears in any output (the
    commands' and the fill workers'), any JSON object of the stores, or the STAC catalogue."""
    from publish.cubes import seamless_cube, write_cube

    corpus = write_days(tmp_path / "raw", [0, 1])
    ingest(config([corpus.directory / name(corpus.day(0))], tmp_path / "cube.zarr"))
    upload_store(s3, tmp_path / "cube.zarr", "cube.zarr")  # quicker than an ingest over S3
    (corpus.directory / "LPRM-AMSR2_L3_D_SOILM3_V001_20150403013500.nc4").write_bytes(b"junk")
    upload(s3, corpus.directory, "raw")
    upload_store(s3, raw_store, "raw.zarr")
    s3.filesystem().pipe_file(f"{s3.bucket}/raw.zarr/sm/c/1/1/1", b"corrupt chunk")
    write_cube(seamless_cube(), s3.url("seamless.zarr"), s3.storage_options)
    stac = tmp_path / "stac"
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", CANARY_ENV)
    options = {"endpoint_url": s3.endpoint_url, "key": "testing", "secret": CANARY_OPTION}

    fill = ["fill", "--store", s3.url("raw.zarr"), "--model", str(model_dir)]
    fill += ["--out", s3.url("filled.zarr"), "--scheduler", cluster.scheduler_address]
    fill += ["--retries", "0", "--tile-days", "8", "--tile-cells", "20"]
    publish = ["publish", "--filled", s3.url("seamless.zarr"), "--stac-out", str(stac)]
    runs = {
        "ingest, one file quarantined": (
            ["ingest", s3.url("raw"), "--store", s3.url("cube.zarr")],
            3,
        ),
        "ingest, missing bucket": (["ingest", s3.url("raw"), "--store", "s3://no-such/c.zarr"], 1),
        "fill, a tile fails on a corrupt chunk": (fill, 1),
        "publish": (publish, 0),
        "publish, credentials in the href": (
            [*publish, "--href-public", f"s3://AKIDEXAMPLE:{CANARY_OPTION}@bucket/x.zarr"],
            1,
        ),
    }
    client.run(start_capture)
    processes = {
        what: sgdsm("-vv", *argv, "--storage-options", json.dumps(options))
        for what, (argv, _) in runs.items()
    }
    texts = {}
    for what, process in processes.items():
        out, err = process.communicate(timeout=300)
        assert process.returncode == runs[what][1], (what, err.splitlines()[-3:])
        texts[f"{what}: stdout"], texts[f"{what}: stderr"] = out, err
    texts.update({f"worker {a}": log for a, log in client.run(stop_capture).items()})
    assert "DEBUG botocore" in texts["ingest, one file quarantined: stderr"]
    assert any("Compute Failed" in text for what, text in texts.items() if "worker" in what)
    texts.update(all_text_under(s3.filesystem(), s3.bucket))
    texts.update({str(p): p.read_text() for p in stac.rglob("*.json")})
    assert any(path.endswith("cube.zarr/zarr.json") for path in texts)
    assert any(path.endswith("collection.json") for path in texts)
    leaks = [where for where, text in texts.items() if CANARY_ENV in text or CANARY_OPTION in text]
    assert leaks == []
