"""The back-translation model's config (``params.yaml``: ``evaluate.backtranslation.model``), apart
from the network so that :mod:`signlib.config` reads it without reaching network code."""

from __future__ import annotations

from dataclasses import dataclass

from signlib import validate
from signlib.layers import EncoderDecoderSize
from signlib.pose.layout import get_layout


@dataclass(frozen=True)
class BackTranslationConfig(EncoderDecoderSize):
    """Size of a :class:`PoseToText` model (``params.yaml``: ``evaluate.backtranslation.model``); the
    layout (hence the feature dim) and the length limit come from the corpus."""

    layout: str = validate.from_data("rot6d")
    max_frames: int = validate.from_data(512)   # longest pose sequence accepted
    downsample: int = 8          # frames per encoder position (stride of the Conv1d front end); 8 beat 4
                                 # on the default corpus at equal training time (a sign spans ~10-20 frames)
    max_tokens: int = 32         # longest text in tokens, EOS included (the language token comes on top)
    tie_embeddings: bool = True  # output projection = input embedding (fewer free vectors per word)
    ctc_weight: float = 1.0      # weight of the auxiliary gloss CTC loss; needs gloss segments in the
                                 # training clips (0 = off, for a corpus without them)

    def __post_init__(self):
        get_layout(self.layout)
        self.check_size()
        validate.integers(self, ("max_frames", "downsample", "max_tokens"))
        validate.flag(self, ("tie_embeddings",))
        validate.numbers(self, ("ctc_weight",))

    @property
    def dim(self) -> int:
        return get_layout(self.layout).dim
