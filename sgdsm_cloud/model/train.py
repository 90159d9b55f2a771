"""Self-supervised training of SGD-SM on a raw cube (``sgdsm train``).

One run: open the store lazily, scan the period for samples and real gap masks
(:mod:`sampling`), hold out the last days for validation, then train epoch by epoch with Adam
(:mod:`batches` streams the samples). Each epoch ends with validation scores on the simulated
gap cells, a resumable state (:mod:`resume`) and an exported checkpoint; the plateau schedule
(:mod:`schedule`) lowers the learning rate and finally stops training, or the epoch limit does.
Re-running the same command after an interruption continues from the last completed epoch.
"""

from __future__ import annotations

import datetime as dt
import logging
import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any, TypeVar

import numpy as np
import pandas as pd
import torch

from sgdsm_cloud import __version__
from sgdsm_cloud.cube import open_cube, open_other_pass
from sgdsm_cloud.errors import ConfigError
from sgdsm_cloud.metrics import score
from sgdsm_cloud.model import resume
from sgdsm_cloud.model.batches import Batch, iter_batches, iter_slabs
from sgdsm_cloud.model.checkpoint import CHECKPOINT, save_checkpoint, trained_on
from sgdsm_cloud.model.config import ModelConfig, TrainConfig, check_passes
from sgdsm_cloud.model.gaps import GapLibrary
from sgdsm_cloud.model.loss import sgdsm_loss
from sgdsm_cloud.model.network import SGDSMNet
from sgdsm_cloud.model.runner import resolve_device
from sgdsm_cloud.model.sampling import (
    DayReader,
    SampleIndex,
    coverage,
    epoch_samples,
    resolve_period,
    scan,
    split_days,
)
from sgdsm_cloud.model.schedule import stage
from sgdsm_cloud.outputs import claim
from sgdsm_cloud.product import fill_land_mask
from sgdsm_cloud.progress import progress
from sgdsm_cloud.storage import Location

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class EpochLog:
    """Scores of one epoch; validation scores are on simulated gap cells (NaN without any)."""

    epoch: int
    lr: float
    loss: float
    val_loss: float
    val_r: float
    val_rmse: float
    val_mae: float
    seconds: float


@dataclass(frozen=True)
class TrainResult:
    """Attributes: ``epochs`` completed, ``converged`` (stop rule fired), per-epoch ``history``."""

    epochs: int
    converged: bool
    history: list[EpochLog]


def train(
    store: Location,
    out: Location,
    model_config: ModelConfig,
    train_config: TrainConfig,
    *,
    device: str = "auto",
    other_pass: Location | None = None,
) -> TrainResult:
    """Train (or resume training) a model on ``store`` and write checkpoints to ``out``.

    ``out`` must be new, empty, or a checkpoint folder 'sgdsm train' wrote (``outputs.claim``).
    ``other_pass`` is the raw cube of the other overpass, which a two-pass model reads too.
    """
    check_passes(model_config, other_pass, "sgdsm train")
    claim(out, CHECKPOINT, inputs=(store,) if other_pass is None else (store, other_pass))
    cfg = train_config
    torch_device = resolve_device(device)
    state = resume.load_state(out)
    if state is not None:
        _check_resumable(state, model_config, train_config, out)
    data = _prepare_data(store, cfg, model_config.half_window, str(torch_device), other_pass)

    torch.manual_seed(cfg.seed)
    model = SGDSMNet(model_config).to(torch_device)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.learning_rate)
    history: list[dict[str, Any]] = []
    finished = False
    if state is not None:
        model.load_state_dict(state.model_state)
        optimizer.load_state_dict(state.optimizer_state)
        history, finished = state.history, state.finished
        log.info("resuming %s after epoch %d", out.url, state.epochs_done)

    resumed_at = len(history)
    for epoch in range(resumed_at, resumed_at if finished else cfg.epochs):
        drops = stage(_monitored(history), cfg.patience, cfg.tolerance, cfg.lr_drops).drops
        lr = cfg.learning_rate * cfg.lr_drop_factor**drops
        for group in optimizer.param_groups:
            group["lr"] = lr
        started = time.perf_counter()
        loss = _train_epoch(
            model, optimizer, data, cfg, model_config.half_window, epoch, torch_device
        )
        val = _evaluate(model, data.validation, cfg, torch_device)
        seconds = round(time.perf_counter() - started, 3)
        entry = EpochLog(epoch + 1, lr, loss, *val, seconds=seconds)
        history.append(asdict(entry))
        _log_epoch(entry, cfg.epochs)
        finished = stage(_monitored(history), cfg.patience, cfg.tolerance, cfg.lr_drops).finished
        resume.save_state(out, model, optimizer, history, finished, model_config, train_config)
        _export(out, model, model_config, cfg, data.provenance, history, finished)
        if finished:
            log.info("converged after %d epochs", len(history))
            break
    if len(history) == resumed_at:  # nothing left to train: make sure the checkpoint is there
        _export(out, model, model_config, cfg, data.provenance, history, finished)
    return TrainResult(len(history), finished, [EpochLog(**h) for h in history])


