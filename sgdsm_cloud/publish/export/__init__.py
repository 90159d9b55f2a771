"""Export a seamless cube as daily NetCDF4 files in the layout of the SGD-SM dataset.

The published SGD-SM dataset (doi:10.5281/zenodo.4417458) is one NetCDF4 file per day holding
the original and the reconstructed soil moisture in integer percent (int16, fill -32767) on
``Latitude`` x ``Longitude``. :func:`export_netcdf` writes the same layout from a seamless
cube, plus the cube's ``flag`` and, where the cube has one, its ``sm_uncertainty``::

    from sgdsm_cloud.publish.export import export_netcdf

    files = export_netcdf("s3://bucket/seamless.zarr", "daily/", bbox="115,-35,150,-15",
                          start="2015-01-01", end="2015-12-31")      # the files written now
    # or a dataset already open: export_netcdf(ds, "s3://bucket/daily", client=client)

One file per day, ``OUT/SGD-SM_YYYYMMDD.nc`` (``prefix`` changes ``SGD-SM``), with, for an
LPRM C1 cube (``_c2``/``_x`` for the other bands, no suffix for other products):

* ``original_sm_c1``: the observed values (flag ``observed``), else -32767;
* ``reconstructed_sm_c1``: the seamless ``sm``, -32767 where it is NaN;
* ``flag``: the cube's flag (uint8, CF ``flag_values``/``flag_meanings``);
* ``reconstructed_sm_c1_uncertainty`` (when the cube has ``sm_uncertainty``): the standard
  error in percent, int16 packed with ``scale_factor = 0.01``, rounded to the nearest 0.01;
* ``Latitude``/``Longitude`` (float32, north-up) with their cell bounds (``Latitude_bnds``,
  ``Longitude_bnds``), and a scalar ``time`` coordinate.

Percent values are floored, as the dataset's files are (``floor(100 * sm)``), after adding
1e-3 percent so that an observed value such as 29 percent, stored as the float32 0.29, comes
back as 29 rather than 28. CF and ACDD attributes come from the schema and the cube (a
whitelist: no storage option ever reaches a file, and the attributes are checked against every
secret).

The work runs on a dask cluster (:func:`sgdsm_cloud.cluster.run_tasks`), one task per group of
days aligned with the cube's time chunks. A file appears under its final name only once
complete (a local file is written under a hidden ``.NAME.part-*`` name and renamed; an object
store receives the whole object in one upload), so a re-run skips the days whose file exists
and a killed run never leaves a partial file that looks done. ``OUT/sgdsm-export.json``
records what the directory holds (cube, grid, variables); a re-run with another cube or region
is refused unless ``overwrite``. See docs/export.md.
"""

from sgdsm_cloud.publish.export.config import FILL_VALUE, ExportConfig, Names
from sgdsm_cloud.publish.export.record import EXPORT_FOLDER, LAYOUT, MANIFEST
from sgdsm_cloud.publish.export.run import (
    ExportSummary,
    PreparedExport,
    execute_export,
    export_netcdf,
    prepare_export,
    run_export,
)
from sgdsm_cloud.publish.export.write import file_name, to_packed_uncertainty, to_percent

__all__ = [
    "EXPORT_FOLDER",
    "FILL_VALUE",
    "LAYOUT",
    "MANIFEST",
    "ExportConfig",
    "ExportSummary",
    "Names",
    "PreparedExport",
    "execute_export",
    "export_netcdf",
    "file_name",
    "prepare_export",
    "run_export",
    "to_packed_uncertainty",
    "to_percent",
]
