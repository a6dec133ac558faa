"""Sample explorer: choose a language and a clip, scrub its frames, see its BIO timeline.

``SampleExplorer(corpus).show()`` in a live notebook gives dropdowns and a frame slider over a
figure (front and side view of the skeleton, BIO strip with glosses and a cursor). Run headless
(papermill), widgets have no frontend, so ``show(static=True)`` also puts the current figure in
the cell output, where the executed notebook keeps it.
"""

from __future__ import annotations

import ipywidgets as widgets
import matplotlib.pyplot as plt
from IPython.display import display

from signlib.data.corpus import Corpus
from signlib.data.positions import sequence_positions
from signlib.render.skeleton import plot_frame


class SampleExplorer:
    """Dropdowns for language and clip, a slider for the frame, and the figure they select."""

    def __init__(self, corpus: Corpus, split: str | None = None):
        self.corpus, self.split = corpus, split
        langs = corpus.languages()
        self.language = widgets.Dropdown(options=langs, value=langs[0], description="language")
        self.sample = widgets.Dropdown(description="clip")
        self.frame = widgets.IntSlider(min=0, max=0, value=0, description="frame", continuous_update=False)
        self.output = widgets.Output()
        self._cache: dict[str, tuple] = {}
        self.language.observe(lambda _: self._set_samples(), names="value")
        self.sample.observe(lambda _: self._set_frames(), names="value")
        self.frame.observe(lambda _: self.redraw(), names="value")
        self._set_samples()

    def _set_samples(self) -> None:
        ids = [c.id for c in self.corpus.select(self.split, self.language.value)]
        self.sample.options = ids  # selects the first clip, which calls _set_frames
        if ids and self.sample.value != ids[0]:
            self.sample.value = ids[0]

    def _set_frames(self) -> None:
        seq, _ = self.current()
        self.frame.max = seq.num_frames - 1
        self.frame.value = min(self.frame.value, self.frame.max)
        self.redraw()

    def current(self):
        """The selected clip and its ``(T, J, 3)`` joint positions (cached)."""
        clip_id = self.sample.value
        if clip_id not in self._cache:
            seq = self.corpus.load(clip_id)
            self._cache[clip_id] = (seq, sequence_positions(seq)[0])
        return self._cache[clip_id]

    def figure(self):
        """The figure of the current language, clip and frame."""
        seq, pos = self.current()
        return plot_frame(seq, self.frame.value, pos)

    def redraw(self) -> None:
        if self.sample.value is None:
            return
        self.output.clear_output(wait=True)
        with self.output:
            fig = self.figure()
            plt.show()
            plt.close(fig)

    @property
    def widget(self):
        box = widgets.VBox([widgets.HBox([self.language, self.sample]), self.frame, self.output])
        box.add_class("signlib-explorer")  # a stable handle for browser tests and custom CSS
        return box

    def show(self, static: bool = False) -> None:
        """Display the explorer; with ``static`` also the current figure as a plain output."""
        self.redraw()
        display(self.widget)
        if static:
            fig = self.figure()
            display(fig)
            plt.close(fig)
