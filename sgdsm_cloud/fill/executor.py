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
from sgdsm_cloud.fill.manifest import FILL_MANIFEST, Manifest, manifest_location
from sgdsm_cloud.fill.plan import halo_of, plan_fill
from sgdsm_cloud.fill.plugin import PLUGIN_NAME, FillPlugin, worker_plugin
from sgdsm_cloud.fill.template import (
    ModelInfo,
    consolidate,
    template_for,
    write_template,
)
from sgdsm_cloud.outputs import Found, claim, replace
from sgdsm_cloud.phases import Phases
from sgdsm_cloud.product import SEAMLESS_CUBE
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


@dataclass(frozen=True)
class PreparedFill:
    """A fill checked and planned, nothing written yet: what :func:`execute_fill` runs.

    Attributes:
        found: what ``out`` held (``outputs.Found``); ``resume``: it is an interrupted run
            of this same fill; ``overwrite``: replace it.
    """

    source: Location
    out: Location
    model: Location
    config: FillConfig
    raw: Any  # the raw cube, opened lazily (coordinates and land are read)
    checkpoint: Any
    plan: Any
    fingerprint: dict[str, Any]
    found: Found
    resume: bool
    overwrite: bool
    phases: Phases


def prepare_fill(
    source: Location,
    out: Location,
    model: Location,
    config: FillConfig,
    *,
    start: Any = None,
    end: Any = None,
    overwrite: bool = False,
) -> PreparedFill:
    """Check the output path and the inputs, load the model and plan the tiles: everything
    that can refuse a fill happens here, before a cluster starts or anything is written.

    ``out`` must be new, empty or a seamless cube (``outputs.claim``): an interrupted run of
    the same fill resumes, another fill is refused unless ``overwrite``, which replaces it.
    """
    from sgdsm_cloud.model.checkpoint import load_checkpoint, warn_if_out_of_domain

    found = claim(out, SEAMLESS_CUBE, inputs=(source, model), option="--out")
    manifest = Manifest(manifest_location(out))
    claim(manifest.location, FILL_MANIFEST, option="the manifest beside --out")
    phases = Phases(f"fill {out.url}")
    with phases("plan"):
        raw = cube.open_cube(
            source.url, source.storage_options, chunks=None
        )  # coordinates and land only
        checkpoint = load_checkpoint(model.url, "cpu", storage_options=model.storage_options)
        warn_if_out_of_domain(checkpoint, raw.attrs, model.url)
        plan = plan_fill(raw, halo_of(checkpoint.config), config, start, end)
        fingerprint = plan.fingerprint(public_url(source.url), checkpoint.sha256, config.gpu)
        replacing = overwrite and found is Found.OURS
        resume = found is Found.OURS and not replacing and resumable(out, manifest, fingerprint)
    return PreparedFill(
        source, out, model, config, raw, checkpoint, plan, fingerprint, found, resume, replacing,
        phases,
    )  # fmt: skip


def execute_fill(fill: PreparedFill, client: Any) -> FillSummary:
    """Write the template (or resume), run one task per tile on ``client``, consolidate."""
    out, plan, phases = fill.out, fill.plan, fill.phases
    manifest = Manifest(manifest_location(out))
    if fill.config.gpu:
        check_gpu_workers(client)
    with phases("template"):
        if fill.overwrite:
            replace(out, SEAMLESS_CUBE)
        if not fill.resume:
            manifest.clear()
            model_info = ModelInfo.from_checkpoint(fill.checkpoint)
            write_template(
                template_for(fill.raw, plan, fill.source.url, model_info), plan.layout, out
            )
            manifest.write_plan(fill.fingerprint)
        done = manifest.done_ids()
    todo = [block for block in plan.blocks if block.id not in done]
    logger.info(
        "%s: %d tiles, %d already done, %d to run",
        out.url,
        len(plan.blocks),
        len(plan.blocks) - len(todo),
        len(todo),
    )
    job = FillJob(source=fill.source, out=out, manifest=manifest.location)
    plugin = FillPlugin(
        fill.model, fill.checkpoint.sha256, gpu=fill.config.gpu, batch_size=fill.config.batch_size
    )
    with phases("tiles"):
        statuses = execute(todo, job, client, plugin, fill.config)
    with phases("consolidate"):
        consolidate(out)
    return FillSummary(
        out=out.url,
        tiles=len(plan.blocks),
        skipped=len(plan.blocks) - len(todo),
        statuses=tuple(statuses),
        seconds=phases.rounded(),
    )


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
    """Fill the raw cube at ``source`` into ``out`` with the checkpoint ``model`` on ``client``
    (:func:`prepare_fill`, then :func:`execute_fill`)."""
    prepared = prepare_fill(source, out, model, config, start=start, end=end, overwrite=overwrite)
    return execute_fill(prepared, client)


def resumable(out: Location, manifest: Manifest, fingerprint: dict[str, Any]) -> bool:
    """True when the seamless cube at ``out`` is an interrupted run of this same fill; raise
    when it holds another fill (``--overwrite`` replaces it)."""
    recorded = manifest.read_plan()
    if recorded == fingerprint:
        return True
    if recorded is None:
        raise ConfigError(
            f"{out.url} holds a seamless cube this command cannot resume (no manifest beside "
            "it); pass --overwrite to replace it or choose another --out"
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
