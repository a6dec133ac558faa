"""The configs of the Table 2 baselines (``params.yaml``: ``evaluate.regression``, ``evaluate.soke``,
``evaluate.signllm``), apart from the networks so that :mod:`signlib.config` reads them without
reaching network code."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from signlib import validate
from signlib.errors import SignlibError
from signlib.generate.configs import STANDARDISE, Text2GlossConfig, TextEncoderConfig
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


def _nested(owner, name: str, cls) -> None:
    """Turn the field ``name`` of ``owner`` from a dict (JSON) into ``cls``, or fail naming it."""
    value = getattr(owner, name)
    if isinstance(value, dict):
        try:
            object.__setattr__(owner, name, cls.from_dict(value) if hasattr(cls, "from_dict") else cls(**value))
        except (TypeError, SignlibError) as err:
            raise validate.InvalidValue(type(owner).__name__, name, value, f"is not a {cls.__name__} ({err})") from None
    validate.require(owner, name, isinstance(getattr(owner, name), cls), f"must be a {cls.__name__}")


@dataclass(frozen=True)
class SokeConfig:
    """The SOKE-style tokenised generator (``params.yaml``: ``evaluate.soke.model``): a decoupled
    VQ-VAE tokenizer (:mod:`signlib.baselines.tokenizer`) and a multi-head text-to-token transformer
    (:mod:`signlib.baselines.token_generator`); layout, length limit and frame rate come from the corpus."""

    layout: str = validate.from_data("rot6d")   # feature layout; D = get_layout(layout).dim
    max_frames: int = validate.from_data(512)   # longest clip; the decoder holds max_frames / 4 tokens
    fps: float = validate.from_data(25.0)
    retrieval: bool = validate.from_data(False)  # the retrieval-enhanced variant (set by the stage per model)
    tokenizer_width: int = 128      # channels of each part's convolutional encoder and decoder
    code_dim: int = 64              # dimension of a code vector
    crop_frames: int = 64           # tokenizer training windows (a multiple of the 4x downsampling)
    text: TextEncoderConfig = field(default_factory=TextEncoderConfig)
    d_model: int = 128              # decoder width
    layers: int = 2                 # decoder blocks
    heads: int = 4
    ff: int = 256
    lam: float = 1 / 3              # next input: (1 - 2 lam) E_body + lam E_left + lam E_right
    max_retrieved: int = 12         # retrieval: at most this many dictionary signs appended to the text

    def __post_init__(self):
        get_layout(self.layout)
        _nested(self, "text", TextEncoderConfig)
        validate.integers(self, ("max_frames", "tokenizer_width", "code_dim", "crop_frames", "d_model", "layers",
                                 "heads", "ff", "max_retrieved"))
        validate.require(self, "crop_frames", self.crop_frames % 4 == 0, "must be a multiple of 4 (the downsampling)")
        validate.require(self, "heads", self.d_model % self.heads == 0, f"must divide d_model={self.d_model}")
        validate.numbers(self, ("fps",), 1e-3)
        validate.numbers(self, ("lam",), 0.0, 0.5)
        validate.flag(self, ("retrieval",))

    @property
    def max_tokens(self) -> int:
        """Decoder positions: every token of the longest clip, plus the end token."""
        return -(-self.max_frames // 4) + 1

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @staticmethod
    def from_dict(d: dict) -> "SokeConfig":
        try:
            return SokeConfig(**d)
        except TypeError as err:
            raise SignlibError(f"not a SOKE config ({err})") from None


@dataclass(frozen=True)
class SignLLMConfig:
    """SignLLM's two modes, re-implemented from the paper's description (``params.yaml``:
    ``evaluate.signllm.model``): the pose decoder of both (a Progressive-Transformer-like
    :class:`~signlib.baselines.regression.ProgressiveTransformer`, the model SignLLM builds on), the
    prompt-to-gloss model of Prompt2LangGloss, and the reinforcement-style loss and priority
    learning channel (:mod:`signlib.baselines.signllm`)."""

    pose: RegressionConfig = field(default_factory=RegressionConfig)
    prompt: Text2GlossConfig = field(default_factory=Text2GlossConfig)
    rl_weight: float = 0.5          # beta: how far an item's weight moves with its advantage (0 = plain MSE)
    baseline_decay: float = 0.9     # EMA of the batch reward that advantages are measured against
    priority_alpha: float = 0.6     # sampling probability proportional to (priority + eps) ** alpha (0 = uniform)
    priority_eps: float = 0.05      # floor of every priority, so no item is never drawn again
    importance_beta: float = 0.4    # importance weights (N p_i) ** -beta undo part of the sampling bias

    def __post_init__(self):
        _nested(self, "pose", RegressionConfig)
        _nested(self, "prompt", Text2GlossConfig)
        validate.numbers(self, ("rl_weight", "priority_alpha", "importance_beta"), 0.0, 1.0)
        validate.numbers(self, ("baseline_decay",), 0.0, 1.0, high_open=True)
        validate.numbers(self, ("priority_eps",), 1e-9)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @staticmethod
    def from_dict(d: dict) -> "SignLLMConfig":
        try:
            return SignLLMConfig(**d)
        except TypeError as err:
            raise SignlibError(f"not a SignLLM config ({err})") from None
