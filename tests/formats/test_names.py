"""Archive file names: date, pass, product and grid from regexes, refusals with the reason."""

from __future__ import annotations

import datetime as dt

import pytest

from sgdsm_cloud.errors import BadInputFile
from sgdsm_cloud.formats import parse_name
from sgdsm_cloud.formats.jaxa import file_name as jaxa_name
from sgdsm_cloud.formats.lprm import file_name as lprm_name

TODAY = dt.date(2020, 1, 1)


@pytest.mark.parametrize(
    ("name", "product", "date", "pass_", "res", "version"),
    [
        (
            "LPRM-AMSR2_L3_D_SOILM3_V001_20150401013507.nc4",
            "lprm",
            dt.date(2015, 4, 1),
            "D",
            0.25,
            "001",
        ),
        (
            "LPRM-AMSR2_L3_A_SOILM3_V001_20121231235959.nc4",
            "lprm",
            dt.date(2012, 12, 31),
            "A",
            0.25,
            "001",
        ),
        (
            "LPRM-AMSR2_L3_DS_A_SOILM3_V001_20150401013507.nc4",
            "lprm",
            dt.date(2015, 4, 1),
            "A",
            0.1,
            "001",
        ),
        (
            "GW1AM2_20130722_01D_EQMD_L3SGSMCHA1100100.h5",
            "jaxa",
            dt.date(2013, 7, 22),
            "D",
            0.1,
            "A1100100",
        ),
        (
            "GW1AM2_20150401_01D_EQMA_L3SGSMCLA3300300.h5",
            "jaxa",
            dt.date(2015, 4, 1),
            "A",
            0.25,
            "A3300300",
        ),
    ],
)
def test_valid_names_parse(name, product, date, pass_, res, version):
    parsed = parse_name(f"s3://bucket/raw/{name}", today=TODAY)
    assert (
        parsed.name,
        parsed.product,
        parsed.date,
        parsed.pass_,
        parsed.resolution,
        parsed.version,
    ) == (
        name,
        product,
        date,
        pass_,
        res,
        version,
    )


def test_writers_produce_parseable_names():
    day = dt.date(2016, 2, 29)
    assert parse_name(lprm_name(day, "A", downscaled=True), today=TODAY).resolution == 0.1
    assert parse_name(jaxa_name(day, "D", resolution=0.25), today=TODAY).date == day


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("LPRM-AMSR2_L3_D_SOILM3_V001_2015040101350.nc4", "unrecognised file name"),
        ("sm_20150401.nc", "unrecognised file name"),
        (
            "LPRM-AMSR2_L3_D_SOILM3_V001_20150230013500.nc4",
            "'20150230' in the file name is not a valid date",
        ),
        ("LPRM-AMSR2_L3_D_SOILM3_V001_20210101013500.nc4", "in the future"),
        ("GW1AM2_20120101_01D_EQMD_L3SGSMCHA1100100.h5", "predates AMSR2"),
    ],
)
def test_bad_names_are_refused_with_the_reason(name, reason):
    with pytest.raises(BadInputFile, match=reason) as info:
        parse_name(f"/archive/{name}", today=TODAY)
    assert info.value.path == name
