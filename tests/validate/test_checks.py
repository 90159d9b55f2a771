"""The checks compute numbers without drawing: no matplotlib, no file written, scores as expected."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import REAL_ISMN

COSMOS = REAL_ISMN / "Data_seperate_files_header_20170810_20180809"
REPO = Path(__file__).resolve().parents[2]

# Runs in a fresh interpreter, so that nothing imported by the test session hides an import.
COMPUTE = """
import json, sys
from pathlib import Path
from sgdsm_cloud.storage import Location
from sgdsm_cloud.validate.context import ValidateConfig
from sgdsm_cloud.validate.run import compute_validation

store, model, truth, insitu, report = sys.argv[1:]
config = ValidateConfig(
    store=Location(store), model=Location(model), report=Path(report), truth=Location(truth),
    insitu=Path(insitu), insitu_depth="0,0.25", gap_size=9, gaps_per_day=3, gap_margin=2,
    context=6, crosscheck=False, device="cpu",
)
v = compute_validation(config)
simulated = v.simulated.table.set_index("method")
truth = v.truth.table.set_index("method")
insitu = v.insitu.scores.set_index("days")
series = v.timeseries.table
print(json.dumps({
    "matplotlib": "matplotlib" in sys.modules,
    "report_written": Path(report).exists(),
    "simulated_n": simulated["N"].to_dict(),
    "simulated_rmse": simulated["RMSE"].to_dict(),
    "blocks": len(v.simulated.blocks),
    "hidden": int(v.simulated.blocks["hidden cells"].sum()),
    "pairs": {k: len(p) for k, (p, r) in v.simulated.pairs.items()},
    "shown": len(v.simulated.shown),
    "map_day": f"{v.product_map.date:%Y-%m-%d}",
    "map_counts": v.product_map.counts.to_dict(),
    "map_cells": int(v.product_map.fields["flag"].size),
    "insitu_n": insitu["N"].to_dict(),
    "insitu_skipped": list(v.insitu.skipped["reason"]),
    "series_days": (series["observed days"] + series["filled days"]
                    + series["not filled days"]).tolist(),
    "series_shape": dict(v.timeseries.series.sizes),
    "truth_n": truth["N"].to_dict(),
    "truth_rmse": truth["RMSE"].to_dict(),
    "validated_days": v.run["validated_days"],
    "distance_n": int(v.simulated.by_distance["N"].sum()),
    "distance_columns": list(v.simulated.by_distance.columns),
    "truth_distance_n": int(v.truth.by_distance["N"].sum()),
}))
"""


def test_checks_compute_the_scores_without_matplotlib_or_files(
    tmp_path, tiny_store, tiny_model_dir, truth_store
):
    report = tmp_path / "report"
    argv = [str(tiny_store), str(tiny_model_dir), str(truth_store), str(COSMOS), str(report)]
    result = subprocess.run(
        [sys.executable, "-c", COMPUTE, *argv],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["matplotlib"] is False and out["report_written"] is False
    # 4 days x 3 blocks of 9 x 9 cells, every method scored on the same cells
    assert out["blocks"] == 12 and out["hidden"] == 12 * 81
    for method in ("SGD-SM", "linear interpolation", "window mean", "DCT-PLS"):
        assert out["simulated_n"][method] == 12 * 81 == out["pairs"][method]
    assert out["simulated_n"]["climatology"] == 0  # 15 days: no climatology
    assert out["simulated_rmse"]["linear interpolation"] < 0.005  # smooth field, exact references
    assert out["shown"] == 3
    assert out["map_day"] == out["validated_days"][0] == "2017-08-14"
    assert sum(out["map_counts"].values()) == 3012  # the fillable land cells of the tiny grid
    assert out["map_counts"]["filled"] > 0 and out["map_cells"] == 48 * 64
    assert out["insitu_n"]["all days"] == 15
    assert (
        out["insitu_n"]["all days"]
        == out["insitu_n"]["observed days"] + out["insitu_n"]["filled days"]
    )
    assert out["insitu_skipped"] == ["outside the cube's grid"]
    assert out["series_days"] == [15] * 4 and out["series_shape"] == {"time": 15, "point": 4}
    assert out["truth_n"]["SGD-SM"] == out["truth_n"]["window mean"] > 0
    assert out["truth_rmse"]["linear interpolation"] < 0.005
    # the by-distance tables split the same cells: every hidden cell in one bin
    assert out["distance_n"] == 12 * 81
    assert "SGD-SM / linear interpolation" in out["distance_columns"]
    assert out["truth_distance_n"] == out["truth_n"]["SGD-SM"]


def test_the_gapfilled_peer_is_scored_only_when_asked(tiny_store):
    from types import SimpleNamespace

    from sgdsm_cloud import cube
    from sgdsm_cloud.validate import checks, gapfilled, methods

    raw = cube.open_cube(str(tiny_store))
    config = SimpleNamespace(crosscheck=False, peer=False)
    ctx = SimpleNamespace(raw=raw, dates=raw.indexes["time"], filler=None, config=config)
    fillers, unavailable = checks._gap_methods(ctx)
    assert {gapfilled.NAME, methods.DCT_PLS_PYTESMO}.isdisjoint({*fillers, *unavailable})
    config.peer = True  # seconds per gap: asked for by make demo-real and the benchmarks
    fillers, unavailable = checks._gap_methods(ctx)
    if gapfilled.NAME in unavailable:  # an installation without the crosscheck extra
        assert "pytesmo is not installed" in unavailable[gapfilled.NAME]
    else:
        assert callable(fillers[gapfilled.NAME])