@dataclass(frozen=True)
class TrainingData:
    """What the epochs draw from: the store reader, samples, gap library, validation set."""

    reader: DayReader
    train_index: SampleIndex
    library: GapLibrary
    validation: Batch | None
    provenance: dict[str, Any]


def _prepare_data(
    store: Location, cfg: TrainConfig, half_window: int, device: str, other: Location | None
) -> TrainingData:
    """Open the store lazily, scan the period, split by time and build the validation set."""
    ds = open_cube(store.url, store.storage_options, chunks=None)
    other_ds = None
    if other is not None:
        other_ds = open_other_pass(other.url, other.storage_options, ds, store.url, chunks=None)
    time_index = ds.indexes["time"]
    assert isinstance(time_index, pd.DatetimeIndex)  # a cube's days decode to datetime64
    period = resolve_period(time_index, cfg.start, cfg.end, store.url)
    reader = DayReader(ds, period, other_ds)
    dates = time_index[period.first : period.first + period.count]
    index, library = scan(reader, cfg, half_window, np.random.default_rng([cfg.seed, 0]))
    split = split_days(period.count, cfg.validation_fraction, buffer=half_window)
    train_days = split.train_end
    train_index = index.subset(index.day < train_days)
    if len(train_index) == 0:
        raise ConfigError(
            f"{store.url}: no training patch passes the thresholds in {dates[0].date()} .. "
            f"{dates[train_days - 1].date()} (min_land_fraction {cfg.min_land_fraction}, "
            f"min_label_fraction {cfg.min_label_fraction}, min_neighbour_coverage "
            f"{cfg.min_neighbour_coverage}); lower them or train on a longer period"
        )
    validation = _validation_set(
        reader, index.subset(index.day >= split.validation_start), library, cfg, half_window
    )
    n_val = len(validation) if validation is not None else 0
    last_train = dates[train_days - 1].date()
    log.info(
        "%d training samples (%s .. %s), %d validation samples, %d simulated gap masks",
        len(train_index), dates[0].date(), last_train, n_val, len(library),
    )  # fmt: skip
    provenance = {
        "store": store.url,
        "source": trained_on(ds.attrs),
        **(
            {"other_pass": {"store": other.url, "source": trained_on(other_ds.attrs)}}
            if other is not None and other_ds is not None
            else {}
        ),
        "train_period": [str(dates[0].date()), str(dates[-1].date())],
        "train_centre_days": [str(dates[0].date()), str(last_train)],
        "validation_centre_days": [str(dates[split.validation_start].date()), str(dates[-1].date())]
        if split.held_out
        else None,
        "samples": {"train": len(train_index), "validation": n_val},
        "sample_coverage": coverage(
            train_index,
            dates,
            ds["lat"].values,
            fill_land_mask(reader.land, ds["lat"].values, ds["lon"].values),
            cfg.patch,
        ),
        "gap_library": len(library),
        "code_version": __version__,
        "torch_version": torch.__version__,
        "device": device,
    }
    return TrainingData(reader, train_index, library, validation, provenance)


def _log_epoch(entry: EpochLog, epochs: int) -> None:
    log.info(
        "epoch %d/%d (lr %.2g): loss %.5f | validation gaps: loss %.5f R %.3f RMSE %.4f MAE %.4f",
        entry.epoch, epochs, entry.lr, entry.loss, entry.val_loss, entry.val_r, entry.val_rmse,
        entry.val_mae,
    )  # fmt: skip


def _check_resumable(
    state: resume.TrainingState, model_config: ModelConfig, train_config: TrainConfig, out: Location
) -> None:
    if state.model_config != model_config or not state.train_config.same_run_as(train_config):
        raise ConfigError(
            f"{out.url} holds a run with other settings (model {state.model_config.to_dict()}); "
            "resume it with the same options (only --epochs may change) or choose another --out"
        )


def _monitored(history: list[dict[str, Any]]) -> list[float]:
    """Validation gap RMSE when there is a validation set, else the training loss."""
    if all(np.isfinite(h["val_rmse"]) for h in history):
        return [h["val_rmse"] for h in history]
    return [h["loss"] for h in history]


