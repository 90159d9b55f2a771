"""Raw AMSR2 archives (LPRM NetCDF4, JAXA HDF5; local or s3://) into the raw zarr v3 cube.

``ingest(IngestConfig(...))`` lists the sources, plans per-day work (pure), writes the cube's
template once, region-writes one whole time chunk per dask task, quarantines bad files in the
store's ``quarantine`` attribute, and consolidates metadata at the end. Re-runs skip what the
store holds, extend it forward in time, and resume an interrupted run. See docs/ingest.md.
"""

from sgdsm_cloud.ingest.config import IngestConfig
from sgdsm_cloud.ingest.run import IngestReport, ingest

__all__ = ["IngestConfig", "IngestReport", "ingest"]
