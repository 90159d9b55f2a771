"""Ingest from NASA Earthdata over real HTTP on loopback (sgdsm_cloud.testing.earthdata): a
collection found through CMR, an HTTP directory listing and plain https URLs give the same cube
as the same files on local disk, through 429/503 answers and connection resets, and resume."""

from __future__ import annotations

import json

import pytest

from ingest.helpers import assert_same_store, snapshot
from sgdsm_cloud.grid import BBox
from sgdsm_cloud.ingest import IngestConfig, earthdata, http, ingest
from sgdsm_cloud.ingest.sources import list_sources, read_bytes
from sgdsm_cloud.storage import Location
from sgdsm_cloud.testing.earthdata import EarthdataServer, HttpFaults

COLLECTION = "LPRM_AMSR2_D_SOILM3"
TOKEN = "loopback-token-0123456789"
BOX = BBox(0.0, 40.0, 10.0, 45.0)
DAYS = 6  # real files served (of 15)


@pytest.fixture
def archive(tmp_path, real_lprm_dir):
    """The first DAYS real LPRM files, linked into their own directory."""
    directory = tmp_path / "archive"
    directory.mkdir()
    for path in sorted(real_lprm_dir.glob("*.nc4"))[:DAYS]:
        (directory / path.name).symlink_to(path)
    return directory


@pytest.fixture
def server(archive, monkeypatch, tmp_path):
    """The loopback Earthdata serving ``archive``; the environment points CMR at it."""
    with EarthdataServer({COLLECTION: archive}, (TOKEN,)) as running:
        monkeypatch.setenv(earthdata.CMR_ENV, running.url)
        monkeypatch.setenv(earthdata.TOKEN_ENV, TOKEN)
        monkeypatch.setenv("HOME", str(tmp_path / "home"))
        monkeypatch.delenv("NETRC", raising=False)
        yield running


def run(source: str, store, client=None, **kw):
    kw.setdefault("variable", "x")
    kw.setdefault("bbox", BOX)
    location = Location(source) if "://" in source or source.startswith("earthdata:") else None
    config = IngestConfig((location or Location(str(source)),), Location(str(store)), **kw)
    return ingest(config, client=client)


@pytest.fixture
def local_cube(archive, tmp_path):
    store = tmp_path / "local.zarr"
    run(str(archive), store)
    return snapshot(str(store))


def test_a_collection_found_through_cmr_ingests_byte_for_byte_as_the_local_files(
    server, local_cube, tmp_path
):
    store = tmp_path / "earthdata.zarr"
    report = run(f"earthdata:{COLLECTION}", store)
    assert (report.ingested, report.quarantined) == (DAYS, ())
    assert_same_store(snapshot(str(store)), local_cube)
    assert server.stats.requests["GET search"] == 1
    assert len(server.stats.files_read) == DAYS  # each file read once


def test_cmr_pages_follow_the_search_after_header(server, local_cube, tmp_path, monkeypatch):
    monkeypatch.setattr(earthdata, "PAGE_SIZE", 4)  # 6 granules: pages of 4 and 2
    store = tmp_path / "paged.zarr"
    run(f"earthdata:{COLLECTION}", store)
    assert server.stats.requests["GET search"] == 2
    assert_same_store(snapshot(str(store)), local_cube)


def test_an_http_directory_listing_and_plain_https_urls_ingest_as_the_local_files(
    server, archive, local_cube, tmp_path
):
    listing = tmp_path / "listing.zarr"
    run(server.collection_url(COLLECTION), listing)
    assert_same_store(snapshot(str(listing)), local_cube)

    names = sorted(p.name for p in archive.iterdir())
    urls = tuple(Location(server.granule_url(COLLECTION, n)) for n in names)
    store = tmp_path / "urls.zarr"
    ingest(IngestConfig(urls, Location(str(store)), variable="x", bbox=BOX))
    assert_same_store(snapshot(str(store)), local_cube)


def test_429_503_and_connection_resets_are_retried_and_change_nothing(server, local_cube, tmp_path):
    server.faults = HttpFaults(
        too_many=0.15, unavailable=0.15, reset_before=0.15, reset_mid=0.15, max_consecutive=2
    )
    store = tmp_path / "faults.zarr"
    report = run(f"earthdata:{COLLECTION}", store)
    assert report.quarantined == ()
    assert_same_store(snapshot(str(store)), local_cube)
    assert all(server.stats.faults[k] > 0 for k in ("too_many", "unavailable", "reset_before"))
    assert server.stats.faults["reset_mid"] > 0


