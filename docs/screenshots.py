"""The README's widget screenshots, taken from the built workspace in a real browser.

Usage (after ``make repro``): ``.venv/bin/python docs/screenshots.py [--out docs/images]``

Opens ``notebooks/explore.ipynb`` in JupyterLab (Debian's Chromium through Playwright, as the
browser test does), runs it on the workspace's own models and videos, drags the fifth keyframe
marker 60 pixels to the right, moves the cursor onto it, and saves ``widget_explorer.png``,
``widget_editor.png`` and ``widget_preference.png``. Its answers file goes to a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "helpers"))

from lab_browser import CHROMIUM, drag, jupyterlab, run_notebook  # noqa: E402


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=REPO / "docs" / "images")
    args = ap.parse_args(argv)
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        nb = json.loads((REPO / "notebooks" / "explore.ipynb").read_text())
        for cell in nb["cells"]:  # the workspace's params, answers outside it
            if "parameters" in cell.get("metadata", {}).get("tags", []):
                cell["source"] = (f"params_path = {str(REPO / 'params.yaml')!r}\n"
                                  f"answers_path = {str(root / 'answers.jsonl')!r}\nrater = 'screenshots'")
        (root / "explore.ipynb").write_text(json.dumps(nb))
        with jupyterlab(root, cwd=REPO) as (url, token), sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page(viewport={"width": 1280, "height": 1600})
            run_notebook(page, url, token, "explore.ipynb")
            status = page.locator(".signlib-editor-status")
            status.filter(has_text="generation 1").wait_for(timeout=240_000)
            page.locator(".signlib-preference video").first.wait_for(timeout=120_000)
            timeline = page.locator(".signlib-timeline")
            marker = timeline.locator(".keyframe[data-index='4'] circle")
            box = marker.bounding_box()
            drag(page, marker, 60)
            status.filter(has_text="generation 2").wait_for(timeout=60_000)
            strip = timeline.bounding_box()  # the cursor onto the moved keyframe: a click on the BIO strip
            page.mouse.click(box["x"] + box["width"] / 2 + 60, strip["y"] + 16)
            time.sleep(3)  # the frame image and the videos settle
            args.out.mkdir(parents=True, exist_ok=True)
            for name in ("editor", "explorer", "preference"):
                part = page.locator(f".signlib-{name}")
                part.scroll_into_view_if_needed()
                part.screenshot(path=str(args.out / f"widget_{name}.png"))
            print(status.inner_text())
            browser.close()


if __name__ == "__main__":
    main()
