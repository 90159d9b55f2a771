"""``sgdsm train`` through ``sgdsm_cloud.cli.main``: a checkpoint comes out, errors are one line."""

from __future__ import annotations

from model.cubes import smooth_cube, write_cube

from sgdsm_cloud.cli import EXIT_ERROR, EXIT_OK, main
from sgdsm_cloud.model.checkpoint import load_checkpoint
from sgdsm_cloud.model.config import ModelConfig


def test_train_writes_a_loadable_checkpoint_and_resumes(tmp_path):
    _, observed, land = smooth_cube(days=10, ny=24, nx=32)
    store = write_cube(tmp_path / "raw.zarr", observed, land)
    options = (
        "--preset small --layers 3 --features 8 --patch 16 --stride 4 --min-label-fraction 0.7 "
        "--batch-size 8 --samples-per-epoch 8 --device cpu --seed 3 --loss-norm l1"
    )
    args = ["-q", "train", "--store", store, "--out", str(tmp_path / "model"), *options.split()]
    assert main([*args, "--epochs", "1"]) == EXIT_OK
    assert main([*args, "--epochs", "2"]) == EXIT_OK
    checkpoint = load_checkpoint(tmp_path / "model")
    assert checkpoint.config == ModelConfig(layers=3, features=8)
    assert checkpoint.provenance["epochs"] == 2
    assert checkpoint.train_config.seed == 3 and checkpoint.train_config.samples_per_epoch == 8
    assert checkpoint.train_config.loss_norm == "l1"


def test_a_missing_store_is_a_one_line_error(tmp_path, capsys):
    code = main(
        ["-q", "train", "--store", str(tmp_path / "none.zarr"), "--out", str(tmp_path / "m")]
    )
    assert code == EXIT_ERROR
    err = capsys.readouterr().err.strip()
    assert err.startswith("sgdsm train: error:") and "sgdsm ingest" in err and "\n" not in err


def test_a_bad_option_value_names_the_option(tmp_path, capsys):
    code = main(
        ["-q", "train", "--store", "x", "--out", str(tmp_path), "--min-label-fraction", "2"]
    )
    assert code == EXIT_ERROR
    assert "min_label_fraction" in capsys.readouterr().err


def test_an_anomaly_model_leaves_training_with_its_error_model(tmp_path):
    _, observed, land = smooth_cube(days=12, ny=44, nx=44)
    store = write_cube(tmp_path / "raw.zarr", observed, land)
    options = (
        "--preset anomaly --layers 2 --features 4 --patch 16 --stride 8 --min-label-fraction 0.5 "
        "--batch-size 8 --samples-per-epoch 8 --epochs 1 --device cpu --validation-fraction 0.2"
    )
    out = tmp_path / "model"
    assert main(["-q", "train", "--store", store, "--out", str(out), *options.split()]) == EXIT_OK
    checkpoint = load_checkpoint(out)
    assert checkpoint.uncertainty is not None
    calibration = checkpoint.uncertainty.calibration
    last_train = checkpoint.provenance["train_centre_days"][1]
    assert calibration["days"][0] > last_train  # only days no training sample is centred on
    assert calibration["days"][-1] == checkpoint.provenance["train_period"][1]
    assert calibration["fit"]["cells"] > 500
    no_error_model = tmp_path / "plain"
    argv = ["-q", "train", "--store", store, "--out", str(no_error_model), "--no-calibrate"]
    assert main([*argv, *options.split()]) == EXIT_OK
    assert load_checkpoint(no_error_model).uncertainty is None


def test_a_two_pass_model_trains_and_fills_with_the_other_pass(tmp_path, capsys):
    import numpy as np

    from sgdsm_cloud.product import FLAG_FILLED, open_seamless

    truth, observed, land = smooth_cube(days=12, ny=44, nx=44)
    elsewhere = np.roll(np.isfinite(observed), 12, axis=2) & land
    store = write_cube(tmp_path / "descending.zarr", observed, land)
    other = write_cube(tmp_path / "ascending.zarr", np.where(elsewhere, truth, np.nan), land)
    model, out = tmp_path / "model", tmp_path / "product"
    options = (
        "--preset anomaly-2pass --layers 2 --features 4 --patch 16 --stride 8 "
        "--min-label-fraction 0.5 --batch-size 8 --samples-per-epoch 8 --epochs 1 --device cpu "
        "--validation-fraction 0.3"
    )
    argv = ["-q", "train", "--store", store, "--out", str(model), "--other-pass", other]
    assert main([*argv, *options.split()]) == EXIT_OK
    checkpoint = load_checkpoint(model)
    assert checkpoint.config.passes == 2 and checkpoint.uncertainty is not None
    fill = ["-q", "fill", "--store", store, "--model", str(model), "--out", str(out)]
    assert main([*fill, "--other-pass", other, "--workers", "1"]) == EXIT_OK
    assert (open_seamless(str(out)).flag.values == FLAG_FILLED).sum() > 500
    capsys.readouterr()
    assert main([*fill, "--workers", "1"]) == EXIT_ERROR  # the other pass is not optional
    assert "--other-pass" in capsys.readouterr().err
