"""``sgdsm train``: self-supervised training of the SGD-SM network on a raw cube."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os

from sgdsm_cloud.model.config import PRESETS, TrainConfig

log = logging.getLogger("sgdsm_cloud.train")
_DEFAULTS = TrainConfig()


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train",
        help="train the gap-filling CNN on a raw cube (self-supervised, resumable)",
        description="Train SGD-SM on a raw cube: real gap patterns are laid over observed "
        "patches and the network learns to restore them. A checkpoint (model.safetensors + "
        "config.json) is written every epoch; re-running the same command resumes after the last "
        "completed epoch.",
    )
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
    parser.add_argument("--layers", type=int, help="override the preset's number of layers")
    parser.add_argument("--features", type=int, help="override the preset's feature maps")
    parser.add_argument(
        "--start", help="first day of the training period (ISO date; default: the store's first)"
    )
    parser.add_argument(
        "--end", help="last day of the training period (ISO date; default: the store's last)"
    )
    parser.add_argument(
        "--epochs",
        type=int,
        default=_DEFAULTS.epochs,
        help="maximum epochs (training stops earlier when converged) (default: %(default)s)",
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        default=_DEFAULTS.batch_size,
        help="samples per step (default: %(default)s)",
    )
    parser.add_argument(
        "--lr",
        type=float,
        default=_DEFAULTS.learning_rate,
        help="Adam learning rate (default: %(default)s)",
    )
    parser.add_argument(
        "--patch",
        type=int,
        default=_DEFAULTS.patch,
        help="training patch side in cells (default: %(default)s)",
    )
    parser.add_argument(
        "--stride",
        type=int,
        default=_DEFAULTS.stride,
        help="patch grid step in cells (default: %(default)s)",
    )
    parser.add_argument(
        "--min-label-fraction",
        type=float,
        default=_DEFAULTS.min_label_fraction,
        help="observed fraction of a patch's land on its centre day (default: %(default)s; "
        "the paper's complete days: 1.0)",
    )
    parser.add_argument(
        "--samples-per-epoch",
        type=int,
        help="draw at most this many training samples per epoch (default: all)",
    )
    parser.add_argument(
        "--patience",
        type=int,
        default=_DEFAULTS.patience,
        help="epochs without improvement of the validation gap RMSE that make a plateau "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--lr-drops",
        type=int,
        default=_DEFAULTS.lr_drops,
        help="plateaus that divide the learning rate by 5 before the next one stops training "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--loss-norm",
        choices=["l2", "l1"],
        default=_DEFAULTS.loss_norm,
        help="error norm of both loss terms (squared or absolute) (default: %(default)s)",
    )
    parser.add_argument(
        "--validation-fraction",
        type=float,
        default=_DEFAULTS.validation_fraction,
        help="last fraction of days held out (default: %(default)s)",
    )
    parser.add_argument(
        "--device",
        default="auto",
        help="auto, cpu or cuda[:N]; bf16 autocast on CUDA (default: %(default)s)",
    )
    parser.add_argument(
        "--storage-options", metavar="JSON", help="fsspec options for --store and --out"
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=_DEFAULTS.seed,
        help="seeds initialisation, sampling and gaps (default: %(default)s)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import torch

    from sgdsm_cloud.model.config import ModelConfig
    from sgdsm_cloud.model.train import train
    from sgdsm_cloud.storage import Location, protocol_of

    store = Location.from_cli(args.store, args.storage_options)
    same_place = protocol_of(args.out) == store.protocol  # the options are for the store's protocol
    out = Location.from_cli(args.out, args.storage_options if same_place else None)
    train_config = TrainConfig(
        start=args.start,
        end=args.end,
        patch=args.patch,
        stride=args.stride,
        min_label_fraction=args.min_label_fraction,
        samples_per_epoch=args.samples_per_epoch,
        validation_fraction=args.validation_fraction,
        loss_norm=args.loss_norm,
        patience=args.patience,
        lr_drops=args.lr_drops,
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.lr,
        seed=args.seed,
    )
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
    return 0
