"""The segmenters' configs (``params.yaml``: ``fast.model``, ``fast.bilstm``), apart from the
networks so that :mod:`signlib.config` reads them without reaching network code."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from signlib import validate

#: Features per hand stream (:func:`signlib.segment.features.hand_streams`).
HAND_FEATURES = 52


@dataclass(frozen=True)
class FASTConfig:
    """FAST's size and parts (``params.yaml``: ``fast.model``; the ablation switches parts off)."""

    in_features: int = validate.from_data(HAND_FEATURES)  # per hand, from the feature extractor
    d_model: int = 128            # transformer width
    layers: int = 2               # transformer layers
    heads: int = 4                # attention heads
    ff: int = 256                 # feed-forward width
    dropout: float = 0.1
    two_stream: bool = True       # False: one encoder over both hands concatenated
    temporal_conv: bool = True    # kernel-3 temporal convolution in the stream encoders
    downsample: bool = False      # 2× temporal downsampling around the transformer
    max_len: int = validate.from_data(2048)  # longest clip (frames) the position table covers

    def __post_init__(self):
        validate.integers(self, ("in_features", "d_model", "layers", "heads", "ff", "max_len"))
        validate.numbers(self, ("dropout",), 0.0, 1.0, high_open=True)
        validate.flag(self, ("two_stream", "temporal_conv", "downsample"))
        validate.require(self, "heads", self.d_model % self.heads == 0, f"must divide d_model={self.d_model}")

    def to_dict(self) -> dict:
        return {"model": "fast", **asdict(self)}


@dataclass(frozen=True)
class BiLSTMConfig:
    """The BiLSTM tagger baseline's size (``params.yaml``: ``fast.bilstm``)."""

    in_features: int = validate.from_data(HAND_FEATURES)  # per hand
    hidden: int = 128             # LSTM units per direction
    layers: int = 1
    dropout: float = 0.0          # between LSTM layers (only with layers > 1)

    def __post_init__(self):
        validate.integers(self, ("in_features", "hidden", "layers"))
        validate.numbers(self, ("dropout",), 0.0, 1.0, high_open=True)

    def to_dict(self) -> dict:
        return {"model": "bilstm", **asdict(self)}
