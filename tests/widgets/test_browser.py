"""The widgets in a real browser: JupyterLab on 127.0.0.1 with a token, Debian's Chromium driven by
Playwright. A notebook builds the sample explorer, the keyframe editor and the preference study
over a tiny workspace; the test runs it, drags a keyframe marker with the mouse, and checks that
the kernel regenerated a different sequence, then picks a side in the study.

Screenshots go to the test's tmp folder, and also to ``$SIGNLIB_SCREENSHOTS`` when it is set (the
README's images come from the built workspace instead: ``docs/screenshots.py``). Skips, saying why,
when Chromium or Playwright is missing (``make test`` installs both).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from pathlib import Path

import pytest

HELPERS = Path(__file__).resolve().parents[1] / "helpers"
sys.path.insert(0, str(HELPERS))

from lab_browser import CHROMIUM, drag, jupyterlab, run_notebook  # noqa: E402

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="no chromium on the PATH (Debian: apt-get install chromium; "
                                                "`make test` installs it)"),
]


def _notebook(root: Path) -> Path:
    def cell(source: str) -> dict:
        return {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": source}

    cells = [cell(f"import sys\nsys.path.insert(0, {str(HELPERS)!r})\nfrom browser_workspace import build\n"
                  f"explorer, editor, study = build({str(root)!r})"),
             cell("explorer.show()"), cell("editor.show()"), cell("study.show()")]
    nb = {"cells": cells, "nbformat": 4, "nbformat_minor": 5,
          "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}}
    path = root / "widgets.ipynb"
    path.write_text(json.dumps(nb))
    return path


@pytest.fixture
def lab(tmp_path):
    """A JupyterLab server on 127.0.0.1 serving ``tmp_path``; yields its base URL and token."""
    with jupyterlab(tmp_path) as server:
        yield server


def _shot(locator, name: str, tmp_path: Path) -> Path:
    path = tmp_path / name
    locator.screenshot(path=str(path))
    if os.environ.get("SIGNLIB_SCREENSHOTS"):
        target = Path(os.environ["SIGNLIB_SCREENSHOTS"])
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target / name)
    return path


def _generation(page) -> tuple[int, float]:
    text = page.locator(".signlib-editor-status").inner_text()
    m = re.search(r"generation (\d+):.*mean change (\S+)", text)
    assert m, text
    return int(m.group(1)), float(m.group(2).rstrip(";"))


def test_drag_a_keyframe_in_jupyterlab_and_the_sequence_regenerates(lab, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e .[dev])")
    url, token = lab
    _notebook(tmp_path)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1280, "height": 1400})
        run_notebook(page, url, token, "widgets.ipynb")
        timeline = page.locator(".signlib-timeline")
        timeline.wait_for(timeout=240_000)
        page.locator(".signlib-editor-status").filter(has_text="generation 1").wait_for(timeout=120_000)
        # The explorer's slider and figure, the study's videos and buttons rendered as widgets too.
        page.locator(".widget-slider").first.wait_for()
        page.locator("video").first.wait_for(timeout=60_000)
        assert _generation(page)[0] == 1

        marker = timeline.locator(".keyframe[data-index='1'] circle")
        before_frame = int(timeline.locator(".keyframe[data-index='1']").get_attribute("data-frame"))
        drag(page, marker, 80)
        page.locator(".signlib-editor-status").filter(has_text="generation 2").wait_for(timeout=60_000)
        generation, change = _generation(page)
        frames = [int(f) for f in timeline.locator(".keyframe").evaluate_all(
            "nodes => nodes.map(n => n.dataset.frame)")]
        assert generation == 2 and change > 0, (generation, change)
        assert before_frame not in frames and len(frames) == 6, (before_frame, frames)
        editor = page.locator(".signlib-editor")
        shot = _shot(editor, "widget_editor.png", tmp_path)
        assert shot.stat().st_size > 10_000

        _shot(page.locator(".signlib-explorer"), "widget_explorer.png", tmp_path)
        study = page.locator(".signlib-preference")
        study.scroll_into_view_if_needed()
        progress = study.locator(".signlib-preference-progress")
        first = progress.inner_text()
        _shot(study, "widget_preference.png", tmp_path)
        study.get_by_role("button", name=re.compile("Left is more natural")).click()
        page.wait_for_function("(t) => document.querySelector('.signlib-preference-progress').innerText != t",
                               arg=first, timeout=30_000)
        browser.close()
    answers = [json.loads(line) for line in (tmp_path / "answers.jsonl").read_text().splitlines()]
    assert len(answers) == 1 and answers[0]["choice"] == "left"
