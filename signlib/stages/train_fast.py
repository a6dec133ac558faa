"""Stage ``train_fast``: train the segmenters of Table 1a and the Fig 4a ablation.

``python -m signlib.stages.train_fast``. Writes one model folder per segmenter under
``models/fast/`` (``fast``, ``single_stream``, ``bilstm``, ``ablation/<variant>``). Training windows
come from the continuous sentences of the training signers and, at a share of
``fast.dictionary_share``, from the isolated citation forms (slower, approached from rest), so the
same FAST later finds the sign inside each dictionary clip; a corpus without a dictionary trains on
sentences alone. The ablation trains each variant for more, smaller steps (half the batch): the
same compute reaches a more informative point than fewer full-size steps.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, replace

import numpy as np
import torch

from signlib.config import Params
from signlib.data.corpus import Corpus
from signlib.segment.evaluation import save_segmenter_card
from signlib.segment.fast import FAST, BiLSTMConfig, BiLSTMTagger, FASTConfig
from signlib.segment.training import SegClip, class_weights, make_loss, make_sampler, prepare
from signlib.stages.paths import Paths
from signlib.stages.training import run_main
from signlib.train import fit

STAGE = "fast"


@dataclass(frozen=True)
class Segmenter:
    """One trained segmenter: display name, folder under ``models/fast`` and config; ``ablation``
    marks the Fig 4a variants (ablation budget, half batch) as opposed to the Table 1a models."""

    name: str
    folder: str
    config: FASTConfig | BiLSTMConfig
    ablation: bool = False

    def build(self) -> torch.nn.Module:
        return FAST(self.config) if isinstance(self.config, FASTConfig) else BiLSTMTagger(self.config)

    def steps(self, params: Params) -> int:
        return params.sizes.ablation_steps if self.ablation else params.sizes.fast_steps


def segmenters(params: Params) -> list[Segmenter]:
    """Table 1a (FAST, its single-stream variant, the BiLSTM tagger) and the Fig 4a variants."""
    fast, cfg = params.fast.model, params.fast
    return [
        Segmenter("FAST", "fast", fast),
        Segmenter("FAST single stream", "single_stream", replace(fast, two_stream=False)),
        Segmenter("BiLSTM tagger", "bilstm", cfg.bilstm),
        Segmenter("FAST (ablation budget)", "ablation/fast", fast, True),
        Segmenter("+ 2x downsampling", "ablation/downsample", replace(fast, downsample=True), True),
        Segmenter("- temporal conv", "ablation/no_conv", replace(fast, temporal_conv=False), True),
        Segmenter("- dropout", "ablation/no_dropout", replace(fast, dropout=0.0), True),
        Segmenter("- two streams", "ablation/single_stream", replace(fast, two_stream=False), True),
    ]


def training_windows(params: Params) -> tuple[list[SegClip], list[SegClip], np.ndarray]:
    """``(sentence clips, citation clips, sampling weight per clip)`` of the training split."""
    paths = Paths(params.base)
    corpus = Corpus(paths.curated)
    sentences = prepare(corpus.load(c.id) for c in corpus.select("train"))
    citations = []
    if (paths.dictionary / "index.json").exists():
        dictionary = Corpus(paths.dictionary)
        citations = prepare(dictionary.load(c.id) for c in dictionary.clips)
    else:
        print("no isolated-sign dictionary: training windows come from sentences only", file=sys.stderr)
    share = params.fast.dictionary_share if citations else 0.0
    weights = np.r_[np.full(len(sentences), (1 - share) / len(sentences)),
                    np.full(len(citations), share / max(1, len(citations)))]
    return sentences, citations, weights


def main(params: Params) -> None:
    cfg = params.fast
    sentences, citations, weights = training_windows(params)
    clips = sentences + citations
    class_w = class_weights(sentences)
    print(f"{len(sentences)} training sentences + {len(citations)} citation forms; class weights O/I/B "
          f"{class_w.numpy().round(2)}", file=sys.stderr)
    for seg in segmenters(params):
        batch = cfg.train.batch_size // 2 if seg.ablation else cfg.train.batch_size
        optim = replace(cfg.train, batch_size=batch)
        torch.manual_seed(params.base.seed)  # every model starts from the seed's initial weights
        model = seg.build()
        folder = Paths(params.base).model(STAGE, seg.folder)
        ctc = cfg.ctc_weight if isinstance(seg.config, FASTConfig) else 0.0
        fit(model, make_loss(class_w, ctc), make_sampler(clips, batch, cfg.crop_frames, weights=weights),
            optim.schedule(seg.steps(params), params.base.seed, params.base.device), folder,
            model_info=seg.config.to_dict())
        save_segmenter_card(folder, model)


if __name__ == "__main__":
    sys.exit(run_main("train_fast", main))
