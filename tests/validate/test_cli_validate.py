from sgdsm_cloud import cli


def test_validate_command_writes_the_report_and_says_where(
    tmp_path, tiny_store, tiny_model_dir, capsys
):
    report = tmp_path / "report"
    code = cli.main(
        [
            "-q",
            "validate",
            "--store",
            str(tiny_store),
            "--model",
            str(tiny_model_dir),
            "--report",
            str(report),
            "--gap-size",
            "9",
            "--gaps-per-day",
            "1",
            "--days",
            "2017-08-15",
            "--points",
            "36.6,-97.5",
            "--no-crosscheck",
            "--device",
            "cpu",
        ]
    )
    assert code == cli.EXIT_OK
    assert str(report) in capsys.readouterr().out
    text = (report / "report.md").read_text()
    assert "2017-08-15" in text and "| SGD-SM |" in text
    assert (report / "figures" / "timeseries_21_25.png").exists()


def test_validate_errors_are_one_line(tmp_path, tiny_store, tiny_model_dir, capsys):
    code = cli.main(
        [
            "validate",
            "--store",
            str(tiny_store),
            "--model",
            str(tiny_model_dir),
            "--report",
            str(tmp_path),
            "--points",
            "abc",
        ]
    )
    assert code == cli.EXIT_ERROR
    err = capsys.readouterr().err.strip()
    assert err.startswith("sgdsm validate: error: --points") and "\n" not in err
    code = cli.main(
        [
            "validate",
            "--store",
            str(tmp_path / "none.zarr"),
            "--model",
            str(tiny_model_dir),
            "--report",
            str(tmp_path / "report"),
        ]
    )
    assert code == cli.EXIT_ERROR and "sgdsm ingest" in capsys.readouterr().err


def test_validate_takes_the_shipped_model_by_name(tmp_path, tiny_store):
    from sgdsm_cloud.cli.validate import build_config
    from sgdsm_cloud.model.builtin import checkpoints_dir

    argv = ["validate", "--store", str(tiny_store), "--model", "builtin:lprm-x-d-025",
            "--report", str(tmp_path / "report")]  # fmt: skip
    config = build_config(cli.build_parser().parse_args(argv))
    assert config.model.url == str(checkpoints_dir() / "lprm-x-d-025")
