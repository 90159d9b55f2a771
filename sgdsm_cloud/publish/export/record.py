"""The export folder's record: what it holds, and the files written so far (resume)."""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np
import xarray as xr

from sgdsm_cloud.errors import ConfigError
from sgdsm_cloud.outputs import Folder, OutputKind, read_marker
from sgdsm_cloud.publish.export.config import ExportConfig, Names
from sgdsm_cloud.storage import Location, public_url, write_atomic

MANIFEST = "sgdsm-export.json"

LAYOUT = "sgdsm-netcdf-1"  # bumped when the file layout changes

_DAY_FILE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*_\d{8}\.nc$")

_RECORD = re.compile(rf"^{re.escape(MANIFEST)}(\.[0-9a-f]{{32}}\.tmp)?$")

_PART_FILE = re.compile(r"^\.[A-Za-z0-9][A-Za-z0-9._-]*_\d{8}\.nc\.part-[0-9a-f]{12}$")


def _is_export(folder: Folder) -> bool:
    record = folder.read_json(MANIFEST)
    return isinstance(record, dict) and record.get("layout") == LAYOUT


# A folder of daily files: its record, the files, and a killed run's hidden partial files

EXPORT_FOLDER = OutputKind(
    "folder of daily files",
    "sgdsm export",
    _is_export,
    lambda name: bool(_RECORD.match(name) or _DAY_FILE.match(name) or _PART_FILE.match(name)),
)


def record_of(
    ds: xr.Dataset,
    source: xr.Dataset | Location,
    lat: np.ndarray,
    lon: np.ndarray,
    names: Names,
    prefix: str,
) -> dict[str, Any]:
    """What the directory holds: a re-run resumes only the same export."""
    return {
        "layout": LAYOUT,
        "prefix": prefix,
        "cube": public_url(source.url) if isinstance(source, Location) else None,
        "cube_date_created": str(ds.attrs.get("date_created", "")),
        "model_sha256": str(ds.attrs.get("model_sha256", "")),
        "lat": [float(lat[0]), float(lat[-1]), int(lat.size)],
        "lon": [float(lon[0]), float(lon[-1]), int(lon.size)],
        "variables": names.all(),
    }


def resumed_record(out: Location, record: dict[str, Any], config: ExportConfig) -> dict[str, Any]:
    """The record this run keeps up to date: the folder's own when it holds the same export
    (its files are resumed), else ``record`` with no file yet. Nothing is written here."""
    previous = read_marker(out.child(MANIFEST))
    files: dict[str, Any] = {}
    if isinstance(previous, dict) and not config.overwrite:
        keys = [k for k in record if k != "cube" and previous.get(k) != record[k]]
        if record["cube"] and previous.get("cube") and previous["cube"] != record["cube"]:
            keys.insert(0, "cube")
        if keys:
            raise ConfigError(
                f"{out.url} holds another export ({', '.join(keys)} differ: "
                f"{ {k: previous.get(k) for k in keys} }); give another --out, or --overwrite to "
                "replace its files"
            )
        recorded = previous.get("files")
        files = dict(recorded) if isinstance(recorded, dict) else {}
    return {**record, "files": files}


def complete_files(out: Location, record: dict[str, Any]) -> set[str]:
    """Names of the files the record lists whose size on disk is the recorded one. Other files
    are written again; leftover partial files of a killed run go."""
    fs = out.filesystem()
    fs.invalidate_cache(out.path)
    if not fs.exists(out.path):
        return set()
    sizes = {
        str(e["name"]).rstrip("/").rsplit("/", 1)[-1]: e.get("size")
        for e in fs.ls(out.path, detail=True)
    }
    for leftover in (n for n in sizes if _PART_FILE.match(n)):
        try:
            fs.rm(f"{out.path}/{leftover}")
        except FileNotFoundError:  # another process removed or renamed it
            pass
    return {name for name, entry in record["files"].items() if sizes.get(name) == entry["size"]}


def write_record(out: Location, record: dict[str, Any]) -> None:
    """Replace the record in one step (a rename on a local disk, one upload on a store)."""
    write_atomic(out.child(MANIFEST), json.dumps(record, indent=1, sort_keys=True).encode())
