"""Run a fill on a dask.distributed cluster: one task per tile, then one version published.

The driver plans the tiles (resuming an interrupted run of the same fill, skipping the tiles
its run records list), registers the model plugin and maps :func:`run_tile` over the remaining
tiles; each writes a pack of its chunks and records it. Once every tile is done the driver
publishes the product's next version (``versioned.repository``): readers see the whole fill at
once or nothing of it. A worker that dies mid-tile is replaced and dask reruns its tile
elsewhere; that is safe because a tile rewrites only its own pack and record. The tasks run on
the pipeline's one executor (``sgdsm_cloud.cluster``), which turns a lost cluster or workers
that keep dying into typed errors a re-run resumes from.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

from sgdsm_cloud import cube
from sgdsm_cloud.cluster import TaskKind, run_tasks
from sgdsm_cloud.errors import ConfigError, SgdsmError
from sgdsm_cloud.failures import task_failed
from sgdsm_cloud.fill.block import FillJob, fill_tile
from sgdsm_cloud.fill.config import FillConfig
from sgdsm_cloud.fill.geometry import BlockSpec
from sgdsm_cloud.fill.plan import FillPlan, halo_of, plan_fill
from sgdsm_cloud.fill.plugin import PLUGIN_NAME, FillPlugin, in_this_process, worker_plugin
from sgdsm_cloud.fill.template import ModelInfo, array_metadata, metadata_refs, template_for
from sgdsm_cloud.outputs import Found, claim, replace
from sgdsm_cloud.phases import Phases
from sgdsm_cloud.product import (
    LAST_FINAL_DAY,
    LAST_PROVISIONAL_DAY,
    PLAIN_SEAMLESS,
    SEAMLESS_OUTPUT,
    SOURCE_SHA256,
)
from sgdsm_cloud.schema import Attribution
from sgdsm_cloud.storage import Location, public_url
from sgdsm_cloud.versioned.repository import Repository

logger = logging.getLogger(__name__)


class TileFailed(SgdsmError):
    """A tile could not be filled; the message names the tile and the cause."""


@dataclass(frozen=True)
class FillSummary:
    """What a run did.

    Attributes:
        out: the output URL.
        tiles: tiles in the plan.
        skipped: tiles an earlier, interrupted run had finished (all of them when the product
            already holds this fill: nothing is published then).
        statuses: one status per tile run now (see ``block.fill_tile``).
        seconds: wall time of the run's phases: plan, tiles, commit.
        version: the version published (None: nothing new).
    """

    out: str
    tiles: int
    skipped: int
    statuses: tuple[dict[str, Any], ...]
    seconds: dict[str, float] = field(default_factory=dict)
    version: int | None = None

    def totals(self) -> dict[str, int]:
        """Tiles by kind (filled, gap_free, ocean) and cells by flag, over the tiles run now."""
        kinds = Counter(status["kind"] for status in self.statuses)
        cells = {k: sum(s[k] for s in self.statuses) for k in ("observed", "filled", "not_filled")}
        return {**{f"tiles_{k}": v for k, v in sorted(kinds.items())}, **cells}


def run_tile(spec_json: str, job: FillJob) -> dict[str, Any]:
    """The task: fill one tile with the worker's model; failures name the tile.

    The error that reaches the driver carries no traceback (its frames could hold secrets);
    the worker's log keeps the whole traceback, redacted, for whoever debugs the failure.
    """
    spec = BlockSpec.from_json(spec_json)
    try:
        plugin = worker_plugin()
        return fill_tile(spec, plugin.stores(job), plugin.predictor)
    except Exception as err:
        options = {**job.source.storage_options, **job.run.records.storage_options}
        reason = task_failed(f"tile {spec.id}", err, options)
        raise TileFailed(f"tile {spec.id} of {job.run.records.url}: {reason}") from None


@dataclass(frozen=True)
class PreparedFill:
    """A fill checked and planned, nothing written yet: what :func:`execute_fill` runs.

    Attributes:
        parent: the product's newest version when the fill was planned (None: none yet); the
            fill publishes the version after it, or nothing if another writer did first.
        published: the newest version already holds this very fill: nothing to do.
        replace_plain: ``out`` is a plain zarr seamless cube, replaced (``--overwrite``).
    """

    source: Location
    out: Location
    model: Location
    config: FillConfig
    raw: Any  # the raw cube, opened lazily (coordinates and land are read)
    checkpoint: Any
    plan: FillPlan
    fingerprint: dict[str, Any]
    parent: int | None
    published: bool
    replace_plain: bool
    phases: Phases
    attribution: Attribution = Attribution()
    other_pass: Location | None = None
    other_raw: Any = None  # the other overpass's raw cube, opened lazily

    @property
    def run_id(self) -> str:
        """The same fill on the same version: the same id, whose records a re-run resumes."""
        text = json.dumps({"fill": self.fingerprint, "parent": self.parent}, sort_keys=True)
        return "fill-" + hashlib.sha256(text.encode()).hexdigest()[:16]


def prepare_fill(
    source: Location,
    out: Location,
    model: Location,
    config: FillConfig,
    *,
    start: Any = None,
    end: Any = None,
    overwrite: bool = False,
    attribution: Attribution | None = None,
    other_pass: Location | None = None,
) -> PreparedFill:
    """Check the output path and the inputs, load the model and plan the tiles: everything
    that can refuse a fill happens here, before a cluster starts or anything is written.

    ``out`` must be new, empty or a seamless product (``outputs.claim``). A product whose
    newest version is another fill is refused unless ``overwrite``: the fill is then published
    as its next version, the earlier ones stay in its history. ``other_pass``: the raw cube of
    the other overpass, which a two-pass model reads (same days and grid as ``source``).
    """
    from sgdsm_cloud.model.checkpoint import load_checkpoint, warn_if_out_of_domain
    from sgdsm_cloud.model.config import check_passes

    inputs = (source, model) if other_pass is None else (source, model, other_pass)
    found = claim(out, SEAMLESS_OUTPUT, inputs=inputs, option="--out")
    repository = Repository(out)
    replace_plain = found is Found.OURS and not repository.exists()
    if replace_plain and not overwrite:
        raise ConfigError(
            f"{out.url} holds a seamless cube as one plain zarr store (an earlier layout, or a "
            "notebook's to_zarr); pass --overwrite to replace it with a versioned product, or "
            "choose another --out"
        )
    phases = Phases(f"fill {out.url}")
    with phases("plan"):
        raw = cube.open_cube(
            source.url, source.storage_options, chunks=None
        )  # coordinates and land only
        checkpoint = load_checkpoint(model.url, "cpu", storage_options=model.storage_options)
        warn_if_out_of_domain(checkpoint, raw.attrs, model.url)
        check_passes(checkpoint.config, other_pass, "sgdsm fill")
        other_raw = None
        if other_pass is not None:
            other_raw = cube.open_other_pass(
                other_pass.url, other_pass.storage_options, raw, source.url, chunks=None
            )
        plan = plan_fill(raw, halo_of(checkpoint.config), config, start, end)
        fingerprint = plan.fingerprint(public_url(source.url), checkpoint.sha256, config.gpu)
        if other_pass is not None:
            fingerprint["other_pass"] = public_url(other_pass.url)
        parent = None if replace_plain else repository.head()
        published = False
        if parent is not None:
            recorded = repository.load(parent).meta.get("fingerprint")
            published = recorded == fingerprint and not overwrite
            if not published and not overwrite:
                raise ConfigError(_another_fill(out, recorded, fingerprint))
    return PreparedFill(
        source, out, model, config, raw, checkpoint, plan, fingerprint, parent, published,
        replace_plain, phases, attribution or Attribution(), other_pass, other_raw,
    )  # fmt: skip


def _another_fill(out: Location, recorded: Any, fingerprint: dict[str, Any]) -> str:
    if not isinstance(recorded, dict):
        what = "its newest version was not made by 'sgdsm fill' (an update or a rollback)"
    else:
        what = "another " + ", ".join(
            sorted(k for k in fingerprint if recorded.get(k) != fingerprint[k])
        )
    return (
        f"{out.url} holds a fill with {what}; pass --overwrite to publish this fill as its next "
        "version (the earlier ones stay in 'sgdsm history'), or choose another --out"
    )


def execute_fill(fill: PreparedFill, client: Any = None) -> FillSummary:
    """Run one task per tile on ``client`` (None: in this process; those an interrupted run
    finished are skipped), then publish the product's next version."""
    out, plan, phases = fill.out, fill.plan, fill.phases
    if fill.published:
        logger.info("%s: its newest version already holds this fill; nothing to do", out.url)
        return FillSummary(out.url, len(plan.blocks), len(plan.blocks), (), phases.rounded())
    if fill.config.gpu and client is not None:
        check_gpu_workers(client)
    repository = Repository(out)
    with phases("template"):
        if fill.replace_plain:
            replace(out, PLAIN_SEAMLESS)
        if not repository.exists():
            repository.create()
        repository.repair_latest()
        run = repository.run(fill.run_id)
        if run.plan() is None:
            run.write_plan({"fingerprint": fill.fingerprint, "parent": fill.parent})
        model_info = ModelInfo.from_checkpoint(fill.checkpoint)
        template = template_for(
            fill.raw, plan, fill.source.url, model_info, fill.attribution, fill.other_raw
        )
        metadata = metadata_refs(template, plan.layout)
        done = run.done()
    todo = [block for block in plan.blocks if block.id not in done]
    logger.info(
        "%s: %d tiles, %d already done, %d to run",
        out.url,
        len(plan.blocks),
        len(plan.blocks) - len(todo),
        len(todo),
    )
    job = FillJob(
        source=fill.source,
        run=run,
        metadata=tuple(array_metadata(metadata).items()),
        chunk_days=plan.layout.chunks[0],
        other_pass=fill.other_pass,
    )
    plugin = FillPlugin(
        fill.model,
        fill.checkpoint.sha256,
        gpu=fill.config.gpu,
        batch_size=fill.config.batch_size,
        bfloat16=fill.config.bfloat16,
    )
    with phases("tiles"):
        statuses = execute(todo, job, client, plugin, fill.config, out.url)
    with phases("commit"):
        refs = dict(metadata)
        for record in run.done().values():
            refs.update(record["refs"])
        meta = fill_record(fill, template)
        version = repository.commit(refs, meta, fill.parent)
        run.clear()
    return FillSummary(
        out=out.url,
        tiles=len(plan.blocks),
        skipped=len(plan.blocks) - len(todo),
        statuses=tuple(statuses),
        seconds=phases.rounded(),
        version=version,
    )


