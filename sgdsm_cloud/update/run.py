"""``update``: bring a seamless product up to date with its sources, as one new version.

1. **Ingest** the sources into the raw cube: new days are appended; granules of the last
   ``look_back`` days, and any the catalogue calls revised, are read again and ingested anew
   if their bytes changed (``IngestConfig.recheck_days``). An Earthdata collection is listed
   from the last day minus ``look_back`` on.
2. **Plan** from the granules behind each day (``update.plan``): the new days, the changed
   ones, and the days whose window changed.
3. **Refill** those days only, tile by tile, with the model the product records; the other
   days of the chunks they share keep their values, bit for bit (the passes of the network
   are aligned to the product's days, so a day computed by an update has the bits a fill of
   the whole record gives it).
4. **Check** the new version (``update.checks``) and **publish** it, unless another writer
   published first (``versioned``): one version per update, or none when nothing is new.

An update killed at any point leaves the published product as it was; the same command then
ends where an uninterrupted one would have: ingest resumes, finished tiles are kept (the
run's records), and a version already published is not published twice.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from sgdsm_cloud import cube
from sgdsm_cloud.errors import ConfigError
from sgdsm_cloud.fill.block import FillJob
from sgdsm_cloud.fill.config import FillConfig
from sgdsm_cloud.fill.executor import execute
from sgdsm_cloud.fill.plan import halo_of, plan_fill, span_blocks
from sgdsm_cloud.fill.plugin import FillPlugin
from sgdsm_cloud.fill.template import ModelInfo, array_metadata, metadata_refs, template_for
from sgdsm_cloud.ingest import IngestConfig, ingest
from sgdsm_cloud.outputs import Found, claim
from sgdsm_cloud.phases import Phases
from sgdsm_cloud.product import (
    DAY_FINAL,
    FLAG,
    LAST_FINAL_DAY,
    LAST_PROVISIONAL_DAY,
    OTHER_SOURCE_SHA256,
    PROVISIONAL,
    SEAMLESS_OUTPUT,
    SM,
    SM_UNCERTAINTY,
    SOURCE_FILE,
    SOURCE_SHA256,
)
from sgdsm_cloud.schema import Attribution
from sgdsm_cloud.storage import Location, public_url, write_atomic
from sgdsm_cloud.update.checks import check_candidate, structure_changes
from sgdsm_cloud.update.compact import compact, scattered_tiles
from sgdsm_cloud.update.config import UpdateOptions
from sgdsm_cloud.update.plan import UpdatePlan, plan_update
from sgdsm_cloud.versioned.reader import open_refs
from sgdsm_cloud.versioned.refs import Refs, apply, data_refs, document
from sgdsm_cloud.versioned.repository import Repository, Version

logger = logging.getLogger(__name__)
ARRAYS = {SM, FLAG, SM_UNCERTAINTY}


@dataclass(frozen=True)
class UpdateSummary:
    """What an update did; ``version`` None: nothing was new, nothing was published."""

    out: str
    version: int | None
    days_added: tuple[str, ...] = ()
    days_refilled: tuple[str, ...] = ()
    final_days_refilled: tuple[str, ...] = ()
    granules: tuple[dict[str, str], ...] = ()
    tiles: int = 0
    skipped: int = 0
    pack_bytes: int = 0
    seconds: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class PreparedUpdate:
    """An update checked, nothing read from the sources or written yet."""

    sources: tuple[Location, ...]
    store: Location
    model: Location
    out: Location
    options: UpdateOptions
    checkpoint: Any
    parent: Version
    phases: Phases
    other_pass: Location | None = None  # a two-pass product's other raw cube
    other_sources: tuple[Location, ...] = ()  # and where its granules come from


def prepare_update(
    sources: tuple[Location, ...],
    store: Location,
    model: Location,
    out: Location,
    options: UpdateOptions,
    other_pass: Location | None = None,
    other_sources: tuple[Location, ...] = (),
) -> PreparedUpdate:
    """Check the product, the raw cube and the model: everything that can refuse an update
    before a cluster starts, a source is listed or anything is written. A two-pass model
    (``anomaly-2pass``) keeps the other overpass's raw cube (``other_pass``) current from
    ``other_sources`` too."""
    from sgdsm_cloud.model.checkpoint import load_checkpoint
    from sgdsm_cloud.model.config import check_passes

    inputs = (store, model, *sources, *((other_pass,) if other_pass else ()), *other_sources)
    found = claim(out, SEAMLESS_OUTPUT, inputs=inputs, option="--out")
    repository = Repository(out)
    if found is not Found.OURS or not repository.exists():
        raise ConfigError(
            f"--out {out.url} holds no versioned seamless product; make it once with "
            "'sgdsm fill', then keep it current with 'sgdsm update'"
        )
    raw = cube.open_cube(store.url, store.storage_options, chunks=None)  # exists, is a raw cube
    parent = repository.load(repository.resolve())
    checkpoint = load_checkpoint(model.url, "cpu", storage_options=model.storage_options)
    if other_sources and other_pass is None:
        raise ConfigError(
            "sgdsm update: --other-sources needs --other-pass, the raw cube they are ingested into"
        )
    check_passes(checkpoint.config, other_pass, "sgdsm update")
    if other_pass is not None:
        if not other_sources:
            raise ConfigError(
                "sgdsm update: --other-pass needs --other-sources, where the other overpass's "
                "granules come from (files, folders or earthdata:COLLECTION)"
            )
        passes = (raw.attrs.get("source_pass"), _pass_of(other_pass))
        if passes[0] is not None and passes[0] == passes[1]:
            raise ConfigError(
                f"sgdsm update: --other-pass {other_pass.url} holds the same pass ({passes[0]}) "
                f"as --store {store.url}; give the other overpass's raw cube"
            )
    recorded = json.loads(parent.refs["zarr.json"])["attributes"].get("model_sha256")
    if recorded and recorded != checkpoint.sha256 and not options.new_model:
        raise ConfigError(
            f"--model {model.url} (sha256 {checkpoint.sha256[:12]}...) is not the model of "
            f"{out.url} (sha256 {str(recorded)[:12]}...); its days would mix two models: pass "
            "the product's model, or --new-model to refill with this one"
        )
    return PreparedUpdate(
        sources, store, model, out, options, checkpoint, parent, Phases(f"update {out.url}"),
        other_pass, tuple(other_sources),
    )  # fmt: skip


def execute_update(update: PreparedUpdate, client: Any = None) -> UpdateSummary:
    """Ingest, plan, refill, check and publish (see the module docstring)."""
    repository = Repository(update.out)
    repository.repair_latest()
    phases = update.phases
    previous = open_refs(repository.version_url(update.parent.number), update.out.storage_options)
    half_window = update.checkpoint.config.half_window
    chunk_days, chunk_cells = _chunks(update.parent.refs)
    with phases("ingest"):
        last = pd.Timestamp(previous["time"].values[-1]).date()
        start = last - dt.timedelta(days=update.options.look_back)
        report = ingest(
            IngestConfig(
                update.sources,
                update.store,
                start=start,
                recheck_days=update.options.look_back,
            ),
            client=client,
        )
        if update.other_pass is not None:
            _ingest_other_pass(update, start, client)
    with phases("plan"):
        raw = cube.open_cube(update.store.url, update.store.storage_options, chunks=None)
        other_raw = None
        if update.other_pass is not None:
            other_raw = cube.open_other_pass(
                update.other_pass.url, update.other_pass.storage_options, raw, update.store.url,
                chunks=None,
            )  # fmt: skip
        first = int(np.flatnonzero(raw["time"].values == previous["time"].values[0])[0])
        plan = plan_update(
            granule_keys(previous), granule_keys(raw, other_raw), first, half_window, chunk_days
        )
    if plan.nothing_new:
        logger.info("%s: nothing new since version %d", update.out.url, update.parent.number)
        return UpdateSummary(update.out.url, None, seconds=phases.rounded())
    fill_config = _fill_config(update, chunk_days, chunk_cells)
    fill_plan = plan_fill(
        raw, halo_of(update.checkpoint.config), fill_config, start=previous["time"].values[0]
    )
    template = template_for(
        raw,
        fill_plan,
        update.store.url,
        ModelInfo.from_checkpoint(update.checkpoint),
        Attribution.from_attrs(previous.attrs),
        other_raw,
    )
    dates = pd.DatetimeIndex(template["time"].values).strftime("%Y-%m-%d")
    granules = _granules(template, plan, dates)
    template.attrs.update(_update_attrs(previous.attrs, plan, dates, granules, report.summary()))
    metadata = metadata_refs(template, fill_plan.layout)
    run = repository.run(_run_id(update, plan, template))
    blocks = [block for span in plan.spans for block in span_blocks(fill_plan, span)]
    with phases("refill"):
        done = run.done()
        todo = [block for block in blocks if block.id not in done]
        job = FillJob(
            source=update.store,
            run=run,
            metadata=tuple(array_metadata(metadata).items()),
            chunk_days=chunk_days,
            base=Location(
                repository.version_url(update.parent.number), dict(update.out.storage_options)
            ),
            refill=plan.refill,
            other_pass=update.other_pass,
        )
        plugin = FillPlugin(
            update.model,
            update.checkpoint.sha256,
            gpu=fill_config.gpu,
            batch_size=fill_config.batch_size,
            bfloat16=fill_config.bfloat16,
        )
        execute(todo, job, client, plugin, fill_config, update.out.url)
    with phases("check"):
        records = run.done()
        refs = dict(metadata)
        refs.update(data_refs(update.parent.refs, ARRAYS))
        for record in records.values():
            refs = apply(refs, {**record["refs"], **dict.fromkeys(record["empty"])})
    with phases("compact"):
        layout = fill_plan.layout
        final_days = int((template[PROVISIONAL].values == DAY_FINAL).sum())
        (tile_t, tile_y, tile_x), (chunk_t, chunk_y, chunk_x) = layout.shards, layout.chunks
        per_tile = (tile_t // chunk_t, tile_y // chunk_y, tile_x // chunk_x)
        scattered = scattered_tiles(refs, ARRAYS, per_tile, final_days // chunk_days)
        compacted = compact(refs, scattered, run, update.out.storage_options)
        refs.update(compacted)
    with phases("check"):
        candidate_url = run.records.child("candidate.json")
        write_atomic(candidate_url, json.dumps(document(refs, {}), separators=(",", ":")).encode())
        candidate = open_refs(candidate_url.url, update.out.storage_options, fresh=True)
        structure = structure_changes(update.parent.refs, refs)
        check_candidate(previous, candidate, raw, plan.refill, structure)
    with phases("commit"):
        meta = _record(update, plan, dates, granules, template, report.summary())
        version = repository.commit(refs, meta, update.parent.number)
        run.clear()
    return UpdateSummary(
        out=update.out.url,
        version=version,
        days_added=tuple(dates[list(plan.new)]),
        days_refilled=tuple(dates[list(plan.refill)]),
        final_days_refilled=tuple(dates[list(plan.final_refilled)]),
        granules=tuple(granules),
        tiles=len(blocks),
        skipped=len(blocks) - len(todo),
        pack_bytes=sum(ref[2] for r in records.values() for ref in r["refs"].values())
        + sum(ref[2] for ref in compacted.values()),
        seconds=phases.rounded(),
    )


def update(
    sources: tuple[Location, ...],
    store: Location,
    model: Location,
    out: Location,
    options: UpdateOptions | None = None,
    client: Any = None,
    other_pass: Location | None = None,
    other_sources: tuple[Location, ...] = (),
) -> UpdateSummary:
    """Bring the product at ``out`` up to date (:func:`prepare_update`, then
    :func:`execute_update`); the tiles run on ``client`` (a ``distributed.Client``), or in
    this process when None."""
    prepared = prepare_update(
        sources, store, model, out, options or UpdateOptions(), other_pass, other_sources
    )
    return execute_update(prepared, client)


def _chunks(refs: Refs) -> tuple[int, int]:
    """The product's chunk days and cells, from its ``sm`` metadata: an update keeps them."""
    metadata = json.loads(refs[f"{SM}/zarr.json"])
    days, cells, _ = metadata["chunk_grid"]["configuration"]["chunk_shape"]
    return int(days), int(cells)


