"""The seamless product's opener: it refuses what ``sgdsm fill`` did not write, by name."""

from __future__ import annotations

import subprocess
import sys

import pytest
from publish.cubes import seamless_cube, write_cube  # tests/ is on sys.path (rootdir)

import sgdsm_cloud
from sgdsm_cloud.errors import StoreContractError
from sgdsm_cloud.product import FLAG_MEANINGS, open_seamless


def test_open_seamless_reads_what_fill_writes_and_refuses_a_raw_cube(tmp_path):
    url, raw = str(tmp_path / "seamless.zarr"), str(tmp_path / "raw.zarr")
    write_cube(seamless_cube(), url)
    ds = open_seamless(url)
    assert ds["flag"].attrs["flag_meanings"] == FLAG_MEANINGS and ds.sizes["time"] == 6
    seamless_cube().drop_vars("flag").to_zarr(raw, zarr_format=3, consolidated=False)
    with pytest.raises(StoreContractError, match=r"not a seamless sgdsm cube: missing .*'flag'"):
        open_seamless(raw)
    with pytest.raises(StoreContractError, match="run 'sgdsm fill' first"):
        open_seamless(str(tmp_path / "nothing.zarr"))


def test_a_cube_with_other_flag_meanings_is_refused(tmp_path):
    cube = seamless_cube()
    cube["flag"].attrs["flag_meanings"] = "missing observed filled"
    url = str(tmp_path / "other.zarr")
    write_cube(cube, url)
    with pytest.raises(StoreContractError, match="re-run 'sgdsm fill'"):
        open_seamless(url)


def test_the_notebook_api_loads_on_first_use():
    code = (
        "import sys, sgdsm_cloud; heavy = {'xarray', 'torch', 'dask'} & set(sys.modules); "
        "sgdsm_cloud.open_seamless; print(sorted(heavy), 'xarray' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["[]", "True"]
    assert set(sgdsm_cloud.__all__) == {"__version__", "open_cube", "open_seamless", "fill_dataset"}
    assert sgdsm_cloud.fill_dataset.__module__ == "sgdsm_cloud.fill.api"
    with pytest.raises(AttributeError):
        sgdsm_cloud.no_such_thing  # noqa: B018
