"""Seamless global daily AMSR2 soil moisture with SGD-SM, at cloud scale.

``import sgdsm_cloud`` stays cheap (no torch, no dask): import what you use from its modules,
e.g. ``from sgdsm_cloud.fill.api import fill_dataset``.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("sgdsm_cloud")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0+unknown"

__all__ = ["__version__"]
