"""Readers and writers of the raw AMSR2 L3 archive formats (LPRM NetCDF4, JAXA HDF5).

``read_day`` returns one day on the canonical grid (lat north-up, lon -180..180 ascending,
float32 m3 m-3, NaN where missing) and raises :class:`~sgdsm_cloud.errors.BadInputFile`
naming the file and the reason for anything it cannot trust.
"""

from sgdsm_cloud.formats.day import Day, read_day
from sgdsm_cloud.formats.names import ArchiveName, parse_name

__all__ = ["ArchiveName", "Day", "parse_name", "read_day"]
