"""``sgdsm publish`` through ``main()``: prints the catalogue URL, or one line naming the problem."""

from __future__ import annotations

import json

from sgdsm_cloud import cli


def test_publish_writes_the_catalogue_and_prints_its_url(tmp_path, cube_store, capsys):
    out = tmp_path / "stac"
    code = cli.main(
        [
            "publish",
            "--filled",
            cube_store,
            "--stac-out",
            str(out),
            "--collection-id",
            "sgdsm-demo",
            "--license",
            "CC0-1.0",
        ]
    )
    assert code == cli.EXIT_OK
    assert capsys.readouterr().out.strip() == str(out / "collection.json")
    collection = json.loads((out / "collection.json").read_text())
    assert (collection["id"], collection["license"]) == ("sgdsm-demo", "CC0-1.0")


def test_missing_cube_is_one_line_naming_it(tmp_path, capsys):
    missing = tmp_path / "nowhere.zarr"
    code = cli.main(["publish", "--filled", str(missing), "--stac-out", str(tmp_path / "stac")])
    err = capsys.readouterr().err
    assert code == cli.EXIT_ERROR
    assert len(err.strip().splitlines()) == 1 and str(missing) in err and "does not exist" in err
    assert not (tmp_path / "stac").exists()
