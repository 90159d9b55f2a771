"""``sgdsm synth OUT_DIR --start D --end D``: write a synthetic AMSR2 archive (LPRM or JAXA files) and its complete truth cube.

Write physically plausible synthetic soil moisture as daily archive files in the real LPRM
(NetCDF4) or JAXA (HDF5) layout, with AMSR2 swath and retrieval gaps, plus OUT_DIR/truth.zarr
holding the complete field. The same seed gives the same values at a cell and day whatever
region or period is asked for, and whatever cluster writes them: spans of days run on a
LocalCluster of --workers processes, or on the cluster at --scheduler (default: in this
process). See docs/synth.md.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from sgdsm_cloud.cli.command import add_step, step_client
from sgdsm_cloud.options import Cluster, from_args, url
from sgdsm_cloud.storage import Location


@dataclass(frozen=True)
class SynthIO:
    """Where ``sgdsm synth`` writes."""

    out_dir: Location = url(
        "output folder: local path or s3://... URL", positional=True, metavar="OUT_DIR"
    )


def register(subparsers: argparse._SubParsersAction) -> None:
    from sgdsm_cloud.synth.config import SynthConfig

    add_step(subparsers, "synth", __doc__, run, SynthIO, SynthConfig,
             cluster="where the days are written (Cluster)")  # fmt: skip


def run(args: argparse.Namespace) -> int:
    from sgdsm_cloud.storage import check_reachable
    from sgdsm_cloud.synth import SynthConfig, write_archive

    config, out = from_args(SynthConfig, args), from_args(SynthIO, args).out_dir
    check_reachable(out)
    with step_client(from_args(Cluster, args), default_workers=1) as client:
        written = write_archive(
            config, out.url, storage_options=out.storage_options or None, client=client
        )
    kind = "LPRM NetCDF4" if config.fmt == "lprm" else "JAXA HDF5"
    print(
        f"sgdsm synth: {len(written.files)} {kind} files ({config.start}..{config.end}, pass {config.pass_}) in {out.url}"
    )
    print(f"sgdsm synth: truth cube in {written.truth}")
    return 0
