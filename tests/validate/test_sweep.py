import dataclasses

import pandas as pd

from sgdsm_cloud.model.config import ModelConfig, TrainConfig
from sgdsm_cloud.storage import Location
from sgdsm_cloud.validate.context import ValidateConfig
from sgdsm_cloud.validate.masks import GapConfig
from sgdsm_cloud.validate.run import open_context
from sgdsm_cloud.validate.sweep import PAPER_SCORES, SweepPoint, sweep_plan, training_config


def test_paper_sweep_varies_one_factor_at_a_time_around_the_default():
    plan = sweep_plan("paper")
    assert [(p.factor, p.value) for p in plan] == list(PAPER_SCORES)
    default = ModelConfig.preset("paper")
    for point in plan:
        changed = {
            f
            for f in ("kernel", "layers", "features")
            if getattr(point.config, f) != getattr(default, f)
        }
        assert changed <= {point.factor}
    assert len({p.name for p in plan}) == 7  # the default appears once per factor


def test_small_sweep_scales_the_small_preset():
    plan = sweep_plan("small")
    small = ModelConfig.preset("small")
    assert [p.value for p in plan if p.factor == "layers"] == [
        small.layers - 1,
        small.layers,
        small.layers + 1,
    ]
    assert [p.value for p in plan if p.factor == "features"] == [16, 24, 32]
    assert training_config("small", None).epochs < TrainConfig().epochs
    assert training_config("paper", TrainConfig(epochs=7)).epochs == 7


def test_sweep_trains_each_configuration_once_and_tabulates_it(
    tmp_path, tiny_store, tiny_model_dir
):
    from sgdsm_cloud.validate.sweep import run_sweep

    config = ValidateConfig(
        store=Location(str(tiny_store)),
        model=Location(str(tiny_model_dir)),
        report=tmp_path / "report",
        gaps=GapConfig(size=9, per_day=2, margin=2),
        context=6,
        sweep="small",
        n_days=2,
    )
    base = ModelConfig(layers=2, features=4)
    plan = [
        SweepPoint("kernel", 3, base),
        SweepPoint("kernel", 5, dataclasses.replace(base, kernel=5)),
        SweepPoint("layers", 2, base),
    ]
    train_cfg = TrainConfig(
        patch=16,
        stride=8,
        epochs=1,
        samples_per_epoch=16,
        batch_size=8,
        max_validation_samples=8,
        gap_library_size=16,
    )
    section = run_sweep(open_context(config), plan, train_cfg)
    table = section.tables[0].frame
    assert list(table["configuration"]) == ["k3_l2_f4", "k5_l2_f4", "k3_l2_f4"]
    assert table["RMSE"].notna().all()
    assert table.iloc[0]["RMSE"] == table.iloc[2]["RMSE"]  # the shared default is trained once
    assert sorted(p.name for p in (tmp_path / "report" / "sweep_models").iterdir()) == [
        "k3_l2_f4",
        "k5_l2_f4",
    ]
    assert pd.isna(table["paper R"]).all()
