"""The sample explorer follows its controls and draws the selected frame."""

import matplotlib.figure
import numpy as np

from signlib.data.corpus import write_corpus
from signlib.data.sequence import Sequence
from signlib.widgets.explorer import SampleExplorer


def _corpus(tmp_path):
    rng = np.random.default_rng(0)
    clips = []
    for lang, T in (("ASL", 12), ("DGS", 20)):
        for k in range(2):
            clips.append(Sequence(features=rng.normal(size=(T + k, 147)).astype(np.float32), layout="xyz_mediapipe",
                                  fps=25, segments=[(2, 6, "A")], text="a", language=lang, signer=f"{lang}{k}",
                                  id=f"{lang}_{k}"))
    return write_corpus(tmp_path, clips, {c.signer: "test" for c in clips})


def test_choosing_a_language_lists_its_clips_and_resets_the_frame_range(tmp_path):
    explorer = SampleExplorer(_corpus(tmp_path))
    assert list(explorer.sample.options) == ["ASL_0", "ASL_1"] and explorer.frame.max == 11
    explorer.language.value = "DGS"
    assert list(explorer.sample.options) == ["DGS_0", "DGS_1"]
    assert explorer.sample.value == "DGS_0" and explorer.frame.max == 19
    explorer.sample.value = "DGS_1"
    assert explorer.frame.max == 20


def test_figure_shows_the_selected_frame(tmp_path):
    explorer = SampleExplorer(_corpus(tmp_path))
    explorer.frame.value = 4
    fig = explorer.figure()
    assert "frame 4/11" in fig._suptitle.get_text() and "A" in fig._suptitle.get_text()
    assert len(fig.axes) == 3  # front, side, timeline


def test_static_show_puts_a_figure_in_the_output(tmp_path, capsys):
    shown = []
    import signlib.widgets.explorer as mod

    original = mod.display
    mod.display = shown.append
    try:
        SampleExplorer(_corpus(tmp_path)).show(static=True)
    finally:
        mod.display = original
    assert any(isinstance(x, matplotlib.figure.Figure) for x in shown)
