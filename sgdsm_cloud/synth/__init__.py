"""Synthetic AMSR2 soil-moisture archives in the real file formats, with the complete truth.

See docs/synth.md for the physics, the gap model and its calibration against real files.
The writer (xarray, netCDF4, h5py) loads on first use, so ``sgdsm synth --help`` reads the
config alone.
"""

from typing import Any

from sgdsm_cloud.synth.config import SynthConfig

__all__ = ["SynthConfig", "WrittenArchive", "synthesize", "write_archive"]


def __getattr__(name: str) -> Any:
    if name in ("WrittenArchive", "synthesize", "write_archive"):
        from sgdsm_cloud.synth import archive

        return getattr(archive, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
