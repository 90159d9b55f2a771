"""Model and training configurations (frozen, JSON-serialisable, checked on creation).

Defaults are the paper's stated settings (Zhang et al. 2021); choices the paper leaves open are
documented in ``docs/model.md``.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from sgdsm_cloud.errors import ConfigError
from sgdsm_cloud.options import Count, Day, option

VARIANTS = ("paper", "released", "anomaly")
GAUSSIAN_TRUNCATE = 3.0  # the anomaly variant's Gaussian kernels end at 3 standard deviations
LOSS_TERMS = ("global", "local")
LOSS_NORMS = ("l2", "l1")


@dataclass(frozen=True)
class ModelConfig:
    """Shape of the SGD-SM network.

    Attributes:
        layers: partial-convolution layers (paper: 11). For the ``released`` variant this counts
            conv calls: two parallel first-layer branches, shared middle calls and the output
            call, so ``layers - 1`` layers are sequential.
        features: feature maps of the hidden layers (paper: 90; released code: 64).
        kernel: odd kernel side, used on every axis (paper: 3).
        window: days in the input window, odd, centred on the day to fill (paper: 9).
        variant: ``paper`` (3-D partial convolutions, time as the depth axis), ``released``
            (the released code's two-branch 2-D network, time as channels) or ``anomaly`` (not
            in the paper: per-cell temporal priors and the same day's smoothed anomaly, corrected
            by a 2-D CNN; :mod:`sgdsm_cloud.model.anomaly`).
        scales: widths (cells) of the Gaussian weights over which the ``anomaly`` variant
            averages the centre day's anomaly; empty for the other variants.
        passes: 1, or 2 for an ``anomaly`` network that also reads the other overpass of the
            same days (ascending beside descending): its input's channel 1, whose swaths and
            retrieval failures fall elsewhere (:mod:`sgdsm_cloud.model.anomaly`).
    """

    layers: int = 11
    features: int = 90
    kernel: int = 3
    window: int = 9
    variant: str = "paper"
    scales: tuple[float, ...] = ()
    passes: int = 1

    def __post_init__(self) -> None:
        object.__setattr__(self, "scales", tuple(float(s) for s in self.scales))
        if self.variant not in VARIANTS:
            raise ConfigError(f"model variant must be one of {VARIANTS}, got {self.variant!r}")
        min_layers = 3 if self.variant == "released" else 1
        if self.layers < min_layers:
            raise ConfigError(
                f"model 'layers' must be >= {min_layers} for variant {self.variant!r}, "
                f"got {self.layers}"
            )
        if self.features < 1:
            raise ConfigError(f"model 'features' must be >= 1, got {self.features}")
        if self.variant == "released" and self.features % 2:
            raise ConfigError(
                "model 'features' must be even for the released variant (two branches), "
                f"got {self.features}"
            )
        if (self.variant == "anomaly") != bool(self.scales) or any(s <= 0 for s in self.scales):
            raise ConfigError(
                "model 'scales' must be positive widths in cells for the anomaly variant and "
                f"empty for the others, got {list(self.scales)} for {self.variant!r}"
            )
        if self.passes not in (1, 2) or (self.passes == 2 and self.variant != "anomaly"):
            raise ConfigError(
                "model 'passes' must be 1, or 2 for the anomaly variant (the other overpass as "
                f"a second input), got {self.passes} for {self.variant!r}"
            )
        if self.kernel < 1 or self.kernel % 2 == 0:
            raise ConfigError(f"model 'kernel' must be a positive odd number, got {self.kernel}")
        if self.window < 1 or self.window % 2 == 0:
            raise ConfigError(
                f"model 'window' must be a positive odd number of days, got {self.window}"
            )

    @property
    def half_window(self) -> int:
        """Days on each side of the centre day (4 for the paper's 9-day window)."""
        return self.window // 2

    @property
    def receptive_radius(self) -> int:
        """Cells of spatial context per side that can reach an output cell (11 for the paper)."""
        sequential = self.layers - 1 if self.variant == "released" else self.layers
        context = context_radius(self.scales) if self.scales else 0
        return context + sequential * (self.kernel // 2)

    @classmethod
    def preset(cls, name: str) -> ModelConfig:
        """``paper`` (the default), ``small`` (CPU demos and tests), ``released``, ``anomaly`` or
        ``anomaly-2pass`` (``anomaly`` reading the other overpass too)."""
        try:
            return cls(**PRESETS[name])
        except KeyError:
            raise ConfigError(
                f"unknown model preset {name!r}; choose one of {sorted(PRESETS)}"
            ) from None

    def to_dict(self) -> dict[str, Any]:
        """JSON fields; ``passes`` only when 2, so one-pass checkpoints keep their bytes."""
        data = json_fields(self)
        if self.passes == 1:
            del data["passes"]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelConfig:
        return cls(**known_fields(cls, data, "model config"))


PRESETS: dict[str, dict[str, Any]] = {
    "paper": {},
    "small": {"layers": 5, "features": 24},
    "released": {"layers": 11, "features": 64, "variant": "released"},
    "anomaly": {"layers": 6, "features": 32, "variant": "anomaly", "scales": (2.0, 4.0, 8.0)},
}
PRESETS["anomaly-2pass"] = {**PRESETS["anomaly"], "passes": 2}


def check_passes(config: ModelConfig, other_pass: object | None, command: str) -> None:
    """A two-pass model needs the other overpass's raw cube, and only it takes one."""
    if config.passes == 2 and other_pass is None:
        raise ConfigError(
            f"{command}: this model reads both overpasses (passes 2); give the raw cube of the "
            "other pass with --other-pass"
        )
    if config.passes == 1 and other_pass is not None:
        raise ConfigError(
            f"{command}: --other-pass was given, but this model reads one pass; train one with "
            "--preset anomaly-2pass to use the other overpass"
        )


def context_radius(scales: tuple[float, ...]) -> int:
    """Cells on each side that the anomaly variant's Gaussian weights read."""
    return math.ceil(GAUSSIAN_TRUNCATE * max(scales))


@dataclass(frozen=True)
class TrainConfig:
    """Self-supervised training: sample selection, simulated gaps, loss, optimiser, stop rule.

    Each field's help text is its documentation; ``sgdsm train`` and the pipeline YAML's
    ``train`` section take every field by name (:mod:`sgdsm_cloud.options`). The paper's values
    and our readings of its open points are in docs/model.md.
    """

    start: str | None = option(
        None,
        kind=Day,
        help="first day of the training period (ISO date; default: the store's first). Days outside "
        "the period count as unobserved, also as window neighbours",
    )
    end: str | None = option(
        None, "last day of the training period (ISO date; default: the store's last)", kind=Day
    )
    patch: int = option(40, "side of the square training patches in cells (paper: 40)", kind=Count)
    stride: int = option(10, "step of the patch grid in cells (released code: 10)", kind=Count)
    context: int = option(
        0,
        "cells of input around each patch (0: the patch alone, as in the paper). The simulated "
        "gap and the loss stay on the patch; the context keeps what its days observed, so a "
        "model that reads far (anomaly: 30 cells) trains with the surroundings a fill gives it",
    )
    min_land_fraction: float = option(
        1.0, "a patch is used when at least this fraction of it is land (paper: 1)"
    )
    min_label_fraction: float = option(
        0.9,
        "fraction of a patch's land observed on its centre day (the paper's complete days: 1.0); "
        "unobserved label cells are left out of the loss",
    )
    min_neighbour_coverage: float = option(
        0.9,
        "fraction of a patch's land observed on at least one other window day (released code: 0.9)",
    )
    gap_bins: tuple[float, ...] = option(
        (0.05, 0.25, 0.5, 0.75, 1.0),
        "edges of the gap-fraction strata of the simulated gap library; a mask is drawn by "
        "picking a stratum uniformly, then a mask in it",
    )
    gap_library_size: int = option(
        4946, "simulated gap masks kept, split evenly over strata (released code: 4946)", kind=Count
    )
    shared_gap: float = option(
        0.5,
        "two-pass models: share of training samples whose simulated gap also hides the other "
        "pass's same day, as retrieval failures that hit both passes do (frozen soil, dense "
        "vegetation, interference), so the network learns to fill without the other pass too",
    )
    truncate_probability: float = option(
        0.25,
        "share of training windows whose first or last 1..4 days are hidden, as at the record's "
        "ends (not in the paper; 0 disables it)",
    )
    validation_fraction: float = option(
        0.2, "the last fraction of the period's days whose samples are held out for validation"
    )
    max_validation_samples: int = option(512, "cap on the fixed validation set", kind=Count)
    samples_per_epoch: int | None = option(
        None, "draw at most this many training samples per epoch (default: all)", kind=Count
    )
    epochs: int = option(
        500, "maximum epochs (training stops earlier when the stop rule fires)", kind=Count
    )
    batch_size: int = option(128, "samples per optimiser step (paper: 128)", kind=Count)
    learning_rate: float = option(1e-3, "Adam learning rate (paper: 1e-3)", flags=("--lr",))
    loss_lambda: float = option(0.1, "weight of one loss term (paper: 0.1)")
    loss_weighted_term: str = option(
        "global",
        "the term loss_lambda multiplies: global gives local + lambda * global, local gives "
        "global + lambda * local",
        choices=LOSS_TERMS,
    )
    loss_norm: str = option(
        "l2", "error norm of both loss terms: l2 (squared) or l1 (absolute)", choices=LOSS_NORMS
    )
    patience: int = option(
        10,
        "epochs without an improvement of more than tolerance of the monitored score (validation "
        "gap RMSE, or the training loss without validation samples) that make a plateau",
        kind=Count,
    )
    tolerance: float = option(0.01, "relative improvement that still counts as a plateau")
    lr_drops: int = option(
        2, "plateaus that multiply the learning rate by lr_drop_factor before the next one stops"
    )
    lr_drop_factor: float = option(0.2, "factor applied to the learning rate at each plateau")
    slab_days: int = option(32, "days of centre samples read from the store at a time", kind=Count)
    slabs_per_epoch: int | None = option(
        None,
        "slabs an epoch draws its samples from, at random (default: all): bounds an epoch's "
        "reads on a long global record, while the epochs together cover it",
        kind=Count,
    )
    seed: int = option(0, "seeds initialisation, sample order and simulated gaps")

    def __post_init__(self) -> None:
        object.__setattr__(self, "gap_bins", tuple(float(b) for b in self.gap_bins))
        positive = (
            "patch",
            "stride",
            "gap_library_size",
            "max_validation_samples",
            "epochs",
            "batch_size",
            "patience",
            "slab_days",
        )
        for name in positive:
            if getattr(self, name) < 1:
                raise ConfigError(
                    f"training option '{name}' must be >= 1, got {getattr(self, name)}"
                )
        for name in ("min_land_fraction", "min_label_fraction", "min_neighbour_coverage"):
            if not 0.0 < getattr(self, name) <= 1.0:
                raise ConfigError(
                    f"training option '{name}' must be in (0, 1], got {getattr(self, name)}"
                )
        if self.context < 0:
            raise ConfigError(f"training option 'context' must be >= 0, got {self.context}")
        if not 0.0 <= self.shared_gap <= 1.0:
            raise ConfigError(
                f"training option 'shared_gap' must be in [0, 1], got {self.shared_gap}"
            )
        if not 0.0 <= self.truncate_probability <= 1.0:
            raise ConfigError(
                "training option 'truncate_probability' must be in [0, 1], "
                f"got {self.truncate_probability}"
            )
        if not 0.0 <= self.validation_fraction < 1.0:
            raise ConfigError(
                "training option 'validation_fraction' must be in [0, 1), "
                f"got {self.validation_fraction}"
            )
        bins = self.gap_bins
        if (
            len(bins) < 2
            or any(b <= a for a, b in zip(bins, bins[1:]))
            or bins[0] < 0
            or bins[-1] > 1
        ):
            raise ConfigError(
                f"training option 'gap_bins' must be increasing edges in [0, 1], got {list(bins)}"
            )
        if self.lr_drops < 0 or not 0.0 < self.lr_drop_factor < 1.0:
            raise ConfigError(
                "training options 'lr_drops' (>= 0) and 'lr_drop_factor' (in (0, 1)) are out of "
                f"range: {self.lr_drops}, {self.lr_drop_factor}"
            )
        if self.samples_per_epoch is not None and self.samples_per_epoch < 1:
            raise ConfigError(
                f"training option 'samples_per_epoch' must be >= 1, got {self.samples_per_epoch}"
            )
        if self.learning_rate <= 0 or self.loss_lambda < 0 or self.tolerance < 0:
            raise ConfigError(
                "training options 'learning_rate' (> 0), 'loss_lambda' and 'tolerance' (>= 0) "
                "are out of range"
            )
        if self.loss_weighted_term not in LOSS_TERMS:
            raise ConfigError(
                f"training option 'loss_weighted_term' must be one of {LOSS_TERMS}, "
                f"got {self.loss_weighted_term!r}"
            )
        if self.loss_norm not in LOSS_NORMS:
            raise ConfigError(
                f"training option 'loss_norm' must be one of {LOSS_NORMS}, got {self.loss_norm!r}"
            )

    def to_dict(self) -> dict[str, Any]:
        return json_fields(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        return cls(**known_fields(cls, data, "training config"))

    def same_run_as(self, other: TrainConfig) -> bool:
        """True when ``other`` trains the same model, whatever its epoch limit."""
        return dataclasses.replace(self, epochs=1) == dataclasses.replace(other, epochs=1)


def json_fields(config: Any) -> dict[str, Any]:
    """A config dataclass's fields as JSON values: tuples become lists."""
    data = dataclasses.asdict(config)
    return {k: list(v) if isinstance(v, tuple) else v for k, v in data.items()}


def known_fields(cls: type, data: dict[str, Any], what: str) -> dict[str, Any]:
    """``data`` when every key is a field of ``cls``; a ConfigError naming the others."""
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise ConfigError(f"{what} has unknown key(s) {unknown}; known keys are {sorted(names)}")
    return dict(data)