def fill_record(fill: PreparedFill, template: Any) -> dict[str, Any]:
    """What the version of a fill records (``sgdsm history``)."""
    dates = [str(t)[:10] for t in template["time"].values]
    return {
        "operation": "fill --overwrite" if fill.parent is not None else "fill",
        "fingerprint": fill.fingerprint,
        "layout": {"chunks": fill.fingerprint["chunks"], "tiles": fill.fingerprint["shards"]},
        "days": [dates[0], dates[-1]] if dates else [],
        "days_added": dates,
        "days_refilled": [],
        "model_sha256": fill.checkpoint.sha256,
        "bfloat16": fill.config.bfloat16,  # updates keep the precision of the fill
        "granules": int((template[SOURCE_SHA256].values != "").sum()),
        LAST_FINAL_DAY: template.attrs[LAST_FINAL_DAY],
        LAST_PROVISIONAL_DAY: template.attrs[LAST_PROVISIONAL_DAY],
    }


def run_fill(
    source: Location,
    out: Location,
    model: Location,
    config: FillConfig,
    client: Any = None,
    **options: Any,
) -> FillSummary:
    """Fill the raw cube at ``source`` into ``out`` with the checkpoint ``model`` on ``client``
    (None: in this process): :func:`prepare_fill` with ``options`` (``start``, ``end``,
    ``overwrite``, ``attribution``), then :func:`execute_fill`."""
    prepared = prepare_fill(source, out, model, config, **options)
    return execute_fill(prepared, client)