def _fill_config(update: PreparedUpdate, chunk_days: int, chunk_cells: int) -> FillConfig:
    """The fill settings of the product (its tiles, as its first fill planned them and every
    version since records them), with this run's batch size, device and retries."""
    layout = update.parent.meta.get("layout") or {}
    tiles = layout.get("tiles") or (update.parent.meta.get("fingerprint") or {}).get("shards")
    if not tiles:
        raise ConfigError(
            f"{update.out.url}: version {update.parent.number} does not record its tiles; "
            "fill the product again with 'sgdsm fill --overwrite'"
        )
    return FillConfig(
        tile_days=int(tiles[0]),
        tile_cells=int(tiles[1]),
        chunk_days=chunk_days,
        chunk_cells=chunk_cells,
        batch_size=update.options.batch_size,
        gpu=update.options.gpu,
        bfloat16=bool(update.parent.meta.get("bfloat16", False)),  # the fill's precision
        retries=update.options.retries,
    )


def _granules(template: Any, plan: UpdatePlan, dates: Any) -> list[dict[str, str]]:
    """The granules this version adds or replaces: day, file name, SHA-256 and why."""
    files, hashes = template[SOURCE_FILE].values, template[SOURCE_SHA256].values
    out = []
    for why, days in (("new", plan.new), ("changed", plan.changed)):
        for day in days:
            if hashes[day]:
                out.append(
                    {
                        "day": dates[day],
                        "file": str(files[day]),
                        "sha256": str(hashes[day]),
                        "change": why,
                    }
                )
    return out


