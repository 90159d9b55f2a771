"""Train the default built-in model: the chosen recipe on every shipped real day.

The recipe is ``bench_accuracy.Settings`` (chosen by ``bench_recipe.py``: every day a training
day, 24 cells of context around each patch). This script trains it on all 15 LPRM X-band days
of tests/data/lprm (2015-04-01 .. 15), fits its error model on 27 x 27 squares hidden on days
2015-04-05 .. 15 (training days: a model trained on every day has no other real days), records
what it was trained on in ``config.json`` and copies the checkpoint into the package::

    python benchmarks/ship_builtin.py --work WORK [--name lprm-x-d-025-v2]

The model card (``MODEL_CARD.md``) is written by hand from the scores of ``bench_accuracy.py
--part builtin`` and ``bench_recipe.py``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.bench_accuracy import REAL_LPRM, Settings, run_sgdsm, train_args
from sgdsm_cloud.model.builtin import checkpoints_dir
from sgdsm_cloud.model.checkpoint import CONFIG_FILE, WEIGHTS_FILE, json_bytes, load_checkpoint
from sgdsm_cloud.storage import Location
from sgdsm_cloud.validate.calibration import calibrate_checkpoint

STORE = "tests/data/lprm ingested with 'sgdsm ingest --variable x'"
CALIBRATION_DAYS = list(range(4, 15))  # 2015-04-05 .. 15


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--name", default="lprm-x-d-025-v2")
    args = parser.parse_args()
    target = checkpoints_dir() / args.name
    if target.exists():  # never overwrite a shipped model: products name it by its weights
        raise SystemExit(f"{target} exists; choose another --name or remove it first")
    store, model = args.work / "lprm_x.zarr", args.work / "model_all_days"
    if not store.exists():
        run_sgdsm(f"-q ingest --store {store} --variable x --workers 1 {REAL_LPRM}".split())
    argv = train_args(store, model, "2015-04-01", "2015-04-15", Settings())
    seconds = run_sgdsm(argv)
    calibrate_checkpoint(Location(str(store)), Location(str(model)), CALIBRATION_DAYS)
    config = json.loads((model / CONFIG_FILE).read_text())
    config["provenance"] |= {
        "store": f"{STORE} (LPRM AMSR2 L3 V001, descending, 0.25 deg, X band)",
        "name": args.name,
        "command": "python benchmarks/ship_builtin.py --work WORK",
        "train_seconds": seconds,
    }
    calibration = config["uncertainty"]["calibration"]
    days = calibration["days"]
    calibration |= {
        "store": STORE,
        "days": f"{days[0]} .. {days[-1]}",
        "command": "python benchmarks/ship_builtin.py --work WORK",
    }
    (model / CONFIG_FILE).write_bytes(json_bytes(config))
    target.mkdir(parents=True)
    for name in (WEIGHTS_FILE, CONFIG_FILE):
        shutil.copyfile(model / name, target / name)
    checkpoint = load_checkpoint(str(target))  # loads as users will: SHA-256 checked
    print(f"{target}: {checkpoint.provenance['epochs']} epochs, {seconds} s of training")


if __name__ == "__main__":
    main()