def execute(
    blocks: list[BlockSpec],
    job: FillJob,
    client: Any,
    plugin: FillPlugin,
    config: FillConfig,
    target: str,
) -> list[dict[str, Any]]:
    """Run one task per block on ``client`` (None: in this process, in order) with a
    progress bar; returns their statuses. ``target``: the product's URL, for messages."""
    if not blocks:
        return []
    statuses: list[dict[str, Any]] = []
    kind = TaskKind(
        "fill", "tile", target, memory_hint="lower --tile-days/--tile-cells or --batch-size"
    )
    if client is None:
        with in_this_process(plugin):
            run_tasks(run_tile, [b.to_json() for b in blocks], statuses.append, kind=kind,
                      ids=[b.id for b in blocks], kwargs={"job": job})  # fmt: skip
        return statuses
    client.register_plugin(plugin, name=PLUGIN_NAME)
    try:
        run_tasks(
            run_tile,
            [block.to_json() for block in blocks],
            statuses.append,
            kind=kind,
            ids=[block.id for block in blocks],
            client=client,
            kwargs={"job": job},
            resources={"GPU": 1} if config.gpu else None,
            retries=config.retries,
        )
    finally:
        with suppress(Exception):  # free the workers' models; nothing to reach after a lost cluster
            client.unregister_worker_plugin(PLUGIN_NAME)
    return statuses


def check_gpu_workers(client: Any) -> None:
    """Tasks asking for a resource no worker has wait forever: fail now instead."""
    workers = client.scheduler_info(n_workers=-1)["workers"].values()
    if not any(worker.get("resources", {}).get("GPU") for worker in workers):
        raise ConfigError(
            "--gpu: no worker of the cluster offers the GPU resource; start GPU workers with "
            "'dask worker SCHEDULER --nthreads 1 --resources GPU=1'"
        )