def _train_epoch(
    model: SGDSMNet,
    optimizer: torch.optim.Optimizer,
    data: TrainingData,
    cfg: TrainConfig,
    half_window: int,
    epoch: int,
    device: torch.device,
) -> float:
    """One pass over (a draw of) the training samples; returns the mean batch loss."""
    seeds = np.random.SeedSequence([cfg.seed, epoch + 1]).spawn(3)
    pick_rng, slab_rng, gap_rng = (np.random.default_rng(s) for s in seeds)
    index = epoch_samples(data.train_index, cfg, pick_rng)
    slabs = _prefetch(iter_slabs(data.reader, index, cfg, half_window, slab_rng))
    total = max(len(index) // cfg.batch_size, 1)
    model.train()
    losses = []
    batches = iter_batches(
        slabs, data.library, cfg.batch_size, gap_rng, cfg.truncate_probability, cfg.context,
        cfg.shared_gap,
    )  # fmt: skip
    bar = progress(batches, desc=f"epoch {epoch + 1}", total=total, unit="batch")
    for batch in bar:
        tensors = _to_device(batch, device)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
            out, reached = model(tensors["data"], tensors["mask"])
        loss = _loss(out, reached, tensors, cfg)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
        bar.set_postfix(loss=f"{losses[-1]:.5f}")
    return float(np.mean(losses)) if losses else float("nan")


def _loss(
    out: torch.Tensor, reached: torch.Tensor, tensors: dict[str, torch.Tensor], cfg: TrainConfig
) -> torch.Tensor:
    known = tensors["known"] * reached
    return sgdsm_loss(
        out,
        tensors["target"],
        known,
        tensors["gap"] * reached,
        lam=cfg.loss_lambda,
        weighted_term=cfg.loss_weighted_term,
        norm=cfg.loss_norm,
    )


def _validation_set(
    reader: DayReader, index: SampleIndex, library: GapLibrary, cfg: TrainConfig, half_window: int
) -> Batch | None:
    """A fixed validation batch (same samples and simulated gaps every epoch), or None."""
    if len(index) == 0:
        return None
    rng = np.random.default_rng([cfg.seed, 0, 1])
    if len(index) > cfg.max_validation_samples:
        index = index.subset(
            np.sort(rng.choice(len(index), cfg.max_validation_samples, replace=False))
        )
    slabs = iter_slabs(reader, index, cfg, half_window, rng)
    batches = iter_batches(slabs, library, len(index), rng, 0.0, cfg.context, cfg.shared_gap)
    return Batch.concat(list(batches))


def _evaluate(
    model: SGDSMNet, validation: Batch | None, cfg: TrainConfig, device: torch.device
) -> tuple[float, float, float, float]:
    """``(loss, R, RMSE, MAE)`` on the validation set's simulated gap cells (NaN without one)."""
    if validation is None:
        return (float("nan"),) * 4
    model.eval()
    losses, preds, truths = [], [], []
    with (
        torch.inference_mode(),
        torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"),
    ):
        for start in range(0, len(validation), cfg.batch_size):
            tensors = _to_device(validation.slice(start, start + cfg.batch_size), device)
            out, reached = model(tensors["data"], tensors["mask"])
            losses.append(float(_loss(out, reached, tensors, cfg)) * out.shape[0])
            gap = (tensors["gap"] * reached) > 0.5
            preds.append(out.float()[gap].cpu().numpy())
            truths.append(tensors["target"][gap].cpu().numpy())
    scores = score(np.concatenate(preds), np.concatenate(truths))
    return float(np.sum(losses) / len(validation)), scores.r, scores.rmse, scores.mae


def _to_device(batch: Batch, device: torch.device) -> dict[str, torch.Tensor]:
    names = ("data", "mask", "target", "known", "gap")
    return {n: torch.from_numpy(getattr(batch, n)).to(device, non_blocking=True) for n in names}


def _export(
    out: Location,
    model: SGDSMNet,
    model_config: ModelConfig,
    cfg: TrainConfig,
    provenance_base: dict[str, Any],
    history: list[dict[str, Any]],
    converged: bool,
) -> None:
    provenance = {
        **provenance_base,
        "epochs": len(history),
        "converged": converged,
        "final_metrics": history[-1] if history else None,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    save_checkpoint(out, model, model_config, provenance, train_config=cfg)


def _prefetch(items: Iterator[T], depth: int = 1) -> Iterator[T]:
    """Run ``items`` up to ``depth`` steps ahead in a thread, so store reads overlap training."""
    slots: queue.Queue = queue.Queue(maxsize=depth)
    stop, done = threading.Event(), object()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                slots.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put(item):
                    return
            put(done)
        except BaseException as err:  # handed to the consumer, re-raised there
            put(err)

    threading.Thread(target=produce, daemon=True).start()
    try:
        while (item := slots.get()) is not done:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
