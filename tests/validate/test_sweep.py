import dataclasses

import pandas as pd
import pytest

from sgdsm_cloud.errors import ConfigError
from sgdsm_cloud.model.config import ModelConfig, TrainConfig
from sgdsm_cloud.storage import Location
from sgdsm_cloud.validate.context import SweepConfig, ValidateConfig
from sgdsm_cloud.validate.sweep import (
    PAPER_SCORES,
    SweepPoint,
    read_sweep,
    run_sweep,
    sweep_plan,
    training_config,
    write_sweep,
)


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


TINY_TRAINING = TrainConfig(
    patch=16,
    stride=8,
    epochs=1,
    samples_per_epoch=16,
    batch_size=8,
    max_validation_samples=8,
    gap_library_size=16,
)


def tiny_plan() -> list[SweepPoint]:
    base = ModelConfig(layers=2, features=4)
    return [
        SweepPoint("kernel", 3, base),
        SweepPoint("kernel", 5, dataclasses.replace(base, kernel=5)),
        SweepPoint("layers", 2, base),
    ]


def sweep_config(tmp_path, tiny_store, **kw) -> SweepConfig:
    base = {"store": Location(str(tiny_store)), "out": tmp_path / "sweep", "gap_size": 9,
            "gaps_per_day": 2, "gap_margin": 2, "context": 6, "n_days": 2, "device": "cpu"}  # fmt: skip
    return SweepConfig(**{**base, **kw})


@pytest.fixture(scope="module")
def swept(tmp_path_factory, tiny_store):
    config = sweep_config(tmp_path_factory.mktemp("sweep"), tiny_store)
    return config, run_sweep(config, tiny_plan(), TINY_TRAINING)


def test_sweep_trains_each_configuration_once_and_tabulates_it(swept):
    config, result = swept
    table = result.table
    assert list(table["configuration"]) == ["k3_l2_f4", "k5_l2_f4", "k3_l2_f4"]
    assert table["RMSE"].notna().all() and table["R"].between(-1, 1).all()
    assert table.iloc[0]["RMSE"] == table.iloc[2]["RMSE"]  # the shared default is trained once
    assert sorted(p.name for p in (config.out / "sweep_models").iterdir()) == [
        "k3_l2_f4",
        "k5_l2_f4",
    ]
    assert pd.isna(table["paper R"]).all()
    assert (result.preset, result.epochs, result.base["layers"]) == ("small", 1, 2)
    assert result.days == ("2017-08-14", "2017-08-20")
    assert result.gaps == dataclasses.asdict(config.gaps)


def test_the_sweep_table_reads_back_exactly_and_renders_as_a_report_section(swept, tmp_path):
    from sgdsm_cloud.validate.render import sweep_section

    _, result = swept
    path = write_sweep(result, tmp_path)
    assert path == tmp_path / "sweep.csv" and (tmp_path / "sweep.json").is_file()
    back = read_sweep(path)
    pd.testing.assert_frame_equal(back.table, result.table)  # full precision
    assert back.settings() == result.settings()
    section = sweep_section(back)
    assert section.title == "Sensitivity sweep (small)"
    assert section.tables[0].name == "sweep_small"
    assert "on the simulated gaps of the main table" in section.paragraphs[0]
    other = sweep_section(back, same_gaps=False).paragraphs[0]
    assert "its own simulated gaps (9 x 9 cells, squares mode, seed 0" in other


def test_a_missing_or_foreign_sweep_table_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        read_sweep(tmp_path / "sweep.csv")
    pd.DataFrame({"a": [1]}).to_csv(tmp_path / "sweep.csv", index=False)
    (tmp_path / "sweep.json").write_text("{}")
    with pytest.raises(ConfigError, match="not a table from 'sgdsm sweep'"):
        read_sweep(tmp_path / "sweep.csv")


def test_validate_runs_or_includes_a_sweep_not_both(tmp_path, tiny_store, tiny_model_dir):
    where = {"store": Location(str(tiny_store)), "model": Location(str(tiny_model_dir))}
    with pytest.raises(ConfigError, match="not both"):
        ValidateConfig(**where, report=tmp_path, sweep="small", sweep_table=tmp_path / "s.csv")
    config = ValidateConfig(**where, report=tmp_path, sweep="paper", gap_size=9, seed=4)
    sweep = config.sweep_config()
    assert (sweep.preset, sweep.out, sweep.model, sweep.gaps) == (
        "paper",
        tmp_path,
        config.model,
        config.gaps,
    )
