"""Seamless global daily AMSR2 soil moisture with SGD-SM, at cloud scale.

The public API is re-exported lazily so that ``import sgdsm_cloud`` stays cheap
(no torch, no dask) for users who only read a cube.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("sgdsm_cloud")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0+unknown"

__all__ = ["__version__"]
