"""Stage ``train_realdata``: the SignSparK of the real-data check, trained on 16 real DGS sentences.

``python -m signlib.stages.train_realdata``. SignSparK needs training data in the layout it
generates (``xyz_mediapipe`` here) and the real-data folder has nothing else, so the
architecture of the ``signspark`` section is trained on the 16 real ``train_*`` sentences, with
the keyframes FAST (trained on the corpus) finds in them. Writes ``models/evaluate/realdata_signspark/``
with a ``skipped.json`` note instead when the folder is absent, ``evaluate.realdata`` is off, or FAST
finds no sign in any training sentence.
"""

from __future__ import annotations

import sys

from signlib.config import Params
from signlib.io import write_json
from signlib.segment.evaluation import load_segmenter
from signlib.stages.paths import Paths
from signlib.stages.realdata import load_real_sentences, training_clips
from signlib.stages.training import run_main
from signlib.stages.train_signspark import fit_signspark

STAGE, NAME = "evaluate", "realdata_signspark"


def main(params: Params) -> None:
    paths = Paths(params.base)
    folder = paths.model(STAGE, NAME)
    real = load_real_sentences(load_segmenter(paths.model("fast", "fast")), params.fast.decode) \
        if params.evaluate.realdata else []
    clips = training_clips(real)
    if not clips:
        why = "evaluate.realdata is off" if not params.evaluate.realdata else \
            "no real-data folder" if not real else "FAST found no sign in the real training sentences"
        print(f"real-data generator not trained: {why}", file=sys.stderr)
        write_json(folder / "skipped.json", {"skipped": why})
        return
    layout, fps = real[0].original.layout, real[0].original.fps
    fit_signspark(params, clips, layout, fps, folder, params.sizes.realdata_steps, data="dgs_fluent_sentences")


if __name__ == "__main__":
    sys.exit(run_main("train_realdata", main))
