"""The one way to run a trained network: load it, choose the device and threads, run micro-batches.

``sgdsm fill`` (its worker plugin), the notebook API (``fill_dataset``) and validation all hold a
:class:`Predictor`; none builds its own. Importing this module does not import torch.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sgdsm_cloud.errors import ConfigError


def resolve_device(device: str | None) -> Any:
    """``auto`` or None -> CUDA when available, else CPU; ``cuda`` without a GPU is a ConfigError."""
    import torch

    if device in (None, "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(
            "--device cuda was requested but torch sees no CUDA device; use --device cpu or auto"
        )
    return torch.device(device)


@dataclass(frozen=True)
class Predictor:
    """A loaded network and how to run it (``model.infer.predict_days`` arguments).

    ``threads`` (CPU only) is applied in the calling thread: torch keeps its intra-op thread
    count per thread, so a value set elsewhere (say, when a dask worker starts) does not reach
    the threads that run tasks. With ``lock``, calls run one at a time: on a dask worker with
    ``n`` threads, one tile's network uses all ``n`` cores while other tiles read and write,
    instead of ``n`` tiles each starting ``n`` threads.
    """

    model: Any  # SGDSMNet; typed loosely so importing this module does not import torch
    device: str = "cpu"
    amp: bool = False
    batch_size: int = 4
    threads: int | None = None
    lock: Any = field(default=None, compare=False)  # a threading.Lock shared by a process's tasks

    @classmethod
    def from_checkpoint(
        cls,
        checkpoint: Any,
        device: str | None = "cpu",
        batch_size: int = 4,
        *,
        threads: int | None = None,
        lock: Any = None,
        bfloat16: bool = False,
    ) -> Predictor:
        """Run a loaded :class:`~sgdsm_cloud.model.checkpoint.Checkpoint` on ``device``
        (``auto``/None: CUDA when available), with bf16 autocast on CUDA, and on the CPU too
        with ``bfloat16``."""
        torch_device = resolve_device(device)
        model = checkpoint.model.to(torch_device).eval()
        on_gpu = torch_device.type == "cuda"
        return cls(
            model,
            device=str(torch_device),
            amp=on_gpu or bfloat16,
            batch_size=batch_size,
            threads=None if on_gpu else threads,
            lock=lock,
        )

    def __call__(
        self, sm: np.ndarray, land: np.ndarray, centre_days: Sequence[int] | np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        result = self.run(sm, land, centre_days, extra=None)
        return result.pred, result.reached

    @property
    def has_uncertainty(self) -> bool:
        """The network carries an error model: :meth:`run` gives each output a sigma."""
        return getattr(self.model, "uncertainty", None) is not None

    def run(
        self,
        sm: np.ndarray,
        land: np.ndarray,
        centre_days: Sequence[int] | np.ndarray,
        *,
        extra: str | None = "sigma",
        batches: Sequence[Sequence[int]] | None = None,
    ) -> Any:
        """``model.infer.Prediction`` (pred, reached, sigma, features) of ``infer.run_days``;
        ``batches``: the forward passes' centre days (default: ``batch_size`` in order)."""
        import torch

        from sgdsm_cloud.model.infer import run_days

        with self.lock or nullcontext():
            if self.threads is not None and torch.get_num_threads() != self.threads:
                torch.set_num_threads(self.threads)
            return run_days(
                self.model,
                sm,
                land,
                [int(d) for d in centre_days],
                batch_size=self.batch_size,
                device=self.device,
                amp=self.amp,
                extra=extra,
                batches=batches,
            )
