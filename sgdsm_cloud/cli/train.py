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
from typing import TYPE_CHECKING

from sgdsm_cloud.cli.command import add_command, add_storage_options
from sgdsm_cloud.model.config import PRESETS, TrainConfig
from sgdsm_cloud.options import Count, add_options, converter, from_args

if TYPE_CHECKING:
    from sgdsm_cloud.storage import Location

log = logging.getLogger("sgdsm_cloud.train")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(subparsers, "train", __doc__, run)
    parser.add_argument(
        "--store", required=True, help="raw cube URL (local path, s3://...) from 'sgdsm ingest'"
    )
    parser.add_argument("--out", required=True, help="checkpoint directory (local path or URL)")
    parser.add_argument(
        "--preset",
        choices=sorted(PRESETS),
        default="paper",
        help="model configuration (default: %(default)s)",
    )
    parser.add_argument(
        "--layers", type=converter(Count), metavar="N", help="override the preset's layers"
    )
    parser.add_argument(
        "--features", type=converter(Count), metavar="N", help="override the preset's feature maps"
    )
    add_options(parser.add_argument_group("training (TrainConfig)"), TrainConfig)
    parser.add_argument(
        "--device",
        default="auto",
        help="auto, cpu or cuda[:N]; bf16 autocast on CUDA (default: %(default)s)",
    )
    add_storage_options(parser, "--store and --out")
    parser.add_argument(
        "--no-calibrate",
        dest="calibrate",
        action="store_false",
        help="do not fit the anomaly variant's error model (the standard error of filled values) "
        "on the held-back days after training",
    )


def run(args: argparse.Namespace) -> int:
    import torch

    from sgdsm_cloud.model.config import ModelConfig
    from sgdsm_cloud.model.train import train
    from sgdsm_cloud.storage import Location, protocol_of

    store = Location.from_cli(args.store, args.storage_options)
    same_place = protocol_of(args.out) == store.protocol  # the options are for the store's protocol
    out = Location.from_cli(args.out, args.storage_options if same_place else None)
    train_config = from_args(TrainConfig, args)
    torch.set_num_threads(
        len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    )
    overrides = {k: v for k, v in (("layers", args.layers), ("features", args.features)) if v}
    model_config = dataclasses.replace(ModelConfig.preset(args.preset), **overrides)
    result = train(store, out, model_config, train_config, device=args.device)
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
    if args.calibrate and model_config.variant == "anomaly":
        calibrate(store, out)
    return 0


def calibrate(store: Location, out: Location) -> None:
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
        fitted = calibrate_checkpoint(store, out, days).calibration["fit"]
    except ValueError as err:  # too few held-back cells: no 27 x 27 square of observed land
        log.warning("no error model fitted (%s): filled values will have no standard error", err)
        return
    log.info(
        "error model fitted on %d held-back cells: +-1 sigma covers %.3f, +-2 sigma %.3f",
        fitted["cells"],
        fitted["coverage_1sigma"],
        fitted["coverage_2sigma"],
    )
