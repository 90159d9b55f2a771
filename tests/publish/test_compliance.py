"""The community's own checker on what users receive: the IOOS compliance checker, offline.

A product made by ``sgdsm fill`` (with the publisher's attribution), one day exported by
``sgdsm export``, and the zarr product itself read through xarray (written to NetCDF, which the
checker reads) must pass the CF check of the version they declare with no error or warning,
and the ACDD 1.3 check with nothing highly recommended missing.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from sgdsm_cloud.cli import main
from sgdsm_cloud.product import open_seamless
from sgdsm_cloud.schema import CONVENTIONS
from tests.fill.conftest import make_raw, write_raw

pytest.importorskip("compliance_checker")
pytest.importorskip("netCDF4")

CF_SUITE = "cf:" + CONVENTIONS.split(",")[0].removeprefix("CF-")  # the version the files declare
ACDD_SUITE = "acdd:1.3"
ATTRIBUTION = [
    "--creator-name", "Example Soil Moisture Group", "--creator-email", "sm@example.org",
    "--creator-url", "https://soil.example.org", "--institution", "Example University",
    "--publisher-name", "Example Open Data", "--publisher-email", "data@example.org",
    "--publisher-url", "https://data.example.org", "--license", "CC-BY-4.0",
    "--naming-authority", "org.example",
]  # fmt: skip
# Recommended ACDD attributes the product has no honest value for: a sensing depth has no
# vertical CRS, and acknowledgements are the publisher's to write.
NOT_CLAIMED = {
    "acknowledgment/acknowledgement not present",
    "geospatial_vertical_min not present",
    "geospatial_vertical_max not present",
    "geospatial_vertical_positive not present",
    "geospatial_bounds_vertical_crs not present",
}


@pytest.fixture(scope="module")
def product(tmp_path_factory):
    """A small versioned product, filled by the CLI with a tiny random network."""
    import torch

    from sgdsm_cloud.model.checkpoint import save_checkpoint
    from sgdsm_cloud.model.config import ModelConfig
    from sgdsm_cloud.model.network import SGDSMNet

    root = tmp_path_factory.mktemp("compliance")
    raw = make_raw(days=10)
    raw.attrs.update(source_product="lprm", source_variable="soil_moisture_c1", source_pass="D")
    write_raw(raw, str(root / "raw.zarr"))
    torch.manual_seed(0)
    config = ModelConfig(layers=3, features=4)
    save_checkpoint(root / "model", SGDSMNet(config), config, {"trained_on": "random weights"})
    argv = ["-q", "fill", "--store", str(root / "raw.zarr"), "--model", str(root / "model")]
    argv += ["--out", str(root / "product"), "--workers", "1", "--tile-days", "10"]
    assert main([*argv, "--tile-cells", "48", *ATTRIBUTION]) == 0
    return root


def check(path, suite: str, tmp_path) -> dict:
    """The checker's report of ``path`` for ``suite``: {priority: [failing check names and
    messages]}."""
    from compliance_checker.runner import CheckSuite, ComplianceChecker

    CheckSuite.load_all_available_checkers()
    report = tmp_path / f"{suite.replace(':', '-')}.json"
    ComplianceChecker.run_checker(
        str(path), [suite], 0, "normal", output_filename=str(report), output_format="json"
    )
    results = json.loads(report.read_text())[suite]
    return {
        priority: [
            (item["name"], msg)
            for item in results[f"{priority}_priorities"]
            if item["value"][0] < item["value"][1]
            for msg in item["msgs"] or [""]
        ]
        for priority in ("high", "medium")
    }


def assert_compliant(path, tmp_path) -> None:
    cf = check(path, CF_SUITE, tmp_path)
    assert cf == {"high": [], "medium": []}, f"{CF_SUITE} errors and warnings: {cf}"
    acdd = check(path, ACDD_SUITE, tmp_path)
    assert acdd["high"] == [], f"highly recommended ACDD attributes missing: {acdd['high']}"
    recommended = {msg for _, msg in acdd["medium"]} - NOT_CLAIMED
    assert recommended == set(), f"recommended ACDD findings: {recommended}"


def test_an_exported_day_passes_the_cf_and_acdd_checks(product, tmp_path):
    out = tmp_path / "daily"
    argv = ["-q", "export", "--filled", str(product / "product"), "--out", str(out)]
    assert main([*argv, "--start", "2015-03-04", "--end", "2015-03-04", "--workers", "1"]) == 0
    (path,) = out.glob("*.nc")
    assert_compliant(path, tmp_path)


def write_netcdf(ds, path) -> None:
    """``ds`` as NetCDF, declaring what the zarr store declares and nothing more.

    zarr keeps attributes as JSON, whose numbers have no type: the attributes CF types after
    their variable (valid_min, flag_values...) are cast to it, as ``sgdsm export`` does. xarray
    would give every float variable a NaN ``_FillValue``; those the store gives none keep none.
    """
    ds = ds.copy()
    for var in ds.variables.values():
        for key in ("valid_min", "valid_max", "valid_range", "flag_values", "actual_range"):
            if key in var.attrs:
                var.attrs[key] = np.asarray(var.attrs[key], dtype=var.dtype)
    no_fill = {
        name: {"_FillValue": None}
        for name, var in ds.variables.items()
        if var.dtype.kind == "f" and "_FillValue" not in var.encoding
    }
    ds.to_netcdf(path, engine="netcdf4", encoding=no_fill)


def test_the_zarr_product_read_through_xarray_passes_the_same_checks(product, tmp_path):
    ds = open_seamless(str(product / "product"))
    assert ds.attrs["license"] == "CC-BY-4.0" and "lat_bnds" in ds.coords
    assert "_FillValue" not in ds["lat"].encoding  # coordinates have no missing values
    path = tmp_path / "product.nc"
    write_netcdf(ds, path)  # all of it: the attributes describe the whole record
    assert_compliant(path, tmp_path)
