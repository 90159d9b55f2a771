"""Run a fill on a dask.distributed cluster: template once, one task per tile, consolidate once.

The driver plans the tiles, writes the output's template (or resumes an interrupted run of the
same fill, skipping the tiles its manifest lists), registers the model plugin, maps
:func:`run_tile` over the remaining tiles and consolidates the metadata at the end. A worker
that dies mid-tile is replaced and dask reruns its tile elsewhere; that is safe because a tile
only overwrites the whole shards it owns and then (re)writes its own manifest entry. The tasks
run on the pipeline's one executor (``sgdsm_cloud.cluster``), which turns a lost cluster or
workers that keep dying into typed errors a re-run resumes from.
"""

from __future__ import annotations

import logging
import traceback
from collections import Counter
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

from sgdsm_cloud import cube
from sgdsm_cloud.cluster import TaskKind, run_tasks
from sgdsm_cloud.errors import ConfigError, SgdsmError
from sgdsm_cloud.fill.block import FillJob, fill_tile
from sgdsm_cloud.fill.config import FillConfig
from sgdsm_cloud.fill.geometry import BlockSpec
from sgdsm_cloud.fill.manifest import Manifest, manifest_location
from sgdsm_cloud.fill.plan import halo_of, plan_fill
from sgdsm_cloud.fill.plugin import PLUGIN_NAME, FillPlugin, worker_plugin
from sgdsm_cloud.fill.template import (
    ModelInfo,
    consolidate,
    template_for,
    write_template,
)
from sgdsm_cloud.phases import Phases
from sgdsm_cloud.storage import Location, public_url, redact

logger = logging.getLogger(__name__)
# A child of dask's worker logger: what tasks log here reaches the worker's log as dask shows it
# (the dashboard, Client.get_worker_logs) besides the process's stderr (kubectl logs).
worker_log = logging.getLogger("distributed.worker.sgdsm_cloud")


class TileFailed(SgdsmError):
    """A tile could not be filled; the message names the tile and the cause."""


@dataclass(frozen=True)
class FillSummary:
    """What a run did.

    Attributes:
        out: the output URL.
        tiles: tiles in the plan.
        skipped: tiles an earlier, interrupted run had finished.
        statuses: one status per tile run now (see ``block.fill_tile``).
        seconds: wall time of the run's phases: plan, template, tiles, consolidate.
    """

    out: str
    tiles: int
    skipped: int
    statuses: tuple[dict[str, Any], ...]
    seconds: dict[str, float] = field(default_factory=dict)

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
        options = {**job.source.storage_options, **job.out.storage_options}
        worker_log.error("tile %s failed:\n%s", spec.id, redacted_traceback(err, options))
        reason = redact(f"{type(err).__name__}: {err}", options)
        raise TileFailed(f"tile {spec.id} of {job.out.url}: {reason}") from None


def redacted_traceback(err: BaseException, options: dict[str, Any]) -> str:
    """``err``'s formatted traceback with every secret of ``options`` (and AWS_*) replaced."""
    return redact("".join(traceback.format_exception(err)), options)


def run_fill(
    source: Location,
    out: Location,
    model: Location,
    config: FillConfig,
    client: Any,
    *,
    start: Any = None,
    end: Any = None,
    overwrite: bool = False,
) -> FillSummary:
    """Fill the raw cube at ``source`` into ``out`` with the checkpoint ``model`` on ``client``."""
    from sgdsm_cloud.model.checkpoint import load_checkpoint

    phases = Phases(f"fill {out.url}")
    with phases("plan"):
        if config.gpu:
            check_gpu_workers(client)
        raw = cube.open_cube(
            source.url, source.storage_options, chunks=None
        )  # coordinates and land only
        checkpoint = load_checkpoint(model.url, "cpu", storage_options=model.storage_options)
        plan = plan_fill(raw, halo_of(checkpoint.config), config, start, end)
        fingerprint = plan.fingerprint(public_url(source.url), checkpoint.sha256, config.gpu)
    with phases("template"):
        manifest = Manifest(manifest_location(out))
        if not resumable(out, manifest, fingerprint, overwrite):
            manifest.clear()
            template = template_for(raw, plan, source.url, ModelInfo.from_checkpoint(checkpoint))
            write_template(template, plan.layout, out)
            manifest.write_plan(fingerprint)
        done = manifest.done_ids()
    todo = [block for block in plan.blocks if block.id not in done]
    logger.info(
        "%s: %d tiles, %d already done, %d to run",
        out.url,
        len(plan.blocks),
        len(plan.blocks) - len(todo),
        len(todo),
    )
    job = FillJob(source=source, out=out, manifest=manifest.location)
    plugin = FillPlugin(model, checkpoint.sha256, gpu=config.gpu, batch_size=config.batch_size)
    with phases("tiles"):
        statuses = execute(todo, job, client, plugin, config)
    with phases("consolidate"):
        consolidate(out)
    return FillSummary(
        out=out.url,
        tiles=len(plan.blocks),
        skipped=len(plan.blocks) - len(todo),
        statuses=tuple(statuses),
        seconds=phases.rounded(),
    )


def resumable(
    out: Location, manifest: Manifest, fingerprint: dict[str, Any], overwrite: bool
) -> bool:
    """True when ``out`` holds an interrupted run of this same fill; raise if it holds another."""
    exists = out.filesystem().exists(f"{out.path}/zarr.json")
    if not exists or overwrite:
        return False
    recorded = manifest.read_plan()
    if recorded == fingerprint:
        return True
    if recorded is None:
        raise ConfigError(
            f"{out.url} already exists and is not a fill this command can resume; "
            "pass --overwrite to replace it or choose another --out"
        )
    differs = sorted(k for k in fingerprint if recorded.get(k) != fingerprint[k])
    raise ConfigError(
        f"{out.url} holds a fill with another {', '.join(differs)}; pass --overwrite to replace it "
        "or choose another --out"
    )


def execute(
    blocks: list[BlockSpec], job: FillJob, client: Any, plugin: FillPlugin, config: FillConfig
) -> list[dict[str, Any]]:
    """Run one task per block on ``client`` with a progress bar; returns their statuses."""
    if not blocks:
        return []
    client.register_plugin(plugin, name=PLUGIN_NAME)
    statuses: list[dict[str, Any]] = []
    kind = TaskKind(
        "fill", "tile", job.out.url, memory_hint="lower --tile-days/--tile-cells or --batch-size"
    )
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
