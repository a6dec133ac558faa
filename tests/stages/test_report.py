"""The report stage on a fake results tree: every table and figure in report.md and in a
self-contained report.html, relative video links that resolve, stages not built reported as such,
stage times from papermill and the benchmark, and the Markdown subset the HTML converter reads."""

import base64
import html
import json
import re
import shutil
from pathlib import Path
from urllib.parse import unquote

import numpy as np
import pytest
from PIL import Image

from signlib.config import load_params
from signlib.errors import SignlibError
from signlib.evaluate.tables import to_markdown, write_table
from signlib.stages import report
from signlib.stages.common import Stage
from signlib.stages.report_html import Converter, anchor, split_row, to_html

REPO = Path(__file__).resolve().parents[2]


def _png(path: Path, size: int = 24, noise: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 255, (size, size, 3), dtype=np.uint8) if noise else np.full((size, size, 3), 90, np.uint8)
    Image.fromarray(pixels).save(path)
    return path


def _executed(path: Path, seconds: float) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"cells": [], "metadata": {"papermill": {
        "duration": seconds, "end_time": "2024-05-01T10:11:12.5", "exception": None}}}))


def _tree(root: Path) -> Path:
    """A repository with corpus, evaluate and render built, ablations with only its committed
    metrics.json, and the other notebook stages missing."""
    shutil.copy(REPO / "dvc.yaml", root / "dvc.yaml")
    (root / "benchmarks/results").mkdir(parents=True)
    (root / "benchmarks/results/pipeline.json").write_text(json.dumps(
        {"cpus": 2, "python": "3.11.7", "stages": [{"stage": "train_fast", "seconds": 357.6},
                                                   {"stage": "corpus", "seconds": 58.1}]}))
    results = root / "results"
    write_table([{"language": "ASL", "clips": 12, "frames": 3456.25}], results / "corpus/tables/stats",
                caption="Clips per language")
    _png(results / "corpus/figures/clip_lengths.png")
    (results / "corpus/metrics.json").write_text(json.dumps({"corpus": {"clips": 12, "languages": 4},
                                                             "ok": True, "picks": [{"a": 1}]}))
    _executed(results / "corpus/01_curate_poses.ipynb", 12.5)
    write_table([{"claim": "KF2P beats SLERP (whole clip)", "holds": "yes", "evidence": "0.89 vs 2.42"}],
                results / "evaluate/tables/claims", caption="The paper's claims on this corpus")
    write_table([{"system": "SLERP", "DTW-JPE body (cm/step)": "2.42 ± 0.31"}],
                results / "evaluate/tables/table3_kf2p", caption="Table 3: keyframe-to-pose")
    _png(results / "evaluate/figures/regression_to_mean.png")
    _executed(results / "evaluate/05_evaluate.ipynb", 206.1)
    (results / "ablations").mkdir()
    (results / "ablations/metrics.json").write_text(json.dumps({"claims": {"masking_does_not_help": True}}))
    (results / "render/videos").mkdir(parents=True)
    (results / "render/videos/ASL 0_skeleton.mp4").write_bytes(b"\0" * 100)  # a space: links must be encoded
    (results / "render/study").mkdir()
    (results / "render/study/answers.json").write_text("{}")
    _executed(results / "render/07_render.ipynb", 80.0)
    return root


def _stage(root: Path, **overrides) -> Stage:
    params = load_params(REPO / "params.yaml", base__results_dir=str(root / "results"), **overrides)
    return Stage("report", params, interactive=False)


@pytest.fixture()
def built(tmp_path):
    stage = _stage(_tree(tmp_path))
    found = report.collect(stage, tmp_path)
    written = report.write(stage, found)
    return stage, found, written, written.html_path.read_text()


def test_markdown_and_html_show_every_table_and_figure(built):
    stage, found, written, page = built
    md = written.markdown
    for text in ("Clips per language", "3456.250", "The paper's claims on this corpus", "2.42 ± 0.31",
                 "Table 3: keyframe-to-pose"):
        assert text in md and html.escape(text, quote=False) in page, text
    for figure in (stage.results.parent / "corpus/figures/clip_lengths.png",
                   stage.results.parent / "evaluate/figures/regression_to_mean.png"):
        assert f"]({report._link(figure, stage.results)})" in md
        assert base64.b64encode(figure.read_bytes()).decode() in page
    assert "| corpus.clips | 12 |" in md and "| ok | true |" in md and "| picks.0.a | 1 |" in md


