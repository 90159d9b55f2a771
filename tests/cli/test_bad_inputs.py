"""Bad and awkward inputs a new user tries, on every subcommand, as real ``sgdsm`` processes.

Each case runs ``sgdsm -q ...`` in the workspace of the pipeline's own outputs (conftest) and
checks: the exit status; exactly one line on stderr, naming the option or path; no
traceback; no hang (the harness's timeout); and no file of the workspace created, changed or
deleted (SHA-256 of every file before and after). The README's exit-status line must cover
every status the table sees.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from cli.conftest import Workspace

TIMEOUT_S = 180  # a hang fails the case; no case needs more than a few seconds
README = Path(__file__).parents[2] / "README.md"

USAGE, ERROR = 2, 1

# (id, arguments, exit status, a fragment the one stderr line must hold)
CASES = [
    # synth
    ("synth-into-foreign", "synth {foreign} --start 2015-03-01 --end 2015-03-02", ERROR, "{foreign}"),
    ("synth-bad-date", "synth {new} --start 2015-13-01 --end 2015-03-02", USAGE, "--start"),
    ("synth-reversed-period", "synth {new} --start 2015-03-05 --end 2015-03-02", ERROR, "swap"),
    ("synth-workers-0", "synth {new} --start 2015-03-01 --end 2015-03-02 --workers 0", USAGE, "--workers"),
    ("synth-short-bbox", "synth {new} --start 2015-03-01 --end 2015-03-02 --bbox 1,2,3", USAGE, "--bbox"),
    ("synth-onto-a-file", "synth {file} --start 2015-03-01 --end 2015-03-02", ERROR, "{file}"),
    # ingest
    ("ingest-into-foreign", "ingest {archive} --store {foreign}", ERROR, "{foreign}"),
    ("ingest-store-is-source", "ingest {archive} --store {archive}", ERROR, "is also an input"),
    ("ingest-store-in-source", "ingest {archive} --store {archive}/raw.zarr", ERROR, "lies inside the input"),
    ("ingest-store-holds-source", "ingest {archive} --store {root}", ERROR, "contains the input"),
    ("ingest-into-seamless", "ingest {archive} --store {seamless}", ERROR, "seamless product"),
    ("ingest-bad-date", "ingest {archive} --store {new} --start foo", USAGE, "--start"),
    ("ingest-bad-json", "ingest {archive} --store {new} --storage-options notjson", USAGE, "--storage-options"),
    ("ingest-workers-negative", "ingest {archive} --store {new} --workers -1", USAGE, "--workers"),
    ("ingest-missing-source", "ingest {root}/nowhere --store {new}", ERROR, "nowhere"),
    # train
    ("train-into-foreign", "train --store {raw} --out {foreign}", ERROR, "{foreign}"),
    ("train-on-seamless", "train --store {seamless} --out {new}", ERROR, "sgdsm ingest"),
    ("train-bad-date", "train --store {raw} --out {new} --start 2015-13-01", USAGE, "--start"),
    ("train-out-is-store", "train --store {raw} --out {raw}", ERROR, "is also an input"),
    ("train-epochs-0", "train --store {raw} --out {new} --epochs 0", USAGE, "--epochs"),
    ("train-layers-0", "train --store {raw} --out {new} --layers 0", USAGE, "--layers"),
    ("train-missing-store", "train --store {root}/none.zarr --out {new}", ERROR, "none.zarr"),
    ("train-into-seamless", "train --store {raw} --out {seamless}", ERROR, "seamless product"),
    ("train-other-pass-for-one-pass", "train --store {raw} --out {new} --other-pass {raw}", ERROR, "--other-pass"),
    ("train-other-pass-missing", "train --store {raw} --out {new} --preset anomaly-2pass --other-pass {root}/none.zarr", ERROR, "none.zarr"),
    # fill
    ("fill-into-foreign", "fill --store {raw} --model {model} --out {foreign}", ERROR, "{foreign}"),
    ("fill-into-foreign-overwrite", "fill --store {raw} --model {model} --out {foreign} --overwrite", ERROR, "{foreign}"),
    ("fill-out-is-store-overwrite", "fill --store {raw} --model {model} --out {raw} --overwrite", ERROR, "is also an input"),
    ("fill-into-raw-overwrite", "fill --store {archive}/truth.zarr --model {model} --out {raw} --overwrite", ERROR, "{raw}"),
    ("fill-on-seamless", "fill --store {seamless} --model {model} --out {new}", ERROR, "sgdsm ingest"),
    ("fill-workers-negative", "fill --store {raw} --model {model} --out {new} --workers -1", USAGE, "--workers"),
    ("fill-workers-0", "fill --store {raw} --model {model} --out {new} --workers 0", USAGE, "--workers"),
    ("fill-bad-month", "fill --store {raw} --model {model} --out {new} --start 2015-13-01", USAGE, "--start"),
    ("fill-date-word", "fill --store {raw} --model {model} --out {new} --start foo", USAGE, "--start"),
    ("fill-bad-json", "fill --store {raw} --model {model} --out {new} --storage-options notjson", USAGE, "--storage-options"),
    ("fill-out-in-store", "fill --store {raw} --model {model} --out {raw}/filled", ERROR, "lies inside the input"),
    ("fill-pickled-model", "fill --store {raw} --model {pickled} --out {new}", ERROR, "pickle"),
    ("fill-days-outside", "fill --store {raw} --model {model} --out {new} --start 2030-01-01", ERROR, "--start"),
    ("fill-unknown-builtin", "fill --store {raw} --model builtin:nope --out {new}", ERROR, "builtin"),
    ("fill-batch-0", "fill --store {raw} --model {model} --out {new} --batch-size 0", USAGE, "--batch-size"),
    ("fill-other-pass-for-one-pass", "fill --store {raw} --model {model} --out {new} --other-pass {raw}", ERROR, "--other-pass"),
    ("fill-other-pass-missing", "fill --store {raw} --model {model} --out {new} --other-pass {root}/none.zarr", ERROR, "none.zarr"),
    # update and the product's versions
    ("update-into-foreign", "update {archive} --store {raw} --model {model} --out {foreign}", ERROR, "{foreign}"),
    ("update-without-product", "update {archive} --store {raw} --model {model} --out {new}", ERROR, "sgdsm fill"),
    ("update-pickled-model", "update {archive} --store {raw} --model {pickled} --out {seamless}", ERROR, "pickle"),
    ("update-store-is-product", "update {archive} --store {seamless} --model {model} --out {seamless}", ERROR, "is also an input"),
    ("update-other-pass-for-one-pass", "update {archive} --store {raw} --model {model} --out {seamless} --other-pass {raw} --other-sources {archive}", ERROR, "--other-pass"),
    ("update-look-back-0", "update {archive} --store {raw} --model {model} --out {seamless} --look-back 0", USAGE, "--look-back"),
    ("history-of-foreign", "history {foreign}", ERROR, "sgdsm fill"),
    ("history-of-raw-cube", "history {raw}", ERROR, "sgdsm fill"),
    ("rollback-to-missing", "rollback {seamless} --to 99", ERROR, "no version 99"),
    ("rollback-to-unknown-tag", "rollback {seamless} --to nope", ERROR, "nope"),
    ("tag-escaping-name", "tag {seamless} ../escape", ERROR, "tag"),
    ("tag-missing-version", "tag {seamless} r1 --version 42", ERROR, "no version 42"),
    ("expire-bad-duration", "expire {seamless} --older-than soon", USAGE, "--older-than"),
    ("check-bad-duration", "check {seamless} --max-delay forever", USAGE, "--max-delay"),
    ("check-of-raw-cube", "check {raw}", ERROR, "sgdsm fill"),
    # validate and sweep
    ("validate-into-foreign", "validate --store {raw} --model {model} --report {foreign}", ERROR, "{foreign}"),
    ("validate-bad-date", "validate --store {raw} --model {model} --report {new} --start 2015-13-01", USAGE, "--start"),
    ("validate-raw-as-filled", "validate --store {raw} --model {model} --filled {raw} --report {new}", ERROR, "sgdsm fill"),
    ("validate-report-is-store", "validate --store {raw} --model {model} --report {raw}", ERROR, "is also an input"),
    ("validate-other-pass-for-one-pass", "validate --store {raw} --model {model} --report {new} --other-pass {raw}", ERROR, "--other-pass"),
    ("sweep-into-foreign", "sweep --store {raw} --out {foreign}", ERROR, "{foreign}"),
    # publish
    ("publish-file-name", "publish --filled {seamless} --stac-out {root}/pub/mycat.json", ERROR, "--stac-out"),
    ("publish-into-proc", "publish --filled {seamless} --stac-out /proc/x", ERROR, "/proc/x"),
    ("publish-onto-a-file", "publish --filled {seamless} --stac-out {file}", ERROR, "{file}"),
    ("publish-into-foreign", "publish --filled {seamless} --stac-out {foreign}", ERROR, "{foreign}"),
    ("publish-raw-cube", "publish --filled {raw} --stac-out {new}", ERROR, "sgdsm fill"),
    ("publish-into-the-cube", "publish --filled {seamless} --stac-out {seamless}/stac", ERROR, "lies inside the input"),
    # export
    ("export-onto-a-file", "export --filled {seamless} --out {file}", ERROR, "{file}"),
    ("export-unrecorded-files", "export --filled {seamless} --out {foreign}", ERROR, "{foreign}"),
    ("export-bad-date", "export --filled {seamless} --out {new} --start 2015-13-01", USAGE, "--start"),
    ("export-workers-negative", "export --filled {seamless} --out {new} --workers -1", USAGE, "--workers"),
    ("export-bad-json", "export --filled {seamless} --out {new} --storage-options notjson", USAGE, "--storage-options"),
    ("export-into-the-cube", "export --filled {seamless} --out {seamless}/daily", ERROR, "lies inside the input"),
    ("export-raw-cube", "export --filled {raw} --out {new}", ERROR, "sgdsm fill"),
    # demo and the command line itself
    ("demo-into-foreign", "demo --workdir {foreign}", ERROR, "{foreign}"),
    ("unknown-command", "fil --store {raw}", USAGE, "invalid choice"),
    ("missing-option", "fill --store {raw} --out {new}", USAGE, "--model"),
]  # fmt: skip


def render(template: str, ws: Workspace, new: Path) -> list[str]:
    values = {
        "root": ws.root,
        "archive": ws.archive,
        "raw": ws.raw,
        "model": ws.model,
        "seamless": ws.seamless,
        "foreign": ws.foreign,
        "file": ws.plain_file,
        "pickled": ws.pickled_model,
        "new": new,
    }
    return template.format(**{k: str(v) for k, v in values.items()}).split()


def documented_statuses() -> dict[int, str]:
    """The README's ``Exit status:`` line as {status: meaning}."""
    text = " ".join(README.read_text().split()).split("Exit status:", 1)[1].split(". ", 1)[0]
    return {int(m[1]): m[2].strip() for m in re.finditer(r"(\d+) ([^,;.]+)", text)}


