"""IngestConfig and its CLI parsers refuse bad values with the option name and the fix."""

from __future__ import annotations

import datetime as dt

import pytest

from sgdsm_cloud.cube import CubeChunks
from sgdsm_cloud.errors import ConfigError
from sgdsm_cloud.ingest.config import IngestConfig, default_workers, parse_chunks, parse_date
from sgdsm_cloud.storage import Location

SOURCE, STORE = (Location("/raw"),), Location("/cube.zarr")


def test_defaults_and_variable_forms():
    config = IngestConfig(SOURCE, STORE, variable="x")
    assert config.lprm_variable == "soil_moisture_x" and config.chunks == CubeChunks()
    assert 1 <= default_workers() <= 4  # the CLI's LocalCluster (the library starts none)
    assert IngestConfig(SOURCE, STORE).lprm_variable is None


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"sources": ()}, "at least one SOURCE"),
        ({"pass_": "X"}, "--pass must be A"),
        ({"variable": "ku"}, "--variable must be one of c1, c2, x"),
        (
            {"start": dt.date(2015, 5, 1), "end": dt.date(2015, 4, 1)},
            "--start 2015-05-01 is after --end",
        ),
    ],
)
def test_invalid_configs(kw, match):
    with pytest.raises(ConfigError, match=match):
        IngestConfig(**{"sources": SOURCE, "store": STORE, **kw})


def test_parse_date_and_chunks():
    assert (
        parse_date("2015-04-01", "--start") == dt.date(2015, 4, 1)
        and parse_date(None, "--start") is None
    )
    with pytest.raises(ConfigError, match="--end must be a date YYYY-MM-DD"):
        parse_date("01/04/2015", "--end")
    assert parse_chunks("8,90,90") == CubeChunks(8, 90, 90) and parse_chunks(None) == CubeChunks()
    with pytest.raises(ConfigError, match="three integers"):
        parse_chunks("8,90")
    with pytest.raises(ConfigError, match="--chunks 0,1,1"):
        parse_chunks("0,1,1")
