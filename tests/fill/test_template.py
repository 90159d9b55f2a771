"""Output metadata: CF/ACDD attributes, provenance without credentials, codecs and fill values."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

from sgdsm_cloud import __version__
from sgdsm_cloud.fill.config import FillConfig
from sgdsm_cloud.fill.geometry import Halo
from sgdsm_cloud.fill.plan import plan_fill
from sgdsm_cloud.fill.template import (
    DAY_CHUNK,
    ModelInfo,
    encoding_for,
    output_attrs,
    template_for,
)
from sgdsm_cloud.product import FLAG, LAST_FINAL_DAY, LAST_PROVISIONAL_DAY, PROVISIONAL, SM
from sgdsm_cloud.schema import LAT_BOUNDS, Attribution, is_unset

from .conftest import make_raw

MODEL = ModelInfo(
    sha256="f" * 64, config={"layers": 3}, provenance={"period": ["2019-01-01", "2019-12-31"]}
)


def test_attrs_carry_provenance_and_append_a_history_line():
    attrs = output_attrs(
        {"history": "2026-01-01 sgdsm ingest", "license": "raw's", "unrelated": 1},
        source_url="s3://AKIA123:s3cr3t@bucket/raw.zarr",
        model=MODEL,
        time_coverage=("2015-01-01", "2015-12-31"),
        geospatial={},
        attribution=Attribution(license="CC-BY-4.0", creator_name="Soil Team"),
        created=datetime(2026, 11, 21, 12, 0, tzinfo=UTC),
    )
    assert attrs["Conventions"] == "CF-1.10, ACDD-1.3"
    assert attrs["history"].splitlines() == [
        "2026-01-01 sgdsm ingest",
        f"2026-11-21T12:00:00Z sgdsm fill {__version__}: filled gaps of s3://bucket/raw.zarr"
        f" with model sha256:{'f' * 64}",
    ]
    assert attrs["source_store"] == "s3://bucket/raw.zarr" and "s3cr3t" not in str(attrs)
    assert attrs["model_sha256"] == "f" * 64 and "2019-12-31" in attrs["model_provenance"]
    assert attrs["license"] == "CC-BY-4.0" and "unrelated" not in attrs
    assert attrs["creator_name"] == "Soil Team" and is_unset(attrs["publisher_name"])
    assert "--publisher-name" in attrs["publisher_name"]  # the default says how to set it
    assert "10.5194/essd-13-1385-2021" in attrs["references"]
    assert (attrs["time_coverage_start"], attrs["time_coverage_end"]) == (
        "2015-01-01",
        "2015-12-31",
    )


def test_the_summary_names_the_variant_that_filled_the_gaps():
    def summary(config):
        info = ModelInfo(sha256="f" * 64, config=config, provenance={})
        attrs = output_attrs({}, source_url="raw.zarr", model=info, time_coverage=("a", "b"),
                             geospatial={})  # fmt: skip
        return attrs["summary"]

    assert "3-D partial-convolution" in summary({"variant": "paper"})
    assert "'anomaly' variant" in summary({"variant": "anomaly"})


def test_template_is_lazy_and_encodes_fill_values_and_chunks():
    raw = make_raw(days=10)
    config = FillConfig(tile_days=10, tile_cells=24, chunk_days=5, chunk_cells=12)
    plan = plan_fill(raw, Halo(4, 3), config)
    template = template_for(raw, plan, "/data/raw.zarr", MODEL)
    assert template[SM].chunks == ((5, 5), (12,) * 4, (12,) * 8)  # never computed: dask
    encoding = encoding_for(template, plan.layout)
    assert template["land"].dtype == np.uint8
    # the extent is the extreme cell centres; the bounds hold the cells' edges
    assert template.attrs["geospatial_lat_min"] == template["lat"].values.min() == -88.125
    assert template[LAT_BOUNDS].values.min() == -90.0
    assert template["lat"].attrs["bounds"] == LAT_BOUNDS and LAT_BOUNDS in template.coords
    assert encoding["lat"]["_FillValue"] is None  # coordinates have no missing values
    assert np.isnan(encoding[SM]["fill_value"]) and np.isnan(encoding[SM]["_FillValue"])
    assert encoding[SM]["chunks"] == (5, 12, 12) and "shards" not in encoding[SM]
    assert encoding[FLAG]["fill_value"] == 0 and "_FillValue" not in encoding[FLAG]
    # the time axis grows: its chunks, and those of the per-day variables, have a fixed length
    assert encoding["time"]["chunks"] == encoding[PROVISIONAL]["chunks"] == (DAY_CHUNK,)


def test_the_last_days_of_the_record_are_provisional():
    raw = make_raw(days=10)
    plan = plan_fill(raw, Halo(4, 3), FillConfig(tile_days=10, tile_cells=24, chunk_days=5))
    template = template_for(raw, plan, "/data/raw.zarr", MODEL)
    assert template[PROVISIONAL].values.tolist() == [0] * 6 + [1] * 4
    assert template.attrs[LAST_FINAL_DAY] == "2015-03-06"
    assert template.attrs[LAST_PROVISIONAL_DAY] == "2015-03-10"
    early = plan_fill(raw, Halo(4, 3), FillConfig(tile_days=10, tile_cells=24), end="2015-03-06")
    cut = template_for(raw, early, "/data/raw.zarr", MODEL)  # days 7..10 exist: all final
    assert cut[PROVISIONAL].values.tolist() == [0] * 6 and cut.attrs[LAST_PROVISIONAL_DAY] == ""