def test_html_is_self_contained(built):
    page = built[3]
    assert 'src="http' not in page and "<link" not in page and "<script" not in page and "@import" not in page
    sources = re.findall(r'<img [^>]*src="([^"]*)"', page)
    assert len(sources) == 2 and all(s.startswith("data:image/png;base64,") for s in sources)
    # every internal link lands on a heading
    ids = set(re.findall(r' id="([^"]+)"', page))
    assert {h[1:] for h in re.findall(r'href="(#[^"]+)"', page)} <= ids


def test_video_and_study_links_are_relative_and_resolve(built):
    stage, _, written, page = built
    links = re.findall(r"\]\(([^)]+)\)", written.markdown)
    files = [h for h in links if "/videos/" in h or "/study/" in h]
    assert len(files) == 2
    for href in files:
        assert not href.startswith(("/", "http")) and " " not in href
        assert (stage.results / unquote(href)).resolve().is_file()
        assert f'href="{href}"' in page


def test_stages_not_built_are_reported_not_fatal(built, tmp_path):
    found, md = built[1], built[2].markdown
    status = {s.spec.name: s.status for s in found.sections}
    assert status["corpus"] == status["evaluate"] == status["render"] == "built"
    assert status["fast"] == status["keyframes"] == status["signspark"] == "not built"
    assert status["ablations"] == "not built (metrics.json only)"
    assert "masking_does_not_help" in md  # its committed metrics are still shown
    empty = tmp_path / "empty"
    empty.mkdir()
    shutil.copy(REPO / "dvc.yaml", empty / "dvc.yaml")
    stage = _stage(empty)
    written = report.write(stage, report.collect(stage, empty))
    assert written.markdown.count("**not built**") == 7 and "No claims table yet" in written.markdown
    assert report.metrics(report.collect(stage, empty), written)["stages"] == {"built": 0, "not_built": 7}


def test_sections_follow_the_pipeline_with_their_descriptions(built):
    found, md = built[1], built[2].markdown
    names = [s.spec.name for s in found.sections]
    assert names == ["corpus", "fast", "keyframes", "signspark", "evaluate", "ablations", "render"]
    positions = [md.index(f"\n## {k}. {name}\n") for k, name in enumerate(names, 1)]
    assert positions == sorted(positions)
    assert all(s.spec.desc and s.spec.desc in md for s in found.sections)
    assert md.index("## Claims") < md.index("## Stage times") < positions[0]
    assert md.count("| KF2P beats SLERP (whole clip) |") == 1  # the claims table once, in its section


def test_stage_times_come_from_papermill_and_the_benchmark(built):
    rows = {r.split("|")[1].strip(): [c.strip() for c in r.split("|")[2:-1]]
            for r in report.stage_times(built[1]).splitlines()[2:]}
    assert rows["corpus"] == ["notebook", "12.5", "2024-05-01 10:11:12", "58.1"]
    assert rows["train_fast"] == ["training", "not recorded", "", "357.6"]
    assert rows["fast"][1] == "not built" and "train_ablation@ddpm" in rows
    assert rows["**total**"][1] == f"{12.5 + 206.1 + 80.0:.1f}"
    assert list(rows).index("train_fast") < list(rows).index("fast") < list(rows).index("train_signspark")


def test_metrics_count_what_the_report_covers(built):
    stage, found, written, _ = built
    metrics = stage.write_metrics(report.metrics(found, written))
    assert metrics["stages"] == {"built": 3, "not_built": 4}
    assert (metrics["tables"], metrics["figures"], metrics["videos"]) == (3, 2, 1) and metrics["html_kb"] > 0