@pytest.mark.parametrize(
    ("case", "template", "status", "fragment"), CASES, ids=[c[0] for c in CASES]
)
def test_a_bad_input_is_one_line_and_changes_nothing(workspace, case, template, status, fragment):
    new = workspace.root / f"new-{case}"
    argv = render(template, workspace, new)
    before = workspace.snapshot()
    result = subprocess.run(
        [sys.executable, "-m", "sgdsm_cloud", "-q", *argv],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        cwd=workspace.root,
    )
    lines = result.stderr.strip().splitlines()
    assert result.returncode == status, result.stderr
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    expected = render(fragment, workspace, new)[0] if "{" in fragment else fragment
    assert expected in lines[0], lines[0]
    assert lines[0].startswith("sgdsm"), lines[0]
    assert not new.exists(), f"{new} was created by a refused command"
    assert workspace.snapshot() == before


def test_the_table_covers_every_subcommand_with_over_forty_cases():
    from sgdsm_cloud.cli import SUBCOMMANDS

    assert len(CASES) >= 40
    covered = {template.split()[0] for _, template, _, _ in CASES}
    assert set(SUBCOMMANDS) <= covered


def test_the_readme_exit_status_line_holds_for_every_case():
    statuses = documented_statuses()
    assert statuses[0] == "ok" and "error" in statuses[ERROR] and "usage" in statuses[USAGE]
    assert {status for _, _, status, _ in CASES} <= set(statuses)
