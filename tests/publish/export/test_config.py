"""What an export is asked to do: the defaults, every refused value as a ConfigError that
names the option, and the names of the files' variables for each source band."""

from __future__ import annotations

import pytest

from sgdsm_cloud.errors import ConfigError
from sgdsm_cloud.grid import BBox
from sgdsm_cloud.product import FLAG
from sgdsm_cloud.publish.export.config import ExportConfig, Names


def test_the_defaults_write_the_whole_cube_as_the_dataset_names_its_files():
    config = ExportConfig()
    assert (config.fmt, config.bbox, config.start, config.end) == ("netcdf", None, None, None)
    assert (config.prefix, config.complevel, config.days_per_task) == ("SGD-SM", 4, None)
    assert not config.overwrite


def test_a_bbox_given_as_text_is_parsed():
    assert ExportConfig(bbox="5,48,6.5,49").bbox == BBox(5.0, 48.0, 6.5, 49.0)
    box = BBox(-10.0, 35.0, 30.0, 60.0)
    assert ExportConfig(bbox=box).bbox is box


@pytest.mark.parametrize("prefix", ["SGD-SM", "sm.v2", "A_1", "0day"])
def test_prefixes_of_letters_digits_dots_underscores_and_dashes_are_taken(prefix):
    assert ExportConfig(prefix=prefix).prefix == prefix


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("fmt", "grib", "export format must be one of"),
        ("bbox", (5, 48, 6, 49), "export bbox must be a grid.BBox or 'W,S,E,N'"),
        ("bbox", "5,48,6", "--bbox must be four numbers"),
        ("bbox", "6,48,5,49", "west < east"),
        ("days_per_task", 0, "--days-per-task must be 1 or more"),
        ("days_per_task", True, "--days-per-task must be 1 or more"),
        ("prefix", "daily/SGD-SM", "--prefix 'daily/SGD-SM'"),
        ("prefix", ".hidden", "--prefix '.hidden'"),
        ("prefix", "", "--prefix ''"),
        ("prefix", "SGD-SM\n", "--prefix 'SGD-SM\\\\n'"),
        ("complevel", 10, "--complevel must be 0..9, got 10"),
        ("complevel", -1, "--complevel must be 0..9, got -1"),
    ],
)
def test_a_bad_value_is_refused_naming_the_option(field, value, message):
    with pytest.raises(ConfigError, match=message):
        ExportConfig(**{field: value})


def test_the_variables_are_named_after_the_source_band():
    c1 = Names(band="c1", uncertainty=True)
    assert c1.all() == [
        "original_sm_c1", "reconstructed_sm_c1", FLAG, "reconstructed_sm_c1_uncertainty"
    ]  # fmt: skip
    assert Names(band="x", uncertainty=False).all() == ["original_sm_x", "reconstructed_sm_x", FLAG]
    other = Names(band="", uncertainty=False)  # another product than LPRM: no suffix
    assert (other.original, other.reconstructed, other.uncertainty_name) == (
        "original_sm",
        "reconstructed_sm",
        None,
    )
