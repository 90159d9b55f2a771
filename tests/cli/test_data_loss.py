"""Nothing a user owns is lost: every writing command, pointed at a folder of the user's own
files, with and without ``--overwrite``, leaves them as they were; and weights whose first
byte happens to be a pickle's load wherever weights are loaded."""

from __future__ import annotations

import shutil

import pytest
from model.weights import repad_resume_state, repad_weights

from cli.conftest import TRAIN, Workspace, snapshot
from sgdsm_cloud.cli import EXIT_ERROR, EXIT_OK, EXIT_USAGE, main
from sgdsm_cloud.model.checkpoint import load_checkpoint

COMMANDS = {  # each command with the folder as its output
    "fill": "fill --store {raw} --model {model} --out {folder} --workers 1",
    "train": "train --store {raw} --out {folder} " + " ".join(TRAIN),
    "export": "export --filled {seamless} --out {folder} --workers 1",
    "publish": "publish --filled {seamless} --stac-out {folder} --license CC-BY-4.0",
    "synth": "synth {folder} --start 2015-03-01 --end 2015-03-02 --bbox=140,-30,141,-29",
    "ingest": "ingest {archive} --store {folder} --workers 1",
}
HAS_OVERWRITE = {"fill", "export"}


@pytest.mark.parametrize("overwrite", [False, True], ids=["plain", "overwrite"])
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_folder_of_the_users_files_survives(workspace: Workspace, tmp_path, command, overwrite):
    folder = tmp_path / "my-folder"
    folder.mkdir()
    (folder / "thesis.tex").write_text("\\chapter{Three years of work}\n")
    before = snapshot(folder)
    argv = (
        COMMANDS[command]
        .format(
            raw=workspace.raw,
            model=workspace.model,
            seamless=workspace.seamless,
            archive=workspace.archive,
            folder=folder,
        )
        .split()
    )
    status = main(["-q", *argv, *(["--overwrite"] if overwrite else [])])
    # refused as not its own; a command without --overwrite refuses the option itself
    assert status == (EXIT_USAGE if overwrite and command not in HAS_OVERWRITE else EXIT_ERROR)
    assert snapshot(folder) == before


def test_weights_with_a_header_length_ending_in_0x80_train_on_and_fill(workspace, tmp_path):
    model = tmp_path / "model"
    shutil.copytree(workspace.model, model)
    repad_resume_state(model)  # the demo's own epoch file once had such a header (0x0F80)
    argv = ["train", "--store", str(workspace.raw), "--out", str(model), *TRAIN]
    assert main(["-q", *argv, "--epochs", "2"]) == EXIT_OK  # resumes from that state
    assert load_checkpoint(model).provenance["epochs"] == 2
    repad_weights(model)
    out = tmp_path / "filled.zarr"
    fill = ["fill", "--store", str(workspace.raw), "--model", str(model), "--out", str(out)]
    assert main(["-q", *fill, "--workers", "1"]) == EXIT_OK
    assert (out / "latest.json").exists()
