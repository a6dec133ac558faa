"""The regression baseline's config (``params.yaml``: ``evaluate.regression.model``), apart from
the network so that :mod:`signlib.config` reads it without reaching network code."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from signlib import validate
from signlib.errors import SignlibError
from signlib.generate.configs import STANDARDISE, TextEncoderConfig
from signlib.pose.layout import get_layout


@dataclass(frozen=True)
class RegressionConfig:
    """Size and training noise of a :class:`ProgressiveTransformer` (``params.yaml``:
    ``evaluate.regression.model``); layout, length limit and frame rate come from the corpus."""

    layout: str = validate.from_data("rot6d")   # feature layout; D = get_layout(layout).dim
    max_frames: int = validate.from_data(512)   # longest clip trained on and generated
    fps: float = validate.from_data(25.0)       # frame rate of the generated sequences
    text: TextEncoderConfig = field(default_factory=TextEncoderConfig)
    d_model: int = 128             # decoder width (the text tokens are projected to it if they differ)
    layers: int = 2                # decoder blocks
    heads: int = 4
    ff: int = 256
    dropout: float = 0.1           # residual dropout of the decoder
    input_noise: float = 0.6       # std of the noise on teacher-forced input frames (normalised units;
                                   # 0.6 beat 0, 0.1, 0.3 and 1.0 on the default corpus by DTW-JPE)
    counter_weight: float = 1.0    # weight of the counter's MSE (in frames, see regression_training.make_loss)
    standardise: str = "part"      # part | channel: feature scales, as the generator's

    def __post_init__(self):
        get_layout(self.layout)  # unknown layouts fail here, naming the known ones
        if isinstance(self.text, dict):  # from JSON
            try:
                object.__setattr__(self, "text", TextEncoderConfig(**self.text))
            except TypeError as err:  # an unknown or missing key
                raise validate.InvalidValue("RegressionConfig", "text", self.text, f"is not a text encoder config ({err})") from None
        validate.require(self, "text", isinstance(self.text, TextEncoderConfig), "must be a TextEncoderConfig")
        validate.integers(self, ("max_frames", "d_model", "layers", "heads", "ff"))
        validate.require(self, "heads", self.d_model % self.heads == 0, f"must divide d_model={self.d_model}")
        validate.numbers(self, ("fps",), 1e-3)
        validate.numbers(self, ("dropout",), 0.0, 1.0, high_open=True)
        validate.numbers(self, ("input_noise", "counter_weight"))
        validate.choice(self, "standardise", STANDARDISE)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @staticmethod
    def from_dict(d: dict) -> "RegressionConfig":
        try:
            return RegressionConfig(**d)
        except TypeError as err:  # unknown or missing keys
            raise SignlibError(f"not a regression config ({err})") from None
