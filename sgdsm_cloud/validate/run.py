"""``sgdsm validate``: open the stores, run the requested programmes, write the report folder.

The programmes (:mod:`~sgdsm_cloud.validate.checks`) share one :class:`Context`: the raw cube,
the validated period and days, the land masks, the model, and the product (the seamless store
given with ``--filled``, else the model run on the crops each programme needs).
:func:`compute_validation` returns their results; :func:`run_validation` also renders them
(:mod:`~sgdsm_cloud.validate.render`) into the report folder.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from pathlib import Path
from typing import Any

from sgdsm_cloud import __version__, cube, schema
from sgdsm_cloud.errors import StoreContractError
from sgdsm_cloud.outputs import claim
from sgdsm_cloud.product import open_seamless
from sgdsm_cloud.storage import Location, redact
from sgdsm_cloud.validate import checks, stations
from sgdsm_cloud.validate.context import REPORT_FOLDER, RUN_FILE, Context, ValidateConfig
from sgdsm_cloud.validate.product import ModelFiller, ModelProduct, StoreProduct
from sgdsm_cloud.validate.record import open_record
from sgdsm_cloud.validate.sweep import SweepResult, read_sweep, run_sweep, write_sweep

log = logging.getLogger(__name__)


def open_context(config: ValidateConfig) -> Context:
    """Open the stores and the model, and fix the period, days and masks."""
    from sgdsm_cloud.model.checkpoint import load_checkpoint, warn_if_out_of_domain
    from sgdsm_cloud.model.config import check_passes
    from sgdsm_cloud.model.runner import resolve_device

    device = str(resolve_device(config.device))
    checkpoint = load_checkpoint(
        config.model.url, device, storage_options=config.model.storage_options
    )
    check_passes(checkpoint.config, config.other_pass, "sgdsm validate")
    record = open_record(config, checkpoint.config.half_window)
    warn_if_out_of_domain(checkpoint, record.raw.attrs, config.model.url)
    other = None
    if config.other_pass is not None:
        other_url, options = config.other_pass.url, config.other_pass.storage_options
        other = cube.open_other_pass(other_url, options, record.raw, config.store.url)[cube.SM]
    filler = ModelFiller.from_checkpoint(
        checkpoint,
        device=device,
        batch_size=config.batch_size,
        valid_range=schema.physical_range(record.raw.attrs),
    )
    if config.filled:
        filled = open_seamless(config.filled.url, config.filled.storage_options)
        if filled.sizes.get("lat") != record.lat.size or filled.sizes.get("lon") != record.lon.size:
            raise StoreContractError(
                f"{config.filled.url}: its grid differs from the raw cube's; fill this cube"
            )
        product: ModelProduct | StoreProduct = StoreProduct(
            filled, record.raw["time"].values, config.filled.url
        )
    else:
        product = ModelProduct(
            record.raw[cube.SM], record.land, record.fill_land, filler, record.periodic, other
        )
    fields = {f.name: getattr(record, f.name) for f in dataclasses.fields(record)}
    return Context(
        **fields, config=config, checkpoint=checkpoint, filler=filler, product=product, other=other
    )


def compute_validation(config: ValidateConfig, ctx: Context | None = None) -> checks.Validation:
    """Run the programmes the configuration asks for (and the sweep, or read its table) on
    ``ctx`` (default: :func:`open_context`)."""
    ctx = ctx or open_context(config)
    overview, day_map, simulated = (
        checks.overview(ctx),
        checks.product_map(ctx),
        checks.simulated(ctx),
    )
    insitu = stations.insitu(ctx) if config.insitu else None
    timeseries = stations.timeseries(ctx)
    truth = checks.truth(ctx) if config.truth else None
    calibration = checks.calibration(ctx)
    sweep = None
    if config.sweep != "none":
        sweep = run_sweep(config.sweep_config())
        write_sweep(sweep, config.report)
    elif config.sweep_table is not None:
        sweep = read_sweep(config.sweep_table)
    return checks.Validation(
        run_record(ctx), overview, day_map, simulated, insitu, timeseries, truth, sweep,
        sweep is None or same_gaps(ctx, sweep), calibration,
    )  # fmt: skip


def same_gaps(ctx: Context, sweep: SweepResult) -> bool:
    """The sweep was scored on the gaps of this run's main table (same period, days, settings)."""
    days = tuple(f"{ctx.dates[d]:%Y-%m-%d}" for d in ctx.days)
    period = (f"{ctx.dates[ctx.period[0]]:%Y-%m-%d}", f"{ctx.dates[ctx.period[-1]]:%Y-%m-%d}")
    return (sweep.period, sweep.days, sweep.gaps) == (
        period,
        days,
        dataclasses.asdict(ctx.config.gaps),
    )


def run_validation(config: ValidateConfig) -> Path:
    """Run the programmes and write the report folder; returns the report's Markdown file.

    The folder must be new, empty or a report folder (``outputs.claim``); its run record is
    written first, as its marker, and completed at the end.
    """
    from sgdsm_cloud.validate.render import render_report

    report = Location(str(config.report.resolve()))
    claim(report, REPORT_FOLDER, inputs=inputs_of(config), option="--report")
    ctx = open_context(config)  # bad inputs are refused before anything is written
    config.report.mkdir(parents=True, exist_ok=True)
    marker = {"sgdsm_cloud_version": __version__, "status": "running"}
    (config.report / RUN_FILE).write_text(json.dumps(marker, indent=2))
    validation = compute_validation(config, ctx)
    path = render_report(config.report, validation)
    (config.report / RUN_FILE).write_text(json.dumps(validation.run, indent=2, default=str))
    return path


def inputs_of(config: ValidateConfig) -> list[Location]:
    """What a validation reads: no output may equal, contain or lie inside one of these."""
    stores = [config.store, config.model, config.filled, config.truth, config.other_pass]
    files = [config.insitu, config.sweep_table]
    return [s for s in stores if s] + [Location(str(f.resolve())) for f in files if f]


def run_record(ctx: Context) -> dict[str, Any]:
    """The run's settings and provenance, without storage options (they may hold secrets)."""
    c = ctx.config
    locations = ("store", "model", "filled", "truth", "other_pass")
    settings = {
        f.name: getattr(c, f.name) for f in dataclasses.fields(c) if f.name not in locations
    }
    return {
        "sgdsm_cloud_version": __version__,
        "store": redact(c.store.url),
        "model": redact(c.model.url),
        "model_sha256": ctx.checkpoint.sha256,
        "model_config": ctx.checkpoint.config.to_dict(),
        "filled": redact(c.filled.url) if c.filled else None,
        "truth": redact(c.truth.url) if c.truth else None,
        **({"other_pass": redact(c.other_pass.url)} if c.other_pass else {}),
        "validated_days": [f"{ctx.dates[d]:%Y-%m-%d}" for d in ctx.days],
        "settings": settings,
    }
