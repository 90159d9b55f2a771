"""``sgdsm synth`` end to end through ``cli.main``."""

from __future__ import annotations

import xarray as xr

from sgdsm_cloud import cli
from sgdsm_cloud.formats import read_day


def test_cli_writes_files_and_truth_and_says_where(tmp_path, capsys):
    out = tmp_path / "archive"
    rc = cli.main(
        [
            "-q",
            "synth",
            str(out),
            "--start",
            "2015-04-01",
            "--end",
            "2015-04-03",
            "--bbox",
            "0,44,4,48",
            "--pass",
            "A",
            "--seed",
            "5",
        ]
    )
    assert rc == 0
    files = sorted(out.glob("LPRM-AMSR2_L3_A_SOILM3_V001_*.nc4"))
    assert len(files) == 3 and read_day(str(files[0])).values.shape == (16, 16)
    assert xr.open_zarr(out / "truth.zarr").sizes["time"] == 3
    printed = capsys.readouterr().out
    assert str(out) in printed and "truth.zarr" in printed


def test_cli_reports_a_bad_period_in_one_line(tmp_path, capsys):
    rc = cli.main(["synth", str(tmp_path), "--start", "2015-04-03", "--end", "2015-04-01"])
    assert rc == cli.EXIT_ERROR
    err = capsys.readouterr().err
    assert "before start" in err and "Traceback" not in err
