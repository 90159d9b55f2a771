"""The hostile inputs of tests/data/badfiles.py, served by the loopback Earthdata and found
through CMR, are quarantined with the same reasons as from local disk, and every good day lands
with the same values, through injected 429/503 answers and connection resets."""

from __future__ import annotations

import os
from urllib.parse import quote, unquote

import numpy as np
import pytest
import xarray as xr
from data.badfiles import write_hostile_corpus

from sgdsm_cloud.cli import main
from sgdsm_cloud.ingest import earthdata
from sgdsm_cloud.ingest.quarantine import printable
from sgdsm_cloud.testing.earthdata import EarthdataServer, HttpFaults

from .conftest import report

COLLECTION = "LPRM_AMSR2_D_SOILM3"
TOKEN = "hostile-test-token-42"


def quarantine(store) -> dict[str, str]:
    """Reasons by file name, as the store writes names (URLs' names decoded)."""
    return {
        printable(unquote(q["file"].rsplit("/", 1)[1], errors="surrogateescape")): q["reason"]
        for q in xr.open_zarr(store).attrs["quarantine"]
    }


@pytest.mark.parametrize(
    "faults",
    [HttpFaults(), HttpFaults(too_many=0.1, unavailable=0.1, reset_before=0.1, reset_mid=0.1)],
    ids=["clean", "faults"],
)
def test_hostile_files_served_over_http_are_quarantined_as_local_ones(
    tmp_path, capsys, monkeypatch, faults
):
    corpus = write_hostile_corpus(tmp_path / "corpus")
    options = ["--variable", "x", "--chunks", "4,10,20", "--workers", "1"]
    local = str(tmp_path / "local.zarr")
    assert main(["-q", "ingest", str(corpus.directory), "--store", local, *options]) == 3
    capsys.readouterr()

    with EarthdataServer({COLLECTION: corpus.directory}, (TOKEN,), faults=faults) as server:
        monkeypatch.setenv(earthdata.CMR_ENV, server.url)
        monkeypatch.setenv(earthdata.TOKEN_ENV, TOKEN)
        served = {printable(p.name): quote(os.fsencode(p.name)) for p in server.files(COLLECTION)}
        remote = str(tmp_path / "remote.zarr")
        code = main(["-q", "ingest", f"earthdata:{COLLECTION}", "--store", remote, *options])
        lines = capsys.readouterr().err.splitlines()
    assert code == 3, lines
    expected = {name: reason for name, reason in quarantine(local).items() if name in served}
    got = quarantine(remote)
    assert got == expected
    assert len(got) >= 20
    for name in got:  # one stderr line each, naming the URL
        [line] = [line for line in lines if f"/{served[name]}: " in line]
        assert "quarantined http://127.0.0.1:" in line
    a, b = xr.open_zarr(local), xr.open_zarr(remote)
    np.testing.assert_array_equal(a["sm"].values, b["sm"].values)
    np.testing.assert_array_equal(a["day_status"].values, b["day_status"].values)
    np.testing.assert_array_equal(a["source_sha256"].values, b["source_sha256"].values)
    report(
        f"earthdata hostile {faults.total:.1f}",
        quarantined=len(got),
        faults=dict(server.stats.faults),
    )