def test_figures_are_linked_when_not_embedded_and_downscaled_above_the_limit(tmp_path):
    big = _png(tmp_path / "figures/big.png", size=300, noise=True)
    md = "![big](figures/big.png)\n"
    linked = to_html(md, tmp_path, "t", embed=False)
    assert '<img alt="big" src="figures/big.png">' in linked
    page = to_html(md, tmp_path, "t", embed=True, max_kb=20)
    data = base64.b64decode(re.search(r"base64,([^\"]+)", page)[1])
    assert len(data) <= 20 * 1024 < big.stat().st_size
    assert '<a href="figures/big.png"><img' in page  # the full size one click away
    assert "missing: figures/none.png" in to_html("![x](figures/none.png)\n", tmp_path, "t")


def test_converter_reads_alignment_rows_and_right_aligns_numbers(tmp_path):
    md = "| name | n | score | mid |\n|:---|---|---:|:---:|\n| a | 12 | x | y |\n| b | -1.5e-3 | z | w |\n"
    page = Converter(tmp_path).body(md)
    assert '<th class="left">name</th><th class="num">n</th><th class="num">score</th><th class="center">mid</th>' \
        in page
    table = to_markdown([{"system": "SLERP", "body": 2.4213, "± cell": "0.12 ± 0.03", "n": 240, "gap": "nan"}])
    page = Converter(tmp_path).body(table)
    assert '<td>SLERP</td><td class="num">2.421</td><td class="num">0.12 ± 0.03</td><td class="num">240</td>' in page
    assert page.count("<tr>") == 2 and '<td class="num">nan</td>' in page


def test_converter_keeps_pipes_inside_cells(tmp_path):
    assert split_row(r"| a \| b | c |") == ["a | b", "c"]
    page = Converter(tmp_path).body("| x | y |\n|---|---|\n| a \\| b | c |\n| 1 | 2 | 3 |\n")
    assert "<td>a | b</td><td>c</td>" in page
    assert "<td>2 | 3</td>" in page  # an unescaped pipe (tables.py does not escape): the text is kept


def test_converter_headings_lists_links_and_escapes(tmp_path):
    page = Converter(tmp_path).body("# A <b> & `c|d`\n\n- [one](#one)\n  - **two**\n- three\n\nplain *x* line\n")
    assert '<h1 id="a-b--cd">A &lt;b&gt; &amp; <code>c|d</code></h1>' in page
    assert '<ul><li><a href="#one">one</a><ul><li><strong>two</strong></li></ul></li><li>three</li></ul>' in page
    assert "<p>plain *x* line</p>" in page
    assert anchor("2. fast") == "2-fast" and anchor("Stage times") == "stage-times"
    repeated = Converter(tmp_path)
    assert [repeated.heading(2, "Tables") for _ in range(2)] == ['<h2 id="tables">Tables</h2>',
                                                                 '<h2 id="tables-1">Tables</h2>']


def test_git_commit_is_read_from_the_repository_files(tmp_path):
    assert report.git_commit(tmp_path) is None
    git = tmp_path / ".git"
    (git / "refs/heads").mkdir(parents=True)
    (git / "HEAD").write_text("ref: refs/heads/main\n")
    (git / "packed-refs").write_text("# pack-refs\n" + "a" * 40 + " refs/heads/main\n")
    assert report.git_commit(tmp_path) == "a" * 40
    (git / "refs/heads/main").write_text("b" * 40 + "\n")
    assert report.git_commit(tmp_path) == "b" * 40
    (git / "HEAD").write_text("c" * 40)  # detached
    assert report.git_commit(tmp_path) == "c" * 40


@pytest.mark.parametrize("key,value,message", [("report__colour", 1, "unknown key report.colour"),
                                               ("report__max_figure_kb", -1, "report.max_figure_kb"),
                                               ("report__title", " ", "report.title"),
                                               ("report__embed_figures", 1, "report.embed_figures: expected bool")])
def test_report_params_are_checked(key, value, message):
    with pytest.raises(SignlibError, match=re.escape(message)):
        load_params(REPO / "params.yaml", **{key: value})


def test_a_broken_executed_notebook_is_a_one_line_error_naming_it(tmp_path):
    root = _tree(tmp_path)
    (root / "results/corpus/01_curate_poses.ipynb").write_text('{"cells": [')
    with pytest.raises(SignlibError, match=r"01_curate_poses\.ipynb: not valid JSON"):
        report.collect(_stage(root), root)