def _update_attrs(
    previous: dict[str, Any],
    plan: UpdatePlan,
    dates: Any,
    granules: list[dict[str, str]],
    ingested: str,
) -> dict[str, Any]:
    """The attributes an update changes: history, modification date, this version's granules
    (the first creation date and everything else as the fill wrote them)."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    added = f"{len(plan.new)} day(s) added" + (
        f" ({dates[plan.new[0]]}..{dates[plan.new[-1]]})" if plan.new else ""
    )
    line = (
        f"{stamp} sgdsm update: {added}, {len(plan.refill)} day(s) refilled "
        f"({dates[plan.refill[0]]}..{dates[plan.refill[-1]]}), {len(plan.changed)} changed granule(s)"
    )
    return {
        "history": f"{previous.get('history', '')}\n{line}".strip(),
        "date_created": previous.get("date_created", stamp),
        "date_modified": stamp,
        "version_granules": json.dumps(granules),
        "version_ingest": ingested,
    }


def _record(
    update: PreparedUpdate,
    plan: UpdatePlan,
    dates: Any,
    granules: list[dict[str, str]],
    template: Any,
    ingested: str,
) -> dict[str, Any]:
    """What the version records (``sgdsm history``)."""
    return {
        "operation": "update",
        "fingerprint": None,
        "layout": update.parent.meta.get("layout") or _layout_of(update.parent.meta),
        "days": [dates[0], dates[-1]],
        "days_added": [dates[d] for d in plan.new],
        "days_refilled": [dates[d] for d in plan.refill],
        "final_days_refilled": [dates[d] for d in plan.final_refilled],
        "granules": granules,
        "model_sha256": update.checkpoint.sha256,
        "bfloat16": bool(update.parent.meta.get("bfloat16", False)),
        "ingest": ingested,
        LAST_FINAL_DAY: template.attrs[LAST_FINAL_DAY],
        LAST_PROVISIONAL_DAY: template.attrs[LAST_PROVISIONAL_DAY],
        "source_store": public_url(update.store.url),
        **({"other_pass_store": public_url(update.other_pass.url)} if update.other_pass else {}),
    }


def _layout_of(meta: dict[str, Any]) -> dict[str, Any]:
    fingerprint = meta.get("fingerprint") or {}
    return {"chunks": fingerprint.get("chunks"), "tiles": fingerprint.get("shards")}


def granule_keys(ds: xr.Dataset, other: xr.Dataset | None = None) -> list[str]:
    """What identifies each day's input: its granule's SHA-256 and, for a two-pass product,
    the other overpass's (``ds`` a product holding both, or a raw cube and ``other`` its twin).
    A day whose key changed, or is new, is computed again (``update.plan``)."""
    keys = [str(h) for h in ds[SOURCE_SHA256].values]
    if other is not None:
        others = [str(h) for h in other[SOURCE_SHA256].values]
    elif OTHER_SOURCE_SHA256 in ds.variables:
        others = [str(h) for h in ds[OTHER_SOURCE_SHA256].values]
    else:
        return keys
    return [f"{key}+{other_key}" for key, other_key in zip(keys, others, strict=True)]


def _ingest_other_pass(update: PreparedUpdate, start: dt.date, client: Any) -> None:
    """Ingest the other overpass's new and changed granules, then extend whichever raw cube
    ends earlier with empty days to the other's last day: a two-pass model reads both cubes
    on one time axis, and a late granule fills its empty day at a later update."""
    assert update.other_pass is not None
    ingest(
        IngestConfig(
            update.other_sources, update.other_pass, start=start,
            recheck_days=update.options.look_back,
        ),
        client=client,
    )  # fmt: skip
    pairs = ((update.sources, update.store), (update.other_sources, update.other_pass))
    ends = [_last_day(store) for _, store in pairs]
    for (sources, store), end in zip(pairs, ends, strict=True):
        if end < max(ends):
            ingest(IngestConfig(sources, store, start=max(ends), end=max(ends)), client=client)


def _pass_of(store: Location) -> Any:
    """The pass direction a raw cube records (None when it records none)."""
    return cube.open_cube(store.url, store.storage_options, chunks=None).attrs.get("source_pass")


def _last_day(store: Location) -> dt.date:
    raw = cube.open_cube(store.url, store.storage_options, chunks=None)
    return pd.Timestamp(raw["time"].values[-1]).date()


def _run_id(update: PreparedUpdate, plan: UpdatePlan, template: Any) -> str:
    """The same update of the same version and granules: the same id (a re-run resumes)."""
    digest = hashlib.sha256("".join(granule_keys(template)).encode())
    text = json.dumps(
        {"parent": update.parent.number, "refill": plan.refill, "days": plan.days,
         "granules": digest.hexdigest(), "model": update.checkpoint.sha256},
        sort_keys=True,
    )  # fmt: skip
    return "update-" + hashlib.sha256(text.encode()).hexdigest()[:16]
