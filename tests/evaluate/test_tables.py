"""Tables in three formats from one list of rows."""

import math

import pytest

from signlib.errors import SignlibError
from signlib.evaluate.tables import mean_std_table, to_latex, write_table

ROWS = [{"model": "SLERP", "DTW-JPE": 0.12345, "n": 3}, {"model": "Sign_SparK", "DTW-JPE": 0.1, "n": 4}]


def test_write_table_writes_markdown_csv_and_latex(tmp_path):
    md = write_table(ROWS, tmp_path / "t", caption="Test table.")
    assert "| SLERP | 0.123 | 3 |" in md
    assert (tmp_path / "t.csv").read_text().splitlines()[1] == "SLERP,0.12345,3"
    tex = (tmp_path / "t.tex").read_text()
    assert r"Sign\_SparK" in tex and r"\begin{tabular}{lrr}" in tex
    assert (tmp_path / "t.md").read_text().startswith("Test table.")


def test_latex_escapes_specials():
    assert r"50\%" in to_latex([{"a": "50%"}])


def test_ragged_or_empty_rows_are_errors(tmp_path):
    with pytest.raises(SignlibError, match="no rows"):
        write_table([], tmp_path / "t")
    with pytest.raises(SignlibError, match="different columns"):
        write_table([{"a": 1}, {"b": 2}], tmp_path / "t")


def test_mean_std_table_scales_labels_and_marks_missing_columns(tmp_path):
    summary = [{"language": "all", "system": "A", "clips": 3, "body_mean": 0.0123, "body_mean_std": 0.002}]
    display, numeric = mean_std_table(summary, {"body (cm/step)": ("body_mean", 100.0), "pa (cm)": ("pa_mean", 100.0)})
    assert display == [{"language": "all", "system": "A", "clips": 3, "body (cm/step)": "1.23 ± 0.20", "pa (cm)": "–"}]
    assert numeric[0]["body (cm/step)"] == pytest.approx(1.23) and numeric[0]["body (cm/step) std"] == pytest.approx(0.2)
    assert math.isnan(numeric[0]["pa (cm)"])
    write_table(display, tmp_path / "t", csv_rows=numeric)
    assert (tmp_path / "t.csv").read_text().splitlines()[0] == "language,system,clips,body (cm/step),body (cm/step) std,pa (cm),pa (cm) std"
    tex = (tmp_path / "t.tex").read_text()
    assert r"1.23 $\pm$ 0.20" in tex and " -- " in tex
