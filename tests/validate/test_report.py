import numpy as np
import pandas as pd
from matplotlib.image import imread

from sgdsm_cloud.validate import figures
from sgdsm_cloud.validate.report import FigureRef, Section, Table, markdown_table, write_report


def test_markdown_table_formats_numbers_and_missing_values():
    frame = pd.DataFrame({"method": ["a|b"], "R": [0.96812], "N": [np.int64(12)], "bias": [np.nan]})
    assert markdown_table(frame).splitlines() == [
        "| method | R | N | bias |",
        "|---|---|---|---|",
        "| a\\|b | 0.9681 | 12 | n/a |",
    ]


def test_report_writes_tables_documents_and_figures(tmp_path):
    rng = np.random.default_rng(0)
    scatter = figures.scatter_density(
        tmp_path / "figures" / "s.png", {"m": (rng.random(50), rng.random(50))}, "t", "x", "y"
    )
    times = np.arange("2015-04-01", "2015-04-11", dtype="datetime64[D]")
    series = figures.time_series(
        tmp_path / "figures" / "ts.png",
        times,
        rng.random(10),
        np.array([1, 2] * 5),
        "p",
        insitu=rng.random(10),
    )
    section = Section(
        "Scores",
        ["A paragraph."],
        [Table("scores", "Caption", pd.DataFrame({"method": ["SGD-SM"], "RMSE": [0.05]}))],
        [FigureRef(scatter, "Scatter"), FigureRef(series, "Series")],
    )
    path = write_report(tmp_path, "Title", [section])
    md, page = path.read_text(), (tmp_path / "report.html").read_text()
    assert "| SGD-SM | 0.0500 |" in md and "![Scatter](figures/s.png)" in md
    assert "<td>SGD-SM</td>" in page and "src='figures/ts.png'" in page
    assert pd.read_csv(tmp_path / "tables" / "scores.csv")["RMSE"].iloc[0] == 0.05
    for png in (scatter, series):
        assert imread(png).shape[2] in (3, 4)
