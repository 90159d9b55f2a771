"""Seamless global daily AMSR2 soil moisture with SGD-SM, at cloud scale.

``import sgdsm_cloud`` stays cheap (no torch, no dask, no xarray): the notebook API below loads
its module on first use.

- ``open_cube(url, storage_options)``: a raw cube from ``sgdsm ingest``, checked.
- ``open_seamless(url, storage_options)``: a seamless cube from ``sgdsm fill``, checked.
- ``fill_dataset(raw, model)``: the seamless cube of a raw Dataset, lazily (dask).
"""

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from typing import Any

try:
    __version__ = version("sgdsm_cloud")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0+unknown"

_API = {
    "open_cube": "sgdsm_cloud.cube",
    "open_seamless": "sgdsm_cloud.product",
    "fill_dataset": "sgdsm_cloud.fill.api",
}

__all__ = ["__version__", *_API]


def __getattr__(name: str) -> Any:
    if name in _API:
        return getattr(import_module(_API[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_API])
