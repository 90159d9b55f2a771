"""Earthdata credentials fail clearly and never leak: a missing, wrong or expired token stops
``sgdsm ingest`` with one line naming EARTHDATA_TOKEN before any file is read, ~/.netrc works
as earthaccess reads it, and a canary token appears in no log, message, attribute or file."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
import xarray as xr

from sgdsm_cloud.cli import main
from sgdsm_cloud.errors import AuthenticationError
from sgdsm_cloud.ingest import earthdata
from sgdsm_cloud.ingest.sources import list_sources, read_bytes
from sgdsm_cloud.storage import Location, redact
from sgdsm_cloud.testing.earthdata import EarthdataServer, HttpFaults, jwt

COLLECTION = "LPRM_AMSR2_D_SOILM3"
CANARY = "CANARY-7f3a9c2e-earthdata-token"
STALE = "stale-token-known-to-the-server-only"
DAYS = 4


@pytest.fixture
def server(tmp_path, real_lprm_dir, monkeypatch):
    archive = tmp_path / "archive"
    archive.mkdir()
    for path in sorted(real_lprm_dir.glob("*.nc4"))[:DAYS]:
        (archive / path.name).symlink_to(path)
    (archive / "LPRM-AMSR2_L3_D_SOILM3_V001_20150420013500.nc4").write_bytes(b"\x89HDF junk")
    home = tmp_path / "home"
    home.mkdir()
    with EarthdataServer(
        {COLLECTION: archive},
        (CANARY,),
        expired=(STALE,),
        users={"alice": ("s3cret-password", CANARY)},
    ) as running:
        monkeypatch.setenv(earthdata.CMR_ENV, running.url)
        monkeypatch.setenv(earthdata.URS_ENV, running.url)
        monkeypatch.setenv("HOME", str(home))
        monkeypatch.delenv("NETRC", raising=False)
        monkeypatch.delenv(earthdata.TOKEN_ENV, raising=False)
        yield running


def cli(*sources: str, store, capsys) -> tuple[int, str]:
    code = main(
        ["ingest", *sources, "--store", str(store), "--variable", "x", "--workers", "1"]
        + ["--bbox", "0,40,10,45"]
    )
    captured = capsys.readouterr()
    return code, captured.err + captured.out


def assert_stopped_before_reading(server, code, output, *fragments):
    lines = [line for line in output.splitlines() if line.strip()]
    assert code == 1
    assert len(lines) == 1, lines
    assert "EARTHDATA_TOKEN" in lines[0]
    assert all(f in lines[0] for f in fragments), lines[0]
    assert server.stats.files_read == []  # no file's bytes went out
    assert CANARY not in output and STALE not in output


def test_a_missing_token_stops_before_any_request(server, tmp_path, capsys):
    code, output = cli(f"earthdata:{COLLECTION}", store=tmp_path / "c.zarr", capsys=capsys)
    assert_stopped_before_reading(server, code, output, "no Earthdata credentials")
    assert server.stats.requests.total() == 0
    assert not (tmp_path / "c.zarr").exists()


def test_a_missing_token_for_an_https_listing_stops_at_the_first_401(server, tmp_path, capsys):
    url = server.collection_url(COLLECTION)
    code, output = cli(url, store=tmp_path / "c.zarr", capsys=capsys)
    assert_stopped_before_reading(server, code, output, "none were found")


def test_a_wrong_token_stops_at_the_cmr_search(server, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv(earthdata.TOKEN_ENV, "not-a-valid-token")
    code, output = cli(f"earthdata:{COLLECTION}", store=tmp_path / "c.zarr", capsys=capsys)
    assert_stopped_before_reading(server, code, output, "refused the Earthdata token")
    assert "not-a-valid-token" not in output
    assert server.stats.requests["HEAD data"] == 0


def test_a_wrong_token_stops_at_the_first_head_of_a_file_url(server, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv(earthdata.TOKEN_ENV, "not-a-valid-token")
    urls = [server.granule_url(COLLECTION, p.name) for p in server.files(COLLECTION)]
    code, output = cli(*urls, store=tmp_path / "c.zarr", capsys=capsys)
    assert_stopped_before_reading(server, code, output, "refused the Earthdata token")
    assert server.stats.requests["HEAD data"] == 1  # the first HEAD alone, then the stop


def test_an_expired_jwt_stops_before_any_request(server, tmp_path, capsys, monkeypatch):
    token = jwt(dt.datetime(2024, 5, 1, tzinfo=dt.UTC))
    monkeypatch.setenv(earthdata.TOKEN_ENV, token)
    code, output = cli(f"earthdata:{COLLECTION}", store=tmp_path / "c.zarr", capsys=capsys)
    assert_stopped_before_reading(server, code, output, "expired on 2024-05-01")
    assert token not in output and server.stats.requests.total() == 0


def test_a_token_the_server_says_has_expired_stops_with_that_reason(
    server, tmp_path, capsys, monkeypatch
):
    monkeypatch.setenv(earthdata.TOKEN_ENV, STALE)
    code, output = cli(f"earthdata:{COLLECTION}", store=tmp_path / "c.zarr", capsys=capsys)
    assert_stopped_before_reading(server, code, output, "it has expired")


def test_netrc_login_is_exchanged_for_a_token(server, tmp_path, capsys):
    netrc = tmp_path / "home" / ".netrc"
    netrc.write_text(f"machine {earthdata.URS_MACHINE} login alice password s3cret-password\n")
    netrc.chmod(0o600)
    code, output = cli(f"earthdata:{COLLECTION}", store=tmp_path / "c.zarr", capsys=capsys)
    assert code == 3  # the junk file is quarantined; the good days land
    assert len(server.stats.files_read) == DAYS + 1
    assert "s3cret-password" not in output and CANARY not in output

    netrc.write_text(f"machine {earthdata.URS_MACHINE} login alice password wrong\n")
    server.reset_stats()
    code, output = cli(f"earthdata:{COLLECTION}", store=tmp_path / "d.zarr", capsys=capsys)
    assert_stopped_before_reading(server, code, output, "refused the login")


def test_the_canary_token_appears_nowhere(server, tmp_path, capsys, caplog, monkeypatch):
    monkeypatch.setenv(earthdata.TOKEN_ENV, CANARY)
    server.faults = HttpFaults(too_many=0.2, reset_mid=0.2, unavailable=0.1, max_consecutive=2)
    store = tmp_path / "canary.zarr"
    with caplog.at_level(logging.DEBUG):
        code, output = cli(f"earthdata:{COLLECTION}", store=store, capsys=capsys)
        listing_code, listing_output = cli(
            server.collection_url(COLLECTION), store=tmp_path / "l.zarr", capsys=capsys
        )
    assert code == listing_code == 3  # a quarantined file: warnings were logged
    assert sum(server.stats.faults.values()) > 0  # retries were logged
    assert server.stats.authorization_headers  # the token did travel, in the header only
    assert CANARY not in output + listing_output
    assert CANARY not in caplog.text
    assert all(CANARY not in str(r.args) for r in caplog.records)
    ds = xr.open_zarr(store)
    assert CANARY not in repr(ds.attrs) and CANARY not in repr(ds.to_dict(data=False))
    assert CANARY not in " ".join(map(str, ds["source_file"].values))
    for path in store.rglob("*"):
        if path.is_file():
            assert CANARY.encode() not in path.read_bytes(), path


def test_a_token_refused_mid_run_stops_with_one_line_and_no_token(server, monkeypatch):
    monkeypatch.setenv(earthdata.TOKEN_ENV, CANARY)
    sources = list_sources((Location(f"earthdata:{COLLECTION}"),))
    assert all(CANARY not in repr(s) for s in sources)
    server.tokens.clear()  # revoked after the listing
    with pytest.raises(AuthenticationError) as caught:
        read_bytes(sources[0])
    assert "EARTHDATA_TOKEN" in str(caught.value) and CANARY not in str(caught.value)


def test_redact_hides_the_token_from_the_environment_and_from_netrc(monkeypatch):
    monkeypatch.setenv(earthdata.TOKEN_ENV, CANARY)
    assert redact(f"Authorization: Bearer {CANARY}") == "Authorization: Bearer ***"
    token = earthdata.credentials(required=True)
    assert token is not None and CANARY not in repr(token)
    monkeypatch.delenv(earthdata.TOKEN_ENV)
    assert CANARY not in redact(f"x {CANARY}")  # registered when read


def test_expiry_reads_the_jwt_exp_claim():
    when = dt.datetime(2030, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    assert earthdata.expiry(jwt(when)) == when
    assert earthdata.expiry("opaque-token") is None
    assert earthdata.expiry("a.b.c") is None