def test_a_rerun_reads_no_file_and_a_run_with_workers_matches(server, local_cube, tmp_path, client):
    store = tmp_path / "resume.zarr"
    run(f"earthdata:{COLLECTION}", store, end="2015-04-03")  # a first, shorter run
    server.reset_stats()
    report = run(f"earthdata:{COLLECTION}", store)
    assert (report.unchanged, report.ingested) == (3, DAYS - 3)
    assert len(server.stats.files_read) == DAYS - 3
    assert_same_store(snapshot(str(store)), local_cube)
    server.reset_stats()
    again = run(f"earthdata:{COLLECTION}", store)
    assert (again.unchanged, again.ingested, server.stats.files_read) == (DAYS, 0, [])

    parallel = tmp_path / "parallel.zarr"
    run(f"earthdata:{COLLECTION}", parallel, client)  # slabs on worker processes
    assert_same_store(snapshot(str(parallel)), local_cube)


def test_provenance_names_the_file_and_quarantine_the_url_without_credentials(
    server, archive, tmp_path
):
    (archive / "LPRM-AMSR2_L3_D_SOILM3_V001_20150420013500.nc4").write_bytes(b"not hdf5")
    store = tmp_path / "bad.zarr"
    report = run(f"earthdata:{COLLECTION}", store)
    [record] = report.quarantined
    assert record.file == server.granule_url(COLLECTION, record.file.rsplit("/", 1)[1])
    assert "readable" in record.reason
    cube = snapshot(str(store))
    assert all("://" not in str(name) for name in cube["source_file"])


def test_sources_list_with_sizes_and_read_back_the_same_bytes(server, archive):
    sources = list_sources((Location(f"earthdata:{COLLECTION}"),))
    assert [s.name for s in sources] == sorted(p.name for p in archive.iterdir())
    for source in sources[:2]:
        data = read_bytes(source)
        assert source.size == len(data) == (archive / source.name).stat().st_size
        assert TOKEN not in repr(source.location)


def test_a_missing_granule_is_quarantined_and_a_missing_url_is_a_config_error(server, tmp_path):
    from sgdsm_cloud.errors import ConfigError

    missing = server.granule_url(COLLECTION, "LPRM-AMSR2_L3_D_SOILM3_V001_20150430013500.nc4")
    with pytest.raises(ConfigError, match="does not exist"):
        list_sources((Location(missing),))
    with pytest.raises(ConfigError, match="cannot be listed"):
        list_sources((Location(server.url + "/data/WAOB/NOPE.001/"),))


def test_cmr_data_links_pick_the_granules_own_https_archive_link():
    entry = {
        "links": [
            {"rel": "http://esipfed.org/ns/fedsearch/1.1/s3#", "href": "s3://b/f.nc4"},
            {"rel": "http://esipfed.org/ns/fedsearch/1.1/data#", "href": "https://x/readme.pdf"},
            {"rel": "http://esipfed.org/ns/fedsearch/1.1/data#", "href": "https://x/a/f.nc4"},
            {
                "inherited": True,
                "rel": "http://esipfed.org/ns/fedsearch/1.1/data#",
                "href": "https://x/collection.nc4",
            },
        ]
    }
    assert earthdata.data_link(entry) == "https://x/a/f.nc4"
    assert earthdata.data_link({"links": []}) is None


def test_listing_links_stay_under_the_directory():
    page = (
        '<a href="?C=N;O=D">Name</a><a href="../">Parent Directory</a><a href="2015/">2015/</a>'
        '<a href="f.nc4">f.nc4</a><a href="https://elsewhere/g.nc4">g</a><a href="/data/">up</a>'
    )
    files, dirs = http.links(page, "https://h/data/C.001/")
    assert files == ["https://h/data/C.001/f.nc4"]
    assert dirs == ["https://h/data/C.001/2015/"]


def test_the_token_goes_only_to_nasa_hosts_and_the_cmr_host_over_https(monkeypatch):
    monkeypatch.setenv(earthdata.CMR_ENV, "https://cmr.example.org")
    assert earthdata.sends_token_to("https://data.gesdisc.earthdata.nasa.gov/data/x.nc4")
    assert earthdata.sends_token_to("https://cmr.example.org/search")
    assert not earthdata.sends_token_to("http://data.gesdisc.earthdata.nasa.gov/x.nc4")
    assert not earthdata.sends_token_to("https://nasa.gov.evil.org/x.nc4")
    assert not earthdata.sends_token_to("https://example.org/x.nc4")


def test_cmr_search_json_is_the_documented_shape(server):
    answer = http.get(
        f"{server.url}/search/granules.json?short_name={COLLECTION}&page_size=2", None
    )
    feed = json.loads(answer.body)["feed"]
    assert answer.headers["cmr-hits"] == str(DAYS) and "cmr-search-after" in answer.headers
    entry = feed["entry"][0]
    assert {"title", "time_start", "time_end", "links", "producer_granule_id"} <= entry.keys()
