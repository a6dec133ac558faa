"""The preference study in a notebook: two looping videos, two buttons, the progress, then the summary.

``PreferenceView(Session(study, answers_path, rater)).show()`` draws the current trial of a
:class:`~signlib.widgets.preference.Session`: the two videos of one clip side by side (the mp4 bytes
in ``ipywidgets.Video``, autoplaying and looping; an ``Image`` for write_video's GIF fallback), the
buttons "Left is more natural" / "Right is more natural" and "trial k of n". When the rater is done,
videos and buttons give way to the summary tables (HTML). Order, recording, resuming and statistics
are the session's; this module only draws them. ``choose(side)`` presses a button without a browser.
"""

from __future__ import annotations

import html
import math
from pathlib import Path

import ipywidgets as widgets
from IPython.display import display

from signlib.errors import SignlibError
from signlib.widgets.preference import Session, Summary


def _media(path: Path, width: int) -> widgets.Widget:
    """A looping player for one video file; no caption, so the rater does not see which system it is."""
    data = Path(path).read_bytes()
    if Path(path).suffix == ".gif":
        return widgets.Image(value=data, format="gif", width=width)
    return widgets.Video(value=data, format="mp4", autoplay=True, loop=True, controls=False, width=width)


def _number(x: float, digits: int = 2) -> str:
    return "–" if isinstance(x, float) and math.isnan(x) else f"{x:.{digits}f}"


def _table(header: list[str], rows: list[list]) -> str:
    cells = lambda tag, row: "".join(f"<{tag}>{html.escape(str(c))}</{tag}>" for c in row)  # noqa: E731
    body = "".join(f"<tr>{cells('td', row)}</tr>" for row in rows)
    return f"<table><thead><tr>{cells('th', header)}</tr></thead><tbody>{body}</tbody></table>"


def summary_html(result: Summary) -> str:
    """The summary as HTML: the comparison table, a note on exclusions, the raters' attention checks."""
    comparisons = _table(
        ["comparison", "n", f"{result.method} chosen", "rate", "95 % CI (exact)", "excluded answers"],
        [[r["comparison"], r["n"], r["wins"], _number(r["rate"]), f"[{_number(r['ci_low'])}, {_number(r['ci_high'])}]",
          r["excluded"]] for r in result.comparisons])
    raters = _table(["rater", "comparisons", "attention checks", "passed", "pass rate"],
                    [[r["rater"], r["answers"], r["checks"], r["passed"], _number(r["pass_rate"])]
                     for r in result.raters])
    excluded = ", ".join(result.excluded_raters) or "none"
    note = (f"<p>Raters who failed an attention check are left out of the comparisons "
            f"({len(result.excluded_raters)} excluded: {html.escape(excluded)}).</p>")
    return f"<h4>Preference for {html.escape(result.method)}</h4>{comparisons}{note}<h4>Raters</h4>{raters}"


class PreferenceView:
    """Two videos side by side, the two answer buttons and the progress, over a :class:`Session`."""

    def __init__(self, session: Session, width: int = 360):
        self.session, self.width = session, width
        self.left_button = widgets.Button(description="Left is more natural", layout=widgets.Layout(width=f"{width}px"))
        self.right_button = widgets.Button(description="Right is more natural", layout=widgets.Layout(width=f"{width}px"))
        self.left_button.on_click(lambda _: self._press("left"))
        self.right_button.on_click(lambda _: self._press("right"))
        self.progress = widgets.Label()
        self.videos = widgets.HBox()
        self.buttons = widgets.HBox([self.left_button, self.right_button])
        self.message = widgets.Label()  # a failed write shows here instead of vanishing into the log
        self.result = widgets.HTML()
        self.widget = widgets.VBox([self.progress, self.videos, self.buttons, self.message, self.result])
        # Class names give browser tests (and custom CSS) stable handles on the parts.
        self.widget.add_class("signlib-preference")
        self.progress.add_class("signlib-preference-progress")
        self.refresh()

    def refresh(self) -> None:
        """Show the session's current trial, or the summary when it is done."""
        answered, total = self.session.progress
        trial = self.session.current
        if trial is None:
            self.progress.value = f"done: {total} of {total} trials answered, thank you"
            self.videos.children = ()
            self.buttons.layout.display = "none"
            self.result.value = summary_html(self.session.summary())
            return
        self.progress.value = f"trial {answered + 1} of {total}"
        self.videos.children = (_media(trial.left_path, self.width), _media(trial.right_path, self.width))

    def choose(self, side: str) -> None:
        """Answer the current trial with ``side`` ("left" | "right") and show the next one."""
        self.session.answer(side)
        self.refresh()

    def _press(self, side: str) -> None:
        try:
            self.choose(side)
            self.message.value = ""
        except (SignlibError, OSError) as err:  # a bad press or a full disk: say so, keep the trial
            self.message.value = str(err)

    def show(self) -> None:
        display(self.widget)
