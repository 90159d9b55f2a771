"""SynthConfig: dates parsed, every field checked with a message that names it."""

from __future__ import annotations

import datetime as dt

import pytest

from sgdsm_cloud.errors import ConfigError
from sgdsm_cloud.grid import BBox
from sgdsm_cloud.synth import SynthConfig


def test_defaults_are_the_global_lprm_descending_archive():
    config = SynthConfig("2015-04-01", dt.date(2015, 4, 3))
    assert (config.start, config.end) == (dt.date(2015, 4, 1), dt.date(2015, 4, 3))
    assert (config.res, config.fmt, config.pass_, config.seed) == (0.25, "lprm", "D", 0)
    assert config.crop.shape == (720, 1440)
    assert config.days == [dt.date(2015, 4, 1), dt.date(2015, 4, 2), dt.date(2015, 4, 3)]


def test_bbox_selects_the_cells_whose_centres_fall_inside():
    config = SynthConfig("2015-04-01", "2015-04-01", bbox=BBox(0, 40, 10, 50), res=0.1)
    assert config.crop.shape == (100, 100)
    assert config.crop.lat[0] == pytest.approx(49.95) and config.crop.lon[0] == pytest.approx(0.05)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"start": "2015-04-02", "end": "2015-04-01"}, "before start"),
        ({"start": "2011-01-01", "end": "2011-01-02"}, "AMSR2 record"),
        ({"start": "2015-04-01", "end": "2999-01-01"}, "AMSR2 record"),
        ({"start": "April", "end": "2015-04-01"}, "synth start"),
        ({"res": 0.5}, "res"),
        ({"fmt": "smap"}, "fmt"),
        ({"pass_": "X"}, "pass_"),
        ({"seed": -1}, "seed"),
        ({"seed": 1.5}, "seed"),
        ({"seed": True}, "seed"),
        ({"bbox": (0, 40, 10, 50)}, "bbox"),
    ],
)
def test_invalid_settings_raise_config_error_naming_the_field(kwargs, message):
    settings = {"start": "2015-04-01", "end": "2015-04-02", **kwargs}
    with pytest.raises(ConfigError, match=message):
        SynthConfig(**settings)


def test_config_is_frozen():
    config = SynthConfig("2015-04-01", "2015-04-01")
    with pytest.raises(AttributeError):
        config.seed = 1
