"""The accuracy benchmark's two-pass part, end to end at a smoke-test size."""

from __future__ import annotations

import dataclasses

from benchmarks.bench_accuracy import QUICK, TWO_PASS, passes_part
from sgdsm_cloud.model.checkpoint import load_checkpoint
from sgdsm_cloud.validate.methods import SGDSM


def test_the_passes_part_trains_both_models_and_scores_them_on_the_same_cells(tmp_path):
    settings = dataclasses.replace(
        QUICK, epochs=1, samples_per_epoch=16, squares_per_day=2, synth_days=16, synth_train_days=8,
        context=4,
    )  # fmt: skip
    result = passes_part(tmp_path, settings)
    assert load_checkpoint(tmp_path / "model_synth").config.passes == 1
    two = load_checkpoint(tmp_path / "model_synth_2pass")
    assert two.config.passes == 2 and two.provenance["other_pass"]["store"].endswith("synth_A.zarr")
    for table in ("squares", "truth_in_real_gaps"):
        rows = {row["method"]: row for row in result[table]}
        assert rows[SGDSM]["N"] == rows[TWO_PASS]["N"] > 0
    seen, unseen = result["truth_by_other_pass"]
    truth = {row["method"]: row for row in result["truth_in_real_gaps"]}
    assert seen["N"] > 0 and unseen["N"] > 0
    assert seen["N"] + unseen["N"] >= truth[SGDSM]["N"]  # the model fills more than all share
    assert result["sigma"]["N"] > 0 and 0 < result["sigma"]["+-2 sigma"] <= 1
