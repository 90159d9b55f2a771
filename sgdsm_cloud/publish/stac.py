"""A STAC Collection and Item describing a published seamless cube.

Everything comes from the store's coordinates and attributes, never from the data, so describing
a 66 GB cube reads a few kilobytes. The zarr asset follows the xarray-assets conventions
(``xarray:open_kwargs``, ``xarray:storage_options``) so a reader can do
``xr.open_dataset(asset.href, storage_options=..., **open_kwargs)``; the datacube extension
describes the dimensions and variables; the processing and scientific extensions carry the
code version, the lineage and the method paper.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any, TypeVar

import numpy as np
import pandas as pd
import pystac
import xarray as xr
from pystac.extensions.datacube import DatacubeExtension, Dimension, Variable
from pystac.extensions.xarray_assets import XarrayAssetsExtension

from sgdsm_cloud.errors import ConfigError, StoreContractError
from sgdsm_cloud.product import LAST_FINAL_DAY, LAST_PROVISIONAL_DAY, SM_UNCERTAINTY
from sgdsm_cloud.schema import half_cells, is_unset
from sgdsm_cloud.versioned.reader import reference_options

ASSET_KEY = "zarr"
ZARR_MEDIA_TYPE = "application/vnd+zarr; version=3"
REFERENCES_FILE = "latest.json"  # what readers of a versioned product open
OPEN_KWARGS = {"engine": "zarr", "consolidated": True}
PROCESSING_SCHEMA = "https://stac-extensions.github.io/processing/v1.2.0/schema.json"
SCIENTIFIC_SCHEMA = "https://stac-extensions.github.io/scientific/v1.0.0/schema.json"
MAIN_VARIABLE = "sm"
_SPDX_LIKE = re.compile(r"^[\w\-.+]+$")  # the STAC 1.1 pattern of a collection's license
_Described = TypeVar("_Described", pystac.Collection, pystac.Item)  # what carries the cube


def describe(
    ds: xr.Dataset,
    href: str,
    storage_options: dict[str, Any],
    *,
    collection_id: str,
    license_id: str | None = None,
) -> pystac.Collection:
    """The Collection of the cube, holding one Item; both carry the zarr asset.

    ``href`` and ``storage_options`` are what readers use to open the cube (public URL, no
    credentials). ``license_id`` overrides the store's ``license`` attribute; one of the two must
    be an SPDX identifier (e.g. ``CC-BY-4.0``) or ``other``.
    """
    for name in ("time", "lat", "lon", MAIN_VARIABLE):
        if name not in ds.variables:
            raise StoreContractError(
                f"{href} is not a seamless cube: it lacks '{name}'; write it with 'sgdsm fill'"
            )
    attrs = ds.attrs
    start, end = _time_range(ds)
    bbox = _bbox(ds)
    title = str(attrs.get("title", "Seamless daily AMSR2 surface soil moisture"))
    description = str(attrs.get("summary", title))

    item = pystac.Item(
        id=f"{collection_id}-{start:%Y%m%d}-{end:%Y%m%d}",
        geometry=_polygon(bbox),
        bbox=bbox,
        datetime=None,
        start_datetime=start,
        end_datetime=end,
        properties={"title": title, "description": description, **_provenance(attrs)},
    )
    collection = pystac.Collection(
        id=collection_id,
        title=title,
        description=description,
        license=_license(attrs, license_id),
        keywords=[k.strip() for k in str(attrs.get("keywords", "")).split(",") if k.strip()]
        or None,
        providers=_providers(attrs) or None,
        extent=pystac.Extent(pystac.SpatialExtent([bbox]), pystac.TemporalExtent([[start, end]])),
        extra_fields=_publications(attrs),
    )
    if collection.extra_fields:
        collection.stac_extensions.append(SCIENTIFIC_SCHEMA)
    if any(key.startswith("processing:") for key in item.properties):
        item.stac_extensions.append(PROCESSING_SCHEMA)
    _add_cube(collection, ds, start, end, _zarr_asset(href, storage_options, title))
    _add_cube(item, ds, start, end, _zarr_asset(href, storage_options, title))
    for link in _links(attrs):
        collection.add_link(link)
    collection.add_item(item)
    return collection


def _add_cube(
    target: _Described, ds: xr.Dataset, start: datetime, end: datetime, asset: pystac.Asset
) -> None:
    """The datacube description and the zarr asset, on the Collection or on the Item."""
    DatacubeExtension.ext(target, add_if_missing=True).apply(
        _dimensions(ds, start, end), _variables(ds)
    )
    target.add_asset(ASSET_KEY, asset)
    XarrayAssetsExtension.ext(target.assets[ASSET_KEY], add_if_missing=True)


def _zarr_asset(href: str, storage_options: dict[str, Any], title: str) -> pystac.Asset:
    if href.endswith(REFERENCES_FILE):  # a versioned product: its newest version's references
        return pystac.Asset(
            href=href,
            title=f"{title} (zarr v3 through references: xr.open_zarr('reference://', "
            "storage_options=xarray:storage_options))",
            media_type="application/json",
            roles=["data", "references"],
            extra_fields={
                "xarray:open_kwargs": dict(OPEN_KWARGS),
                "xarray:storage_options": reference_options(href, storage_options, fresh=True),
            },
        )
    fields: dict[str, Any] = {"xarray:open_kwargs": dict(OPEN_KWARGS)}
    if storage_options:
        fields["xarray:storage_options"] = dict(storage_options)
    return pystac.Asset(
        href=href,
        title=f"{title} (zarr v3)",
        media_type=ZARR_MEDIA_TYPE,
        roles=["data", "zarr"],
        extra_fields=fields,
    )


def _time_range(ds: xr.Dataset) -> tuple[datetime, datetime]:
    times = pd.DatetimeIndex(ds["time"].values)
    if times.empty:
        raise StoreContractError("the cube has no days (empty 'time' axis); nothing to publish")
    return (
        times[0].to_pydatetime().replace(tzinfo=UTC),
        times[-1].to_pydatetime().replace(tzinfo=UTC),
    )


def _bbox(ds: xr.Dataset) -> list[float]:
    """``[west, south, east, north]`` of the cell edges, clipped to the globe."""
    lat, lon = np.asarray(ds["lat"].values, float), np.asarray(ds["lon"].values, float)
    half_lat, half_lon = half_cells(lat, lon)
    return [
        max(float(lon.min() - half_lon), -180.0),
        max(float(lat.min() - half_lat), -90.0),
        min(float(lon.max() + half_lon), 180.0),
        min(float(lat.max() + half_lat), 90.0),
    ]


def _polygon(bbox: list[float]) -> dict[str, Any]:
    west, south, east, north = bbox
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


def _dimensions(ds: xr.Dataset, start: datetime, end: datetime) -> dict[str, Dimension]:
    lat, lon = np.asarray(ds["lat"].values, float), np.asarray(ds["lon"].values, float)

    def spatial(axis: str, values: np.ndarray, description: str) -> Dimension:
        step = float(values[1] - values[0]) if values.size > 1 else None
        extent = [float(values.min()), float(values.max())]
        props = {
            "type": "spatial",
            "axis": axis,
            "extent": extent,
            "step": step,
            "reference_system": 4326,
        }
        return Dimension.from_dict({**props, "description": description})

    return {
        "time": Dimension.from_dict(
            {
                "type": "temporal",
                "extent": [_iso(start), _iso(end)],
                "step": "P1D",
                "description": "day (UTC)",
            }
        ),
        "lat": spatial("y", lat, "latitude of the cell centre, north-up"),
        "lon": spatial("x", lon, "longitude of the cell centre"),
    }


def _variables(ds: xr.Dataset) -> dict[str, Variable]:
    """One entry per data variable; ``sm`` is the data, the rest (flag, sm_uncertainty, land)
    auxiliary. ``sm_uncertainty``'s description carries its comment: where its values come
    from (the model's error model, the source's error estimate) or why they are missing."""
    variables = {}
    for name, var in ds.data_vars.items():
        attrs = var.attrs
        props: dict[str, Any] = {
            "type": "data" if name == MAIN_VARIABLE else "auxiliary",
            "dimensions": list(var.dims),
            "description": str(attrs.get("long_name", name)),
        }
        if name == SM_UNCERTAINTY and attrs.get("comment"):
            props["description"] = f"{props['description']}. {attrs['comment']}"
        if attrs.get("units") not in (None, "", "1"):
            props["unit"] = str(attrs["units"])
        if "valid_min" in attrs and "valid_max" in attrs:
            props["extent"] = [float(attrs["valid_min"]), float(attrs["valid_max"])]
        if "flag_values" in attrs:
            values = [int(v) for v in np.atleast_1d(attrs["flag_values"])]
            meanings = str(attrs.get("flag_meanings", "")).split()
            props["values"] = values
            if len(meanings) == len(values):
                legend = ", ".join(f"{v} {m}" for v, m in zip(values, meanings))
                props["description"] = f"{props['description']} ({legend})"
        variables[str(name)] = Variable.from_dict(props)
    return variables


def _license(attrs: dict[str, Any], override: str | None) -> str:
    value = (override or str(attrs.get("license", ""))).strip()
    if is_unset(value):
        raise ConfigError(
            "the cube has no 'license' attribute; pass --license with an SPDX identifier (e.g. CC-BY-4.0)"
        )
    if _SPDX_LIKE.match(value):
        return value
    if override:
        raise ConfigError(
            f"--license must be an SPDX identifier such as CC-BY-4.0 (or 'other'), got {value!r}"
        )
    return "other"  # free-text licence: the text goes to a link when it holds a URL (see _links)


def _providers(attrs: dict[str, Any]) -> list[pystac.Provider]:
    providers = []
    if not is_unset(attrs.get("creator_name")):
        providers.append(
            pystac.Provider(
                str(attrs["creator_name"]),
                roles=[pystac.ProviderRole.PRODUCER, pystac.ProviderRole.PROCESSOR],
                url=_known(attrs.get("creator_url")),
            )
        )
    if not is_unset(attrs.get("publisher_name")):
        providers.append(
            pystac.Provider(
                str(attrs["publisher_name"]),
                roles=[pystac.ProviderRole.HOST],
                url=_known(attrs.get("publisher_url")),
            )
        )
    return providers


def _known(value: Any) -> str | None:
    return None if is_unset(value) else str(value)


def _publications(attrs: dict[str, Any]) -> dict[str, Any]:
    if not attrs.get("method_doi"):
        return {}
    publication = {"doi": str(attrs["method_doi"]), "citation": str(attrs.get("references", ""))}
    return {"sci:publications": [publication]}


def _provenance(attrs: dict[str, Any]) -> dict[str, Any]:
    """Code version, processing time, lineage and the network's weights digest."""
    props: dict[str, Any] = {}
    version = attrs.get("sgdsm_cloud_version") or attrs.get("product_version")
    if version:
        props["processing:software"] = {"sgdsm_cloud": str(version)}
    if attrs.get("history"):
        props["processing:lineage"] = str(attrs["history"])
    if attrs.get("date_created"):
        props["processing:datetime"] = str(attrs["date_created"])
        props["created"] = str(attrs["date_created"])
    if attrs.get("model_sha256"):
        props["sgdsm:model_sha256"] = str(attrs["model_sha256"])
    if attrs.get("model_config"):
        props["sgdsm:model_config"] = _json_or_text(attrs["model_config"])
    if attrs.get("model_uncertainty"):  # the error model behind sm_uncertainty
        props["sgdsm:model_uncertainty"] = _json_or_text(attrs["model_uncertainty"])
    if attrs.get("sgdsm_version"):
        props["sgdsm:version"] = int(attrs["sgdsm_version"])
    for name in (LAST_FINAL_DAY, LAST_PROVISIONAL_DAY):  # which days may still change
        if attrs.get(name):
            props[f"sgdsm:{name}"] = str(attrs[name])
    if attrs.get("version_granules"):  # the granules, by name and SHA-256, this version took in
        props["sgdsm:version_granules"] = _json_or_text(attrs["version_granules"])
    return props


def _links(attrs: dict[str, Any]) -> list[pystac.Link]:
    url = re.search(r"https?://\S+", str(attrs.get("license", "")))
    return (
        [pystac.Link(pystac.RelType.LICENSE, url.group(0).rstrip(".,;)"), title="License")]
        if url
        else []
    )


def _json_or_text(value: Any) -> Any:
    try:
        return json.loads(value) if isinstance(value, str) else value
    except json.JSONDecodeError:
        return value


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
