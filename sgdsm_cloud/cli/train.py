"""``sgdsm train``: train the gap-filling CNN on a raw cube (self-supervised, resumable).

Train SGD-SM on a raw cube: real gap patterns are laid over observed patches and the network
learns to restore them. A checkpoint (model.safetensors + config.json) is written every epoch;
re-running the same command resumes after the last completed epoch. An ``anomaly`` model is
then given its error model (a standard error for every filled value), fitted on squares hidden
on the held-back days after the last training centre day (--no-calibrate: skip).
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
from dataclasses import dataclass

from sgdsm_cloud.cli.command import add_step
from sgdsm_cloud.model.config import PRESETS, VARIANTS, TrainConfig
from sgdsm_cloud.options import Count, from_args, option, url
from sgdsm_cloud.storage import Location

log = logging.getLogger("sgdsm_cloud.train")


@dataclass(frozen=True)
class TrainIO:
    """What ``sgdsm train`` reads and writes, and the network it trains."""

    store: Location = url("raw cube (local path, s3://...) from 'sgdsm ingest'")
    out: Location = url("checkpoint directory (local path or URL)")
    other_pass: Location | None = url(
        "raw cube of the other overpass over the same days and grid (ascending beside "
        "descending), which --preset anomaly-2pass reads as a second input",
        required=False,
    )
    preset: str = option("paper", "model configuration", choices=tuple(sorted(PRESETS)))
    layers: int | None = option(None, "override the preset's layers", kind=Count)
    features: int | None = option(None, "override the preset's feature maps", kind=Count)
    kernel: int | None = option(None, "override the preset's kernel side (odd)", kind=Count)
    window: int | None = option(None, "override the preset's window of days (odd)", kind=Count)
    variant: str | None = option(None, "override the preset's network variant", choices=VARIANTS)
    device: str = option("auto", "auto, cpu or cuda[:N]; bf16 autocast on CUDA")
    calibrate: bool = option(
        True,
        "fit the anomaly variant's error model (the standard error of filled values) on the "
        "held-back days after training",
    )


def register(subparsers: argparse._SubParsersAction) -> None:
    add_step(subparsers, "train", __doc__, run, TrainIO, ("training (TrainConfig)", TrainConfig))


def run(args: argparse.Namespace) -> int:
    import torch

    from sgdsm_cloud.model.config import ModelConfig
    from sgdsm_cloud.model.train import train

    io = from_args(TrainIO, args)
    store, out = io.store, io.out
    train_config = from_args(TrainConfig, args)
    torch.set_num_threads(
        len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    )
    fields = ("layers", "features", "kernel", "window", "variant")
    overrides = {k: getattr(io, k) for k in fields if getattr(io, k) is not None}
    model_config = dataclasses.replace(ModelConfig.preset(io.preset), **overrides)
    result = train(
        store, out, model_config, train_config, device=io.device, other_pass=io.other_pass
    )
    last = result.history[-1] if result.history else None
    state = "converged" if result.converged else "stopped at the epoch limit"
    if last is not None:
        log.info(
            "%s after %d epochs: validation gap R %.3f RMSE %.4f MAE %.4f; checkpoint in %s",
            state,
            result.epochs,
            last.val_r,
            last.val_rmse,
            last.val_mae,
            out.url,
        )
    if io.calibrate and model_config.variant == "anomaly":
        calibrate(store, out, io.other_pass)
    return 0


def calibrate(store: Location, out: Location, other_pass: Location | None = None) -> None:
    """Fit the error model of the checkpoint at ``out`` on the held-back days of ``store``."""
    from sgdsm_cloud import cube
    from sgdsm_cloud.model.checkpoint import load_checkpoint
    from sgdsm_cloud.validate.calibration import calibrate_checkpoint, held_back_days

    checkpoint = load_checkpoint(out.url, storage_options=out.storage_options)
    time = cube.open_cube(store.url, store.storage_options)["time"].values
    days = held_back_days(time, checkpoint.provenance)
    if not days:
        log.warning(
            "no held-back days (validation_fraction 0?): the model gets no error model, so "
            "its filled values will have no standard error"
        )
        return
    try:
        fitted = calibrate_checkpoint(store, out, days, other_pass=other_pass).calibration["fit"]
    except ValueError as err:  # too few held-back cells: no 27 x 27 square of observed land
        log.warning("no error model fitted (%s): filled values will have no standard error", err)
        return
    log.info(
        "error model fitted on %d held-back cells: +-1 sigma covers %.3f, +-2 sigma %.3f",
        fitted["cells"],
        fitted["coverage_1sigma"],
        fitted["coverage_2sigma"],
    )
