"""What one ``sgdsm update`` is asked to do (light: ``sgdsm --help`` imports it)."""

from __future__ import annotations

from dataclasses import dataclass

from sgdsm_cloud.options import Count, option


@dataclass(frozen=True)
class UpdateOptions:
    """How an update runs (``sgdsm update``; each option's help is its documentation)."""

    look_back: int = option(
        7,
        "days before the raw cube's last day whose granules are listed and read again, to "
        "catch late and regenerated ones",
        kind=Count,
    )
    new_model: bool = option(
        False, "refill with a model other than the one the product records (its SHA-256)"
    )
    batch_size: int = option(4, "centre days per model call", kind=Count)
    gpu: bool = option(False, "tasks need resources GPU=1 and run on CUDA with bf16 autocast")
    retries: int = option(2, "extra attempts of a failed tile before the update stops")
